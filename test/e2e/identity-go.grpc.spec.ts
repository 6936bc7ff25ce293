import * as grpc from "@grpc/grpc-js";
import { expect } from "chai";
import { loadSharedIdentityProto } from "../../services/identity/identity-grpc.service";
import { adminToken, loginAs, newCustomer, uniqueEmail } from "../support/auth";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/**
 * The Go identity service's contract (`shared.IdentityService`, proto/shared-identity.proto), called as one
 * of that service's clients would: a real grpc-js client over the wire, with a Bearer token in metadata.
 */

interface User {
	id: string;
	name: string;
	email: string;
	role: string;
	created_at: string;
}
interface Permission {
	id: string;
	name: string;
}
interface Role {
	id: string;
	name: string;
	permissions?: Permission[];
}

const METHODS = [
	"GetUsers",
	"GetUser",
	"StoreUser",
	"UpdateUser",
	"DeleteUser",
	"GetRoles",
	"GetRole",
	"StoreRole",
	"UpdateRole",
	"DeleteRole",
	"GetPermissions",
	"GetPermission",
	"StorePermission",
	"UpdatePermission",
	"DeletePermission"
] as const;
type Method = (typeof METHODS)[number];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = Record<Method, (req: object, token?: string) => Promise<any>>;

function connect(port: number): { client: Client; close: () => void } {
	const { shared } = loadSharedIdentityProto() as unknown as { shared: { IdentityService: grpc.ServiceClientConstructor } };
	const raw = new shared.IdentityService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
	const client = {} as Client;
	for (const method of METHODS) {
		client[method] = (req, token) =>
			new Promise((resolve, reject) => {
				const metadata = new grpc.Metadata();
				if (token) metadata.set("authorization", `Bearer ${token}`);
				const fn = raw[method] as (
					req: object,
					md: grpc.Metadata,
					opts: grpc.CallOptions,
					cb: (err: grpc.ServiceError | null, res: unknown) => void
				) => void;
				fn.call(raw, req, metadata, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
			});
	}
	return { client, close: () => raw.close() };
}

async function statusOf(call: Promise<unknown>): Promise<{ code: string; type?: string }> {
	try {
		await call;
	} catch (err) {
		const e = err as grpc.ServiceError;
		expect(e.code).to.be.a("number");
		return { code: grpc.status[e.code], type: e.metadata?.get("error-type")[0] as string | undefined };
	}
	expect.fail("expected the call to fail");
}

const PASSWORD = "correct horse battery";
const GO_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

describe("the Go identity service's contract over gRPC (shared.IdentityService)", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let client: Client;
	let close: (() => void) | undefined;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let permissionId: (name: string) => Promise<string>;

	before(async function () {
		this.timeout(120_000);
		db = await createTestDatabase();
		shop = await startShop(testConfig(db));
		({ client, close } = connect(shop.grpcPort));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		permissionId = async name => {
			const { permissions } = await client.GetPermissions({}, admin);
			const p = (permissions as Permission[]).find(x => x.name === name);
			expect(p, name).to.not.equal(undefined);
			return p!.id;
		};
	});

	after(async () => {
		close?.();
		await shop?.stop();
		await db?.drop();
	});

	it("serves every RPC of the contract on the same port as momentum.identity.v1", async () => {
		const { shared } = loadSharedIdentityProto() as unknown as { shared: { IdentityService: { service: Record<string, { path: string }> } } };
		expect(Object.values(shared.IdentityService.service).map(m => m.path)).to.have.members(METHODS.map(m => `/shared.IdentityService/${m}`));
		// every one answers (UNAUTHENTICATED without a token), none is UNIMPLEMENTED
		for (const method of METHODS) expect((await statusOf(client[method]({}))).code, method).to.equal("UNAUTHENTICATED");
	});

	it("manages users: store, get, list, update, delete, with the Go service's field meanings", async () => {
		const email = uniqueEmail("go");
		const { user } = await client.StoreUser({ name: "Go Client", email, password: PASSWORD }, admin);
		expect(user).to.include({ name: "Go Client", email, role: "customer" });
		expect(user.created_at).to.match(GO_TIME);

		const got = await client.GetUser({ id: user.id }, admin);
		expect(got).to.include({ name: "Go Client", email, role: "customer", created_at: user.created_at });
		expect(got.role_id).to.match(/^[0-9a-f-]{36}$/);
		expect(got.permissions).to.have.members(["profile.view", "profile.edit"]);

		const { users } = await client.GetUsers({}, admin);
		expect((users as User[]).map(u => u.email)).to.include(email);

		const updated = await client.UpdateUser({ id: user.id, name: "Renamed" }, admin);
		// a field left out stays as it was
		expect(updated.user).to.include({ name: "Renamed", email, role: "customer" });

		expect(await client.DeleteUser({ id: user.id }, admin)).to.deep.equal({ success: true });
		expect((await statusOf(client.GetUser({ id: user.id }, admin))).code).to.equal("NOT_FOUND");
		expect((await request("POST", "/api/auth/login", { body: { email, password: PASSWORD } })).status).to.equal(401);
	});

	it("lets a user read themselves with profile.view, and nobody else without user.view", async () => {
		const me = await newCustomer(request);
		const other = await newCustomer(request);
		expect((await client.GetUser({ id: me.id }, me.token)).email).to.equal(me.email);
		expect((await statusOf(client.GetUser({ id: other.id }, me.token))).code).to.equal("PERMISSION_DENIED");
		expect((await statusOf(client.GetUsers({}, me.token))).code).to.equal("PERMISSION_DENIED");
		expect((await statusOf(client.StoreUser({ name: "x", email: uniqueEmail(), password: PASSWORD }, me.token))).code).to.equal("PERMISSION_DENIED");
		expect((await statusOf(client.GetUser({ id: me.id }, "not-a-token"))).code).to.equal("UNAUTHENTICATED");
	});

	it("manages roles and permissions", async () => {
		const { permission } = await client.StorePermission({ name: "report.view" }, admin);
		expect(permission.name).to.equal("report.view");
		expect(await client.GetPermission({ id: permission.id }, admin)).to.deep.equal({ permission });
		const renamed = await client.UpdatePermission({ id: permission.id, name: "report.update" }, admin);
		expect(renamed.permission).to.deep.equal({ id: permission.id, name: "report.update" });

		const view = await permissionId("inventory.view");
		const { role } = await client.StoreRole({ name: "Reporter", permission_ids: [permission.id, view] }, admin);
		expect((role.permissions as Permission[]).map(p => p.name)).to.have.members(["report.update", "inventory.view"]);
		const fetched = await client.GetRole({ id: role.id }, admin);
		expect(fetched.role).to.deep.equal(role);
		expect(fetched.permissions).to.deep.equal(role.permissions);
		expect((await client.GetRoles({}, admin)).roles.map((r: Role) => r.name)).to.include.members(["admin", "customer", "Reporter"]);

		// a name alone leaves the permissions; a list replaces them
		const onlyName = await client.UpdateRole({ id: role.id, name: "Reports" }, admin);
		expect(onlyName.role.name).to.equal("Reports");
		expect(onlyName.role.permissions).to.have.length(2);
		const narrowed = await client.UpdateRole({ id: role.id, permission_ids: [view] }, admin);
		expect((narrowed.role.permissions as Permission[]).map(p => p.name)).to.deep.equal(["inventory.view"]);

		expect(await client.DeleteRole({ id: role.id }, admin)).to.deep.equal({ success: true });
		expect(await client.DeletePermission({ id: permission.id }, admin)).to.deep.equal({ success: true });
		expect((await statusOf(client.GetRole({ id: role.id }, admin))).code).to.equal("NOT_FOUND");
		expect((await statusOf(client.GetPermission({ id: permission.id }, admin))).code).to.equal("NOT_FOUND");
	});

	it("answers ALREADY_EXISTS, INVALID_ARGUMENT and FAILED_PRECONDITION as the contract says", async () => {
		const taken = await newCustomer(request);
		const s = (p: Promise<unknown>) => statusOf(p);
		expect((await s(client.StoreUser({ name: "x", email: taken.email, password: PASSWORD }, admin))).code).to.equal("ALREADY_EXISTS");
		expect((await s(client.StoreRole({ name: "customer" }, admin))).code).to.equal("ALREADY_EXISTS");
		expect((await s(client.StorePermission({ name: "user.view" }, admin))).code).to.equal("ALREADY_EXISTS");

		expect((await s(client.StoreUser({ name: "x", email: "not-an-email", password: PASSWORD }, admin))).code).to.equal("INVALID_ARGUMENT");
		expect((await s(client.StoreUser({ name: "x", email: uniqueEmail(), password: "short" }, admin))).code).to.equal("INVALID_ARGUMENT");
		expect(
			(await s(client.StoreUser({ name: "x", email: uniqueEmail(), password: PASSWORD, role_id: "00000000-0000-4000-8000-000000000000" }, admin))).code
		).to.equal("INVALID_ARGUMENT");
		expect((await s(client.StoreRole({ name: "Ghost", permission_ids: ["987654321"] }, admin))).code).to.equal("INVALID_ARGUMENT");
		expect((await s(client.StoreRole({ name: "Ghost", permission_ids: ["abc"] }, admin))).code).to.equal("INVALID_ARGUMENT");
		expect((await s(client.StorePermission({ name: "not a name" }, admin))).code).to.equal("INVALID_ARGUMENT");
		expect((await s(client.GetUser({ id: "not-a-uuid" }, admin))).code).to.equal("INVALID_ARGUMENT");

		const roles = (await client.GetRoles({}, admin)).roles as Role[];
		const adminRole = roles.find(r => r.name === "admin")!;
		const customerRole = roles.find(r => r.name === "customer")!;
		expect(await s(client.DeleteRole({ id: customerRole.id }, admin))).to.deep.equal({ code: "FAILED_PRECONDITION", type: "ROLE_PROTECTED" });
		expect(await s(client.UpdateRole({ id: adminRole.id, name: "root" }, admin))).to.deep.equal({ code: "FAILED_PRECONDITION", type: "ROLE_PROTECTED" });
		const held = await client.StoreRole({ name: "Held" }, admin);
		await client.StoreUser({ name: "Holder", email: uniqueEmail(), password: PASSWORD, role_id: held.role.id }, admin);
		expect(await s(client.DeleteRole({ id: held.role.id }, admin))).to.deep.equal({ code: "FAILED_PRECONDITION", type: "ROLE_IN_USE" });
		const adminId = (await request("GET", "/api/auth/me", { token: admin })).body.user.id;
		expect(await s(client.UpdateUser({ id: adminId, role_id: customerRole.id }, admin))).to.deep.equal({ code: "FAILED_PRECONDITION", type: "LAST_ADMIN" });
		expect(await s(client.DeleteUser({ id: adminId }, admin))).to.deep.equal({ code: "FAILED_PRECONDITION", type: "LAST_ADMIN" });
		expect(await s(client.DeletePermission({ id: await permissionId("product.store") }, admin))).to.deep.equal({
			code: "FAILED_PRECONDITION",
			type: "PERMISSION_PROTECTED"
		});
	});

	it("refuses escalation: PERMISSION_DENIED for granting what the caller does not hold", async () => {
		const { role } = await client.StoreRole(
			{ name: "Hiring", permission_ids: [await permissionId("user.store"), await permissionId("role.store")] },
			admin
		);
		const email = uniqueEmail("hr");
		await client.StoreUser({ name: "HR", email, password: PASSWORD, role_id: role.id }, admin);
		const hr = await loginAs(request, email, PASSWORD);
		const adminRole = ((await client.GetRoles({}, admin)).roles as Role[]).find(r => r.name === "admin")!;
		expect(await statusOf(client.StoreUser({ name: "x", email: uniqueEmail(), password: PASSWORD, role_id: adminRole.id }, hr))).to.deep.equal({
			code: "PERMISSION_DENIED",
			type: "PERMISSION_NOT_HELD"
		});
		expect((await statusOf(client.StoreRole({ name: "Bigger", permission_ids: [await permissionId("user.delete")] }, hr))).code).to.equal(
			"PERMISSION_DENIED"
		);
		// within what they hold, it works
		const ok = await client.StoreUser({ name: "Hire", email: uniqueEmail(), password: PASSWORD, role_id: role.id }, hr);
		expect(ok.user.role).to.equal("Hiring");
	});

	it("makes a permission granted or revoked over gRPC take effect at the REST gateway", async () => {
		const { role } = await client.StoreRole({ name: "Catalog editor" }, admin);
		const email = uniqueEmail("editor");
		await client.StoreUser({ name: "Editor", email, password: PASSWORD, role_id: role.id }, admin);
		const editor = await loginAs(request, email, PASSWORD);
		const create = (sku: string) =>
			request("POST", "/api/products", { token: editor, body: { sku, name: "Made by an editor", priceCents: 500, category: "Test" } });
		expect((await create("EDIT-0")).status).to.equal(403);

		await client.UpdateRole({ id: role.id, permission_ids: [await permissionId("product.store")] }, admin);
		await eventually(async () => expect((await create(`EDIT-${Date.now()}`)).status).to.equal(201), 5000, 50);

		// revoked over gRPC: the set is replaced by one without product.store
		await client.UpdateRole({ id: role.id, permission_ids: [await permissionId("product.update")] }, admin);
		await eventually(async () => expect((await create(`EDIT-${Date.now()}`)).status).to.equal(403), 5000, 50);

		// only REST can empty a set (proto3 cannot tell an empty list from none)
		const emptied = await request("PATCH", `/api/admin/roles/${role.id}`, { token: admin, body: { permissionIds: [] } });
		expect(emptied.body.role.permissions).to.deep.equal([]);
	});
});
