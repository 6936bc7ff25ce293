import crypto from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { expect } from "chai";
import { loadIdentityProto } from "../../services/identity/identity-grpc.service";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { TEST_ADMIN } from "../support/auth";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

/** The identity gRPC contract, exercised like a client in another language would: over the wire. */

interface GrpcUser {
	id: string;
	email: string;
	name: string;
	roles: string[];
	phone: string;
	created_at: string;
}
interface TokenResponse {
	access_token: string;
	refresh_token: string;
	token_type: string;
	expires_in: number;
	user: GrpcUser | null;
}

/** A call, optionally with the caller's access token as `authorization: Bearer` metadata. */
type Unary<Req, Res> = (req: Req, accessToken?: string) => Promise<Res>;
interface IdentityClient {
	Register: Unary<{ email: string; password: string; name: string; phone?: string }, { user: GrpcUser }>;
	Login: Unary<{ email: string; password: string }, TokenResponse>;
	RefreshToken: Unary<{ refresh_token: string }, TokenResponse>;
	ValidateToken: Unary<{ token: string }, { valid: boolean; user: GrpcUser | null }>;
	GetUser: Unary<{ id: string }, { user: GrpcUser }>;
}

const METHODS = ["Register", "Login", "RefreshToken", "ValidateToken", "GetUser"] as const;

function connect(port: number): { client: IdentityClient; close: () => void } {
	const proto = loadIdentityProto() as unknown as { momentum: { identity: { v1: { IdentityService: grpc.ServiceClientConstructor } } } };
	const raw = new proto.momentum.identity.v1.IdentityService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
	const client = {} as Record<string, Unary<object, unknown>>;
	for (const method of METHODS) {
		client[method] = (req, accessToken) =>
			new Promise((resolve, reject) => {
				const metadata = new grpc.Metadata();
				if (accessToken) metadata.set("authorization", `Bearer ${accessToken}`);
				const raw4 = raw[method] as (
					req: object,
					md: grpc.Metadata,
					opts: grpc.CallOptions,
					cb: (err: grpc.ServiceError | null, res: unknown) => void
				) => void;
				raw4.call(raw, req, metadata, { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res)));
			});
	}
	return { client: client as unknown as IdentityClient, close: () => raw.close() };
}

/** The gRPC error a call fails with (fails the test when it succeeds). */
async function grpcError(call: Promise<unknown>): Promise<grpc.ServiceError> {
	try {
		await call;
	} catch (err) {
		expect(err).to.have.property("code").that.is.a("number");
		return err as grpc.ServiceError;
	}
	expect.fail("expected the call to fail");
}

const statusName = (code: number) => grpc.status[code];

const uniqueEmail = (prefix = "user") => `${prefix}-${crypto.randomBytes(4).toString("hex")}@example.com`;
const PASSWORD = "correct horse battery";

describe("identity over gRPC", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let client: IdentityClient;
	let close: (() => void) | undefined;

	before(async function () {
		this.timeout(120_000);
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "identity,gateway" }));
		expect(shop.grpcPort).to.be.greaterThan(0);
		({ client, close } = connect(shop.grpcPort));
	});

	after(async function () {
		this.timeout(60_000);
		close?.();
		await shop?.stop();
		await db?.drop();
	});

	async function register(email = uniqueEmail(), name = "Ana Souza") {
		const { user } = await client.Register({ email, password: PASSWORD, name });
		return user;
	}

	describe("Register", () => {
		it("creates a customer and answers the user with snake_case fields", async () => {
			const email = uniqueEmail("ana");
			const before = Date.now();
			const { user } = await client.Register({ email, password: PASSWORD, name: "Ana Souza", phone: "+5511987654321" });
			expect(user.id).to.match(/^[0-9a-f-]{36}$/);
			expect(user.email).to.equal(email);
			expect(user.name).to.equal("Ana Souza");
			expect(user.roles).to.deep.equal(["customer"]);
			expect(user.phone).to.equal("+5511987654321");
			expect(user).to.have.property("created_at");
			expect(user).to.not.have.property("createdAt");
			expect(Date.parse(user.created_at)).to.be.within(before - 60_000, Date.now() + 60_000);
			expect(JSON.stringify(user)).to.not.include(PASSWORD);
		});

		it("answers an empty phone when none was given", async () => {
			const user = await register();
			expect(user.phone).to.equal("");
		});

		it("answers ALREADY_EXISTS for an e-mail already taken, whatever its case", async () => {
			const email = uniqueEmail("dup");
			await register(email);
			const err = await grpcError(client.Register({ email: email.toUpperCase(), password: PASSWORD, name: "Someone Else" }));
			expect(statusName(err.code)).to.equal("ALREADY_EXISTS");
			expect(err.metadata.get("error-type")).to.deep.equal(["EMAIL_TAKEN"]);
		});

		it("answers INVALID_ARGUMENT for a malformed e-mail", async () => {
			const err = await grpcError(client.Register({ email: "not-an-email", password: PASSWORD, name: "Ana" }));
			expect(statusName(err.code)).to.equal("INVALID_ARGUMENT");
			expect(err.metadata.get("error-type")).to.deep.equal(["VALIDATION_ERROR"]);
		});

		it("answers INVALID_ARGUMENT for a 3-character password", async () => {
			const err = await grpcError(client.Register({ email: uniqueEmail(), password: "abc", name: "Ana" }));
			expect(statusName(err.code)).to.equal("INVALID_ARGUMENT");
			expect(err.metadata.get("error-type")).to.deep.equal(["VALIDATION_ERROR"]);
			expect(err.details).to.contain("'password'");
		});
	});

	describe("Login", () => {
		it("answers a Bearer token pair and the user", async () => {
			const email = uniqueEmail("login");
			const registered = await register(email);
			const res = await client.Login({ email, password: PASSWORD });
			expect(res.access_token).to.be.a("string").and.not.equal("");
			expect(res.refresh_token).to.be.a("string").and.not.equal("");
			expect(res.access_token).to.not.equal(res.refresh_token);
			expect(res.token_type).to.equal("Bearer");
			expect(res.expires_in).to.be.a("number").and.greaterThan(0);
			expect(res.user).to.deep.include({ id: registered.id, email, roles: ["customer"] });
		});

		it("accepts the e-mail in any case", async () => {
			const email = uniqueEmail("case");
			await register(email);
			const res = await client.Login({ email: email.toUpperCase(), password: PASSWORD });
			expect(res.user?.email).to.equal(email);
		});

		it("answers UNAUTHENTICATED for a wrong password", async () => {
			const email = uniqueEmail("wrong");
			await register(email);
			const err = await grpcError(client.Login({ email, password: PASSWORD + "!" }));
			expect(statusName(err.code)).to.equal("UNAUTHENTICATED");
		});

		it("answers UNAUTHENTICATED for an unknown e-mail", async () => {
			const err = await grpcError(client.Login({ email: uniqueEmail("nobody"), password: PASSWORD }));
			expect(statusName(err.code)).to.equal("UNAUTHENTICATED");
		});
	});

	describe("ValidateToken", () => {
		it("accepts an access token issued by the REST login and names its user", async () => {
			const email = uniqueEmail("rest");
			const registered = await register(email);
			const http = httpClient(shop.baseUrl);
			const login = await http<{ accessToken: string }>("POST", "/api/auth/login", { body: { email, password: PASSWORD } });
			expect(login.status).to.equal(200);

			const res = await client.ValidateToken({ token: login.body.accessToken });
			expect(res.valid).to.equal(true);
			expect(res.user).to.deep.include({ id: registered.id, email, roles: ["customer"] });
		});

		it("answers valid false for garbage", async () => {
			const res = await client.ValidateToken({ token: "garbage.not.ajwt" });
			expect(res.valid).to.equal(false);
			expect(res.user).to.equal(null);
		});

		it("answers valid false for a tampered token", async () => {
			const email = uniqueEmail("tamper");
			await register(email);
			const { access_token } = await client.Login({ email, password: PASSWORD });
			const [header, payload, signature] = access_token.split(".");
			const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
			const forged = Buffer.from(JSON.stringify({ ...claims, roles: ["customer", "admin"] })).toString("base64url");
			const res = await client.ValidateToken({ token: `${header}.${forged}.${signature}` });
			expect(res.valid).to.equal(false);
		});
	});

	describe("RefreshToken", () => {
		it("rotates the refresh token, and the old one no longer works", async () => {
			const email = uniqueEmail("refresh");
			await register(email);
			const first = await client.Login({ email, password: PASSWORD });

			const second = await client.RefreshToken({ refresh_token: first.refresh_token });
			expect(second.refresh_token).to.be.a("string").and.not.equal("");
			expect(second.refresh_token).to.not.equal(first.refresh_token);
			expect(second.token_type).to.equal("Bearer");
			expect(second.expires_in).to.be.greaterThan(0);
			expect((await client.ValidateToken({ token: second.access_token })).valid).to.equal(true);

			const reuse = await grpcError(client.RefreshToken({ refresh_token: first.refresh_token }));
			expect(statusName(reuse.code)).to.equal("UNAUTHENTICATED");
		});

		it("answers UNAUTHENTICATED for an unknown refresh token", async () => {
			const err = await grpcError(client.RefreshToken({ refresh_token: crypto.randomBytes(32).toString("base64url") }));
			expect(statusName(err.code)).to.equal("UNAUTHENTICATED");
		});
	});

	describe("GetUser", () => {
		/** A new user and their access token. */
		async function signedIn(name = "Bruno Lima") {
			const email = uniqueEmail("get");
			const user = await register(email, name);
			const { access_token } = await client.Login({ email, password: PASSWORD });
			return { user, token: access_token };
		}
		const adminToken = async () => (await client.Login({ email: TEST_ADMIN.email, password: TEST_ADMIN.password })).access_token;

		it("answers the caller's own user", async () => {
			const { user: registered, token } = await signedIn();
			const { user } = await client.GetUser({ id: registered.id }, token);
			expect(user).to.deep.equal(registered);
		});

		it("answers UNAUTHENTICATED without an access token, with e-mail and phone kept back", async () => {
			const { user } = await signedIn();
			const err = await grpcError(client.GetUser({ id: user.id }));
			expect(statusName(err.code)).to.equal("UNAUTHENTICATED");
			expect(err.details).to.not.include(user.email);
		});

		it("answers UNAUTHENTICATED for a forged or ended token", async () => {
			const { user, token } = await signedIn();
			expect(statusName((await grpcError(client.GetUser({ id: user.id }, token + "x"))).code)).to.equal("UNAUTHENTICATED");
			const res = await fetch(`${shop.baseUrl}/api/auth/logout`, {
				method: "POST",
				headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
				body: JSON.stringify({ refreshToken: "none" })
			});
			expect(res.status).to.equal(204);
			expect(statusName((await grpcError(client.GetUser({ id: user.id }, token))).code)).to.equal("UNAUTHENTICATED");
		});

		it("answers PERMISSION_DENIED for another user's id, and an admin anyone's", async () => {
			const a = await signedIn("Ana");
			const b = await signedIn("Bia");
			const err = await grpcError(client.GetUser({ id: b.user.id }, a.token));
			expect(statusName(err.code)).to.equal("PERMISSION_DENIED");
			expect(err.details).to.not.include(b.user.email);
			expect((await client.GetUser({ id: b.user.id }, await adminToken())).user).to.deep.equal(b.user);
		});

		it("answers NOT_FOUND for an unknown id (to an admin)", async () => {
			const err = await grpcError(client.GetUser({ id: crypto.randomUUID() }, await adminToken()));
			expect(statusName(err.code)).to.equal("NOT_FOUND");
		});

		it("answers INVALID_ARGUMENT for an id that is not a uuid (to an admin)", async () => {
			const err = await grpcError(client.GetUser({ id: "not-a-uuid" }, await adminToken()));
			expect(statusName(err.code)).to.equal("INVALID_ARGUMENT");
		});
	});
});
