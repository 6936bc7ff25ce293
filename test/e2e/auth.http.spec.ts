import { expect } from "chai";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";

describe("REST auth through the gateway", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let seq = 0;
	const email = () => `user${++seq}.${Date.now()}@example.com`;

	const register = (body: object) => request("POST", "/api/auth/register", { body });
	const login = (e: string, password: string) => request("POST", "/api/auth/login", { body: { email: e, password } });

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(
			testConfig(db, { SERVICES: "gateway,identity", LOGIN_MAX_FAILURES: "3", ADMIN_EMAIL: "root@example.com", ADMIN_PASSWORD: "root-password" })
		);
		request = httpClient(shop.baseUrl);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	describe("register", () => {
		it("creates a customer and never returns the password or its hash", async () => {
			const res = await register({ email: "  Mixed.Case@Example.COM ", password: "correct horse", name: " Ana ", phone: "+5511987654321" });
			expect(res.status).to.equal(201);
			expect(res.body.user).to.include({ email: "mixed.case@example.com", name: "Ana", phone: "+5511987654321" });
			expect(res.body.user.role).to.equal("customer");
			expect(res.body.user.id).to.match(/^[0-9a-f-]{36}$/);
			expect(JSON.stringify(res.body)).not.to.match(/correct horse|password|\$2[aby]\$/i);
		});

		it("ignores roles sent by the client: nobody makes themselves admin", async () => {
			const res = await register({
				email: email(),
				password: "password123",
				name: "Mallory",
				roles: ["admin"],
				id: "00000000-0000-0000-0000-000000000000"
			});
			expect(res.status).to.equal(201);
			expect(res.body.user.role).to.equal("customer");
			expect(res.body.user.id).not.to.equal("00000000-0000-0000-0000-000000000000");
		});

		it("answers 409 for an e-mail already taken, whatever its case", async () => {
			const e = email();
			expect((await register({ email: e, password: "password123", name: "First" })).status).to.equal(201);
			const res = await register({ email: e.toUpperCase(), password: "password123", name: "Second" });
			expect(res.status).to.equal(409);
			expect(res.body).to.include({ type: "EMAIL_TAKEN", code: 409 });
		});

		it("answers 422 naming every field at fault", async () => {
			const res = await register({ email: "not-an-email", password: "short", phone: "12345" });
			expect(res.status).to.equal(422);
			expect(res.body.type).to.equal("VALIDATION_ERROR");
			const fields = res.body.data.map((p: { field: string }) => p.field).sort();
			expect(fields).to.deep.equal(["email", "name", "password", "phone"]);
			expect(JSON.stringify(res.body)).not.to.contain("short"); // the password is not echoed back
		});

		it("treats JSON bodies as strictly typed: a number as a string is 422", async () => {
			const res = await register({ email: email(), password: 12345678, name: "Typed" });
			expect(res.status).to.equal(422);
			expect(res.body.data[0]).to.include({ field: "password" });
		});

		it("answers 422 for text PostgreSQL cannot store (a NUL character)", async () => {
			const res = await register({ email: email(), password: "password123", name: "Nul\u0000Byte" });
			expect(res.status).to.equal(422);
		});

		it("refuses passwords bcrypt would truncate (over 72 bytes)", async () => {
			const res = await register({ email: email(), password: "é".repeat(40), name: "Long" });
			expect(res.status).to.equal(422);
			expect(res.body.data[0]).to.include({ field: "password" });
		});
	});

	describe("malformed requests", () => {
		it("answers 400 for malformed JSON", async () => {
			const res = await request("POST", "/api/auth/register", { rawBody: '{"email": "a@b.co",' });
			expect(res.status).to.equal(400);
			expect(res.body).to.include({ type: "INVALID_JSON" });
		});

		it("answers 400 for a JSON body that is not an object", async () => {
			const res = await request("POST", "/api/auth/login", { rawBody: '"just a string"' });
			expect(res.status).to.equal(400);
		});

		it("answers 413 for an oversized body", async () => {
			const res = await register({ email: email(), password: "password123", name: "x".repeat(200_000) });
			expect(res.status).to.equal(413);
			expect(res.body).to.include({ type: "PAYLOAD_TOO_LARGE" });
		});

		it("answers 404 for unknown routes and for internal actions", async () => {
			expect((await request("GET", "/api/nothing/here")).status).to.equal(404);
			expect((await request("POST", "/api/identity/resolveToken", { body: { token: "x" } })).status).to.equal(404);
			expect((await request("GET", "/api/identity/get?id=00000000-0000-0000-0000-000000000000")).status).to.equal(404);
			expect((await request("GET", "/api/gateway/list-aliases")).status).to.equal(404);
		});
	});

	describe("login, me, refresh, logout", () => {
		const password = "a good password";
		let address: string;

		before(async () => {
			address = email();
			expect((await register({ email: address, password, name: "Bea" })).status).to.equal(201);
		});

		it("logs in with the e-mail in any case and answers a Bearer token pair with the user", async () => {
			const res = await login(address.toUpperCase(), password);
			expect(res.status).to.equal(200);
			expect(res.body).to.include({ tokenType: "Bearer", expiresIn: 900 });
			expect(res.body.accessToken).to.be.a("string").with.length.above(20);
			expect(res.body.refreshToken).to.be.a("string").with.length.above(20);
			expect(res.body.user).to.include({ email: address });
			expect(res.body.user.role).to.equal("customer");
		});

		it("answers 401 for a wrong password and for an unknown e-mail, with the same message", async () => {
			const wrong = await login(address, "not the password");
			const unknown = await login(email(), password);
			expect(wrong.status).to.equal(401);
			expect(unknown.status).to.equal(401);
			expect(wrong.body.message).to.equal(unknown.body.message);
		});

		it("answers /me for a valid token, and 401 without, with a tampered, or with a malformed token", async () => {
			const { body } = await login(address, password);
			const me = await request("GET", "/api/auth/me", { token: body.accessToken });
			expect(me.status).to.equal(200);
			expect(me.body.user).to.include({ email: address, name: "Bea" });

			expect((await request("GET", "/api/auth/me")).status).to.equal(401);
			const [h, p, s] = body.accessToken.split(".");
			const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), roles: ["admin"] })).toString("base64url");
			expect((await request("GET", "/api/auth/me", { token: `${h}.${forged}.${s}` })).status).to.equal(401);
			expect((await request("GET", "/api/auth/me", { headers: { authorization: "Basic dXNlcjpwYXNz" } })).status).to.equal(401);
			expect((await request("GET", "/api/auth/me", { token: "garbage" })).status).to.equal(401);
		});

		it("rotates the refresh token on every use, and reuse of a rotated one revokes the whole family", async () => {
			const first = (await login(address, password)).body;
			const second = await request("POST", "/api/auth/refresh", { body: { refreshToken: first.refreshToken } });
			expect(second.status).to.equal(200);
			expect(second.body.refreshToken).not.to.equal(first.refreshToken);
			const me = await request("GET", "/api/auth/me", { token: second.body.accessToken });
			expect(me.status).to.equal(200);

			// someone replays the first token: refused, and the legitimate newer one dies with it
			const replay = await request("POST", "/api/auth/refresh", { body: { refreshToken: first.refreshToken } });
			expect(replay.status).to.equal(401);
			expect(replay.body.data).to.deep.equal({ reason: "reused" });
			const afterReplay = await request("POST", "/api/auth/refresh", { body: { refreshToken: second.body.refreshToken } });
			expect(afterReplay.status).to.equal(401);
		});

		it("answers 401 for an unknown refresh token and 422 for a missing one", async () => {
			expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: "nope" } })).status).to.equal(401);
			expect((await request("POST", "/api/auth/refresh", { body: {} })).status).to.equal(422);
		});

		it("logs out: 204, and the refresh token no longer works", async () => {
			const pair = (await login(address, password)).body;
			expect((await request("POST", "/api/auth/logout", { body: { refreshToken: pair.refreshToken } })).status).to.equal(401);
			const out = await request("POST", "/api/auth/logout", { token: pair.accessToken, body: { refreshToken: pair.refreshToken } });
			expect(out.status).to.equal(204);
			expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: pair.refreshToken } })).status).to.equal(401);
		});

		it("cannot log out someone else's session", async () => {
			const victim = (await login(address, password)).body;
			const otherEmail = email();
			await register({ email: otherEmail, password: "password123", name: "Eve" });
			const eve = (await login(otherEmail, "password123")).body;
			const res = await request("POST", "/api/auth/logout", { token: eve.accessToken, body: { refreshToken: victim.refreshToken } });
			expect(res.status).to.equal(204);
			expect((await request("POST", "/api/auth/refresh", { body: { refreshToken: victim.refreshToken } })).status).to.equal(200);
		});
	});

	describe("throttling", () => {
		it("answers 429 with Retry-After after repeated failures, even for the right password", async () => {
			const address = email();
			await register({ email: address, password: "password123", name: "Throttled" });
			for (let i = 0; i < 3; i++) expect((await login(address, "wrong-password")).status).to.equal(401);
			const blocked = await login(address, "password123");
			expect(blocked.status).to.equal(429);
			expect(blocked.body.type).to.equal("TOO_MANY_REQUESTS");
			expect(Number(blocked.headers.get("retry-after"))).to.be.within(1, 900);
		});

		it("does not throttle another account", async () => {
			const address = email();
			await register({ email: address, password: "password123", name: "Fine" });
			expect((await login(address, "password123")).status).to.equal(200);
		});
	});

	describe("admin", () => {
		it("creates the configured admin at start, who logs in with the admin role", async () => {
			const res = await login("root@example.com", "root-password");
			expect(res.status).to.equal(200);
			expect(res.body.user.role).to.equal("admin");
		});
	});

	describe("health", () => {
		it("answers live and ready once every local service has started", async () => {
			expect((await request("GET", "/health/live")).status).to.equal(200);
			const ready = await request("GET", "/health/ready");
			expect(ready.status).to.equal(200);
			expect(ready.body.services).to.deep.equal({ identity: "up" });
		});
	});
});
