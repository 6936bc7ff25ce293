import { expect } from "chai";
import { adminToken, loginAs, newCustomer, uniqueEmail } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** Roles and permissions as data, over REST: who may do what, and who may change that. */
describe("roles and permissions over REST", function () {
	this.timeout(60_000);
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	const PASSWORD = "password123";

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db));
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
	});

	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	const permissionIds = async (...names: string[]): Promise<number[]> => {
		const res = await request("GET", "/api/admin/permissions", { token: admin });
		expect(res.status).to.equal(200);
		return names.map(n => {
			const p = (res.body.items as { id: number; name: string }[]).find(x => x.name === n);
			expect(p, n).to.not.equal(undefined);
			return p!.id;
		});
	};
	const newRole = async (name: string, permissions: string[], token = admin) => {
		const res = await request("POST", "/api/admin/roles", { token, body: { name, permissionIds: await permissionIds(...permissions) } });
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return res.body.role as { id: string; name: string; permissions: { id: number; name: string }[] };
	};
	const newUser = async (roleId: string | undefined, token = admin) => {
		const email = uniqueEmail("staff");
		const res = await request("POST", "/api/admin/users", { token, body: { email, password: PASSWORD, name: "Staff Member", roleId } });
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return { id: res.body.user.id as string, email, token: await loginAs(request, email, PASSWORD) };
	};
	const roleIdOf = async (name: string) => {
		const res = await request("GET", "/api/admin/roles", { token: admin });
		return (res.body.items as { id: string; name: string }[]).find(r => r.name === name)!.id;
	};

	it("seeds the Go service's permissions, the shop's, and the admin and customer roles", async () => {
		const perms = await request("GET", "/api/admin/permissions", { token: admin });
		const names = (perms.body.items as { name: string; builtin: boolean }[]).map(p => p.name);
		for (const n of [
			"profile.view",
			"profile.edit",
			"user.view",
			"user.store",
			"user.update",
			"user.delete",
			"role.delete",
			"permission.store",
			"product.store",
			"inventory.update",
			"order.view",
			"deadletter.update"
		]) {
			expect(names).to.include(n);
		}
		const roles = await request("GET", "/api/admin/roles", { token: admin });
		const admins = roles.body.items.find((r: { name: string }) => r.name === "admin");
		const customers = roles.body.items.find((r: { name: string }) => r.name === "customer");
		expect(admins).to.include({ builtin: true, allPermissions: true });
		expect(admins.permissions.map((p: { name: string }) => p.name)).to.have.members(names);
		expect(customers.permissions.map((p: { name: string }) => p.name)).to.have.members(["profile.view", "profile.edit"]);

		const me = await request("GET", "/api/auth/me", { token: (await newCustomer(request)).token });
		expect(me.body.user).to.include({ role: "customer" });
		expect(me.body.user.permissions).to.have.members(["profile.view", "profile.edit"]);
	});

	it("lets a role with inventory.update adjust stock, and answers 403 for creating a product", async () => {
		const role = await newRole("Stock keeper", ["inventory.update"]);
		const keeper = await newUser(role.id);
		const product = await checkoutSteps(request, () => admin).product(1500, 5, "Kept in stock");

		const adjusted = await request("POST", `/api/inventory/${product}/adjustments`, { token: keeper.token, body: { delta: 3, reason: "recount" } });
		expect(adjusted.status, JSON.stringify(adjusted.body)).to.equal(200);
		const created = await request("POST", "/api/products", {
			token: keeper.token,
			body: { sku: "KEEPER-1", name: "Not mine", priceCents: 100, category: "Test" }
		});
		expect(created.status).to.equal(403);
		expect(created.body).to.include({ type: "FORBIDDEN" });
		expect(created.body.data).to.deep.equal({ permission: "product.store" });
		// reading the ledger needs inventory.view, which the role does not hold
		expect((await request("GET", `/api/inventory/${product}/adjustments`, { token: keeper.token })).status).to.equal(403);
	});

	it("applies a change to a role's permissions, or to a user's role, at the next request", async () => {
		const role = await newRole("Auditor", ["user.view"]);
		const auditor = await newUser(role.id);
		expect((await request("GET", "/api/admin/roles", { token: auditor.token })).status).to.equal(403);
		// the gateway has kept the auditor's answer; the change reaches it by broadcast
		const granted = await request("PATCH", `/api/admin/roles/${role.id}`, {
			token: admin,
			body: { permissionIds: await permissionIds("user.view", "role.view") }
		});
		expect(granted.status, JSON.stringify(granted.body)).to.equal(200);
		await eventually(async () => expect((await request("GET", "/api/admin/roles", { token: auditor.token })).status).to.equal(200), 5000, 50);

		const demoted = await request("PATCH", `/api/admin/users/${auditor.id}`, { token: admin, body: { roleId: await roleIdOf("customer") } });
		expect(demoted.status).to.equal(200);
		expect(demoted.body.user).to.include({ role: "customer" });
		await eventually(async () => expect((await request("GET", "/api/admin/users", { token: auditor.token })).status).to.equal(403), 5000, 50);
	});

	it("lists users with search and pages, and reads one with their permissions", async () => {
		const tag = `needle${Date.now()}`;
		for (let i = 0; i < 3; i++) {
			const res = await request("POST", "/api/admin/users", {
				token: admin,
				body: { email: `${tag}.${i}@example.com`, password: PASSWORD, name: `Person ${i}` }
			});
			expect(res.status).to.equal(201);
		}
		const page1 = await request("GET", `/api/admin/users?search=${tag}&pageSize=2`, { token: admin });
		expect(page1.status).to.equal(200);
		expect(page1.body).to.include({ total: 3, page: 1, pageSize: 2 });
		expect(page1.body.items).to.have.length(2);
		const page2 = await request("GET", `/api/admin/users?search=${tag}&pageSize=2&page=2`, { token: admin });
		expect(page2.body.items).to.have.length(1);
		// a LIKE wildcard is a character, not "anything"
		expect((await request("GET", `/api/admin/users?search=%25`, { token: admin })).body.total).to.equal(0);

		const one = await request("GET", `/api/admin/users/${page2.body.items[0].id}`, { token: admin });
		expect(one.body.user).to.include({ role: "customer" });
		expect(one.body.user.permissions).to.have.members(["profile.view", "profile.edit"]);
		expect(JSON.stringify(one.body)).not.to.match(/password|\$2[aby]\$/i);
		expect((await request("GET", `/api/admin/users/not-a-uuid`, { token: admin })).status).to.equal(422);
		expect((await request("GET", `/api/admin/users/00000000-0000-4000-8000-000000000000`, { token: admin })).status).to.equal(404);
	});

	it("refuses escalation: nobody grants a role or permissions they do not hold themselves", async () => {
		const manager = await newUser((await newRole("User manager", ["user.view", "user.store", "user.update", "role.store", "role.update"])).id);
		const adminRole = await roleIdOf("admin");

		const makeAdmin = await request("POST", "/api/admin/users", {
			token: manager.token,
			body: { email: uniqueEmail(), password: PASSWORD, name: "Sneaky", roleId: adminRole }
		});
		expect(makeAdmin.status).to.equal(403);
		expect(makeAdmin.body.type).to.equal("PERMISSION_NOT_HELD");
		const selfPromote = await request("PATCH", `/api/admin/users/${manager.id}`, { token: manager.token, body: { roleId: adminRole } });
		expect(selfPromote.status).to.equal(403);
		const widerRole = await request("POST", "/api/admin/roles", {
			token: manager.token,
			body: { name: "Wider", permissionIds: await permissionIds("user.delete") }
		});
		expect(widerRole.status).to.equal(403);
		expect(widerRole.body.data.missing).to.deep.equal(["user.delete"]);
		// and nobody changes an account that holds more than they do (e.g. the admin's e-mail, then a reset)
		const adminId = (await request("GET", "/api/auth/me", { token: admin })).body.user.id;
		const takeover = await request("PATCH", `/api/admin/users/${adminId}`, { token: manager.token, body: { email: "mine@example.com" } });
		expect(takeover.status).to.equal(403);

		// within what they hold, it works
		const narrow = await request("POST", "/api/admin/roles", {
			token: manager.token,
			body: { name: "Viewer", permissionIds: await permissionIds("user.view") }
		});
		expect(narrow.status).to.equal(201);
		const hire = await request("POST", "/api/admin/users", {
			token: manager.token,
			body: { email: uniqueEmail(), password: PASSWORD, name: "Hire", roleId: narrow.body.role.id }
		});
		expect(hire.status).to.equal(201);
		expect(hire.body.user).to.include({ role: "Viewer" });
	});

	it("protects the built-in roles, roles in use, the last admin and built-in permissions", async () => {
		const adminRole = await roleIdOf("admin");
		const customerRole = await roleIdOf("customer");
		const del = await request("DELETE", `/api/admin/roles/${customerRole}`, { token: admin });
		expect(del.status).to.equal(409);
		expect(del.body.type).to.equal("ROLE_PROTECTED");
		expect((await request("PATCH", `/api/admin/roles/${adminRole}`, { token: admin, body: { name: "root" } })).body.type).to.equal("ROLE_PROTECTED");
		expect((await request("PATCH", `/api/admin/roles/${adminRole}`, { token: admin, body: { permissionIds: [] } })).body.type).to.equal("ROLE_PROTECTED");

		const used = await newRole("Packer", ["inventory.view"]);
		const packer = await newUser(used.id);
		const inUse = await request("DELETE", `/api/admin/roles/${used.id}`, { token: admin });
		expect(inUse.status).to.equal(409);
		expect(inUse.body).to.include({ type: "ROLE_IN_USE" });
		await request("PATCH", `/api/admin/users/${packer.id}`, { token: admin, body: { roleId: customerRole } });
		expect((await request("DELETE", `/api/admin/roles/${used.id}`, { token: admin })).status).to.equal(204);
		expect((await request("GET", `/api/admin/roles/${used.id}`, { token: admin })).status).to.equal(404);

		// the configured admin is the only one: they cannot lose the role, nor be deleted
		const adminId = (await request("GET", "/api/auth/me", { token: admin })).body.user.id;
		const lose = await request("PATCH", `/api/admin/users/${adminId}`, { token: admin, body: { roleId: customerRole } });
		expect(lose.status).to.equal(409);
		expect(lose.body.type).to.equal("LAST_ADMIN");
		expect((await request("DELETE", `/api/admin/users/${adminId}`, { token: admin })).body.type).to.equal("LAST_ADMIN");
		// with a second admin, the first may step down
		const second = await newUser(adminRole);
		expect((await request("PATCH", `/api/admin/users/${second.id}`, { token: admin, body: { roleId: customerRole } })).status).to.equal(200);

		const [productStore] = await permissionIds("product.store");
		expect((await request("DELETE", `/api/admin/permissions/${productStore}`, { token: admin })).body.type).to.equal("PERMISSION_PROTECTED");
		expect((await request("PATCH", `/api/admin/permissions/${productStore}`, { token: admin, body: { name: "product.view" } })).body.type).to.equal(
			"PERMISSION_PROTECTED"
		);
	});

	it("creates, renames and deletes a permission of the operator's own, which admin holds at once", async () => {
		const created = await request("POST", "/api/admin/permissions", { token: admin, body: { name: "report.view" } });
		expect(created.status).to.equal(201);
		const id = created.body.permission.id as number;
		expect(created.body.permission).to.deep.equal({ id, name: "report.view", builtin: false });
		expect((await request("POST", "/api/admin/permissions", { token: admin, body: { name: "report.view" } })).body.type).to.equal("PERMISSION_NAME_TAKEN");
		for (const bad of ["report", "Report.view", "report.read", "report.view.all", "a".repeat(70) + ".view"]) {
			const res = await request("POST", "/api/admin/permissions", { token: admin, body: { name: bad } });
			expect(res.status, bad).to.equal(422);
		}
		await eventually(
			async () => expect((await request("GET", "/api/auth/me", { token: admin })).body.user.permissions).to.include("report.view"),
			5000,
			50
		);
		const renamed = await request("PATCH", `/api/admin/permissions/${id}`, { token: admin, body: { name: "report.store" } });
		expect(renamed.body.permission).to.include({ name: "report.store" });
		expect((await request("DELETE", `/api/admin/permissions/${id}`, { token: admin })).status).to.equal(204);
		expect((await request("GET", `/api/admin/permissions/${id}`, { token: admin })).status).to.equal(404);
		expect((await request("GET", `/api/admin/permissions/abc`, { token: admin })).status).to.equal(422);
	});

	it("answers clear 4xx for unknown ids, taken names and bad input", async () => {
		const ghost = "00000000-0000-4000-8000-000000000000";
		const unknownRole = await request("POST", "/api/admin/users", {
			token: admin,
			body: { email: uniqueEmail(), password: PASSWORD, name: "X", roleId: ghost }
		});
		expect(unknownRole.status).to.equal(422);
		const unknownPermission = await request("POST", "/api/admin/roles", { token: admin, body: { name: "Ghostly", permissionIds: [987654321] } });
		expect(unknownPermission.status).to.equal(422);
		await newRole("Unique name", []);
		const taken = await request("POST", "/api/admin/roles", { token: admin, body: { name: "UNIQUE NAME" } });
		expect(taken.status).to.equal(409);
		expect(taken.body.type).to.equal("ROLE_NAME_TAKEN");
		const short = await request("POST", "/api/admin/users", { token: admin, body: { email: uniqueEmail(), password: "short", name: "X" } });
		expect(short.status).to.equal(422);
		const existing = await newCustomer(request);
		const dupe = await request("POST", "/api/admin/users", { token: admin, body: { email: existing.email, password: PASSWORD, name: "X" } });
		expect(dupe.status).to.equal(409);
		expect(dupe.body.type).to.equal("EMAIL_TAKEN");
		for (const path of ["/api/admin/users", "/api/admin/roles", "/api/admin/permissions"]) {
			expect((await request("GET", path)).status, path).to.equal(401);
			expect((await request("GET", path, { token: existing.token })).status, path).to.equal(403);
		}
	});

	it("deletes an account for good: no sign-in, its tokens stop, its orders stay in the books", async () => {
		const shopper = await newCustomer(request);
		const steps = checkoutSteps(request, () => admin);
		const product = await steps.product(900, 5, "Kept in the books");
		await steps.addToCart(shopper.token, product, 1);
		const placed = await steps.placeOrder(shopper.token);
		const orderId = placed.body.order.id as string;
		await steps.settled(shopper.token, orderId);
		const refresh = (await request("POST", "/api/auth/login", { body: { email: shopper.email, password: PASSWORD } })).body.refreshToken;

		expect((await request("DELETE", `/api/admin/users/${shopper.id}`, { token: admin })).status).to.equal(204);
		expect((await request("GET", "/api/auth/me", { token: shopper.token })).status).to.equal(401);
		expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: refresh } })).status).to.equal(401);
		expect((await request("POST", "/api/auth/login", { body: { email: shopper.email, password: PASSWORD } })).status).to.equal(401);
		expect((await request("GET", `/api/admin/users/${shopper.id}`, { token: admin })).status).to.equal(404);
		const order = await request("GET", `/api/orders/${orderId}`, { token: admin });
		expect(order.status).to.equal(200);
		expect(order.body.order.userId).to.equal(shopper.id);
	});
});
