import crypto from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { expect } from "chai";
import jwt from "jsonwebtoken";
import { Client } from "pg";
import { loadIdentityProto } from "../../services/identity/identity-grpc.service";
import { TEST_ADMIN, adminToken, loginAs, newCustomer, uniqueEmail } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient, type HttpResponse } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import type { Env } from "../../lib/config";
import { RATE_SYNC_MS } from "../../services/gateway/gateway.service";

/**
 * The shop as an attacker meets it: guesses that cannot race past the login limits or lock the owner out,
 * rate limits shared by every gateway, tokens that stop working when their session ends, and requests that
 * cannot smuggle parameters, prototypes or control characters in.
 */

const PASSWORD = "password123";
type Request = ReturnType<typeof httpClient>;

/** Requests as if relayed by a proxy for `address` (the shop trusts 127.0.0.1 as a proxy where a test says so). */
const from = (address: string, headers: Record<string, string> = {}) => ({ "x-forwarded-for": address, ...headers });

function tally(responses: HttpResponse[]): Record<number, number> {
	const counts: Record<number, number> = {};
	for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
	return counts;
}

describe("security", function () {
	this.timeout(120_000);
	let db: TestDatabase;
	let shop: RunningShop | undefined;
	let request: Request;

	async function restart(env: Env): Promise<void> {
		await shop?.stop();
		shop = await startShop(testConfig(db, env));
		request = httpClient(shop.baseUrl);
	}

	async function register(req: Request, email: string, headers: Record<string, string> = {}): Promise<string> {
		const res = await req("POST", "/api/auth/register", { body: { email, password: PASSWORD, name: "Victim" }, headers });
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return res.body.user.id;
	}

	const login = (email: string, password: string, headers: Record<string, string> = {}) =>
		request("POST", "/api/auth/login", { body: { email, password }, headers });

	before(async () => {
		db = await createTestDatabase();
	});

	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	describe("login throttling behind a trusted proxy", () => {
		before(() => restart({ TRUSTED_PROXIES: "127.0.0.1", LOGIN_MAX_FAILURES: "5", LOGIN_ACCOUNT_MAX_FAILURES: "10", LOGIN_ADDRESS_MAX_FAILURES: "30" }));

		it("lets only LOGIN_MAX_FAILURES of 300 parallel wrong guesses reach the password check; the rest get 429 with Retry-After", async () => {
			const email = uniqueEmail("raced");
			await register(request, email);
			const guesses = await Promise.all(Array.from({ length: 300 }, (_, i) => login(email, `wrong-${i}`, from("203.0.113.10"))));
			// a 401 is a guess that was checked; a 429 never reached bcrypt
			expect(tally(guesses)).to.deep.equal({ 401: 5, 429: 295 });
			for (const r of guesses.filter(g => g.status === 429)) {
				expect(Number(r.headers.get("retry-after"))).to.be.within(1, 900);
				expect(r.body.type).to.equal("TOO_MANY_REQUESTS");
			}
			// the right password from that address waits too
			expect((await login(email, PASSWORD, from("203.0.113.10"))).status).to.equal(429);
		});

		it("does not lock the owner out of their usual address with guesses from another", async () => {
			const email = uniqueEmail("owner");
			await register(request, email);
			expect((await login(email, PASSWORD, from("198.51.100.20"))).status).to.equal(200);
			const guesses = await Promise.all(Array.from({ length: 100 }, (_, i) => login(email, `wrong-${i}`, from("203.0.113.11"))));
			expect(tally(guesses)[401]).to.equal(5);
			expect((await login(email, PASSWORD, from("198.51.100.20"))).status).to.equal(200);
		});

		it("slows down guesses spread over many addresses, but not the owner at their usual address", async () => {
			const email = uniqueEmail("spread");
			await register(request, email);
			expect((await login(email, PASSWORD, from("198.51.100.21"))).status).to.equal(200);
			const guesses = await Promise.all(Array.from({ length: 60 }, (_, i) => login(email, `wrong-${i}`, from(`203.0.113.${100 + i}`))));
			const counts = tally(guesses);
			// LOGIN_ACCOUNT_MAX_FAILURES checked, then one more each time the doubling delay has passed
			expect(counts[401]).to.be.within(10, 13);
			expect(counts[429]).to.equal(60 - counts[401]);
			expect((await login(email, PASSWORD, from("198.51.100.21"))).status).to.equal(200);
		});

		it("limits one address's guesses across accounts (LOGIN_ADDRESS_MAX_FAILURES)", async () => {
			const guesses = await Promise.all(Array.from({ length: 40 }, () => login(uniqueEmail("nobody"), "whatever-1", from("203.0.113.12"))));
			expect(tally(guesses)).to.deep.equal({ 401: 30, 429: 10 });
		});

		it("throttles gRPC Login the same way, by the caller's address", async () => {
			const email = uniqueEmail("grpc");
			await register(request, email);
			const proto = loadIdentityProto() as unknown as { momentum: { identity: { v1: { IdentityService: grpc.ServiceClientConstructor } } } };
			const client = new proto.momentum.identity.v1.IdentityService(`127.0.0.1:${shop!.grpcPort}`, grpc.credentials.createInsecure());
			try {
				const codes = await Promise.all(
					Array.from(
						{ length: 12 },
						(_, i) =>
							new Promise<string>(resolve =>
								(client.Login as grpc.requestCallback<unknown> & ((...a: unknown[]) => void))(
									{ email, password: `wrong-${i}` },
									(err: grpc.ServiceError | null) => resolve(err ? grpc.status[err.code] : "OK")
								)
							)
					)
				);
				expect(codes.filter(c => c === "UNAUTHENTICATED")).to.have.length(5);
				expect(codes.filter(c => c === "RESOURCE_EXHAUSTED")).to.have.length(7);
			} finally {
				client.close();
			}
		});

		it("sends HSTS only when a trusted proxy says the request came over TLS", async () => {
			const viaTls = await request("GET", "/api/categories", { headers: from("198.51.100.30", { "x-forwarded-proto": "https" }) });
			expect(viaTls.headers.get("strict-transport-security")).to.match(/max-age=\d+/);
			const plain = await request("GET", "/api/categories", { headers: from("198.51.100.30") });
			expect(plain.headers.get("strict-transport-security")).to.equal(null);
		});
	});

	describe("an untrusted peer", () => {
		before(() => restart({ LOGIN_MAX_FAILURES: "5" }));

		it("cannot choose the address it is counted under with a forged X-Forwarded-For", async () => {
			const email = uniqueEmail("forged");
			await register(request, email);
			const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => login(email, `wrong-${i}`, from(`192.0.2.${i + 1}`))));
			expect(tally(guesses)).to.deep.equal({ 401: 5, 429: 15 });
		});

		it("gets no HSTS from a forged X-Forwarded-Proto", async () => {
			const res = await request("GET", "/api/categories", { headers: { "x-forwarded-proto": "https" } });
			expect(res.headers.get("strict-transport-security")).to.equal(null);
		});
	});

	describe("rate limits", () => {
		const limits = { TRUSTED_PROXIES: "127.0.0.1", RATE_LIMIT_AUTH: "5/3600", RATE_LIMIT_API: "20/3600" };
		let other: RunningShop | undefined;
		before(() => restart(limits));
		after(async () => {
			await other?.stop();
		});

		it("answers 429 with Retry-After past the per-address limit on /api/auth/*, sign-ups included", async () => {
			const signups = [];
			for (let i = 0; i < 6; i++) {
				signups.push(
					await request("POST", "/api/auth/register", {
						body: { email: uniqueEmail("bulk"), password: PASSWORD, name: "Bulk" },
						headers: from("198.51.100.50")
					})
				);
			}
			expect(signups.map(r => r.status)).to.deep.equal([201, 201, 201, 201, 201, 429]);
			const refused = signups[5];
			expect(refused.body).to.include({ type: "TOO_MANY_REQUESTS", code: 429 });
			expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 3600);
			// another address is not affected
			await register(request, uniqueEmail("elsewhere"), from("198.51.100.51"));
		});

		it("adds up one client's requests over every gateway (PostgreSQL), so a second gateway does not double the limit", async () => {
			other = await startShop(testConfig(db, { ...limits, SERVICES: "gateway" }));
			const second = httpClient(other.baseUrl);
			const client = from("198.51.100.60");
			const hits = async () => {
				const pg = new Client({ connectionString: db.url });
				await pg.connect();
				try {
					const { rows } = await pg.query(`SELECT coalesce(sum(hits), 0)::int AS n FROM gateway.rate_limits WHERE key = 'api|198.51.100.60'`);
					return rows[0].n as number;
				} finally {
					await pg.end();
				}
			};
			for (let i = 0; i < 12; i++) expect((await request("GET", "/api/categories", { headers: client })).status).to.equal(200);
			await eventually(async () => expect(await hits()).to.equal(12));
			// the second gateway learns the total with its first report, then refuses past 20 in all
			expect((await second("GET", "/api/categories", { headers: client })).status).to.not.equal(429);
			await eventually(async () => expect(await hits()).to.equal(13));
			let allowed = 1;
			for (;;) {
				const res = await second("GET", "/api/categories", { headers: client });
				if (res.status === 429) break;
				allowed++;
				expect(allowed, "the second gateway kept letting requests through").to.be.below(20);
			}
			expect(12 + allowed).to.equal(20);
			// the first gateway learns the others' hits for a client near its limit at its next report, and refuses
			// too: a client asking less often than the gateway reports gets at most one more request through
			await eventually(async () => expect((await request("GET", "/api/categories", { headers: client })).status).to.equal(429), 10_000, 2 * RATE_SYNC_MS);
			expect(await hits(), "requests let through in all").to.be.at.most(21);
		});
	});

	describe("bounded password checks", () => {
		before(() => restart({ TRUSTED_PROXIES: "127.0.0.1", BCRYPT_ROUNDS: "10", BCRYPT_MAX_IN_FLIGHT: "1", BCRYPT_MAX_QUEUE: "2" }));

		it("sheds a login flood beyond what the node checks at once with 503 SERVER_BUSY and Retry-After, never 500", async () => {
			const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => login(uniqueEmail("flood"), "wrong-password", from(`198.51.100.${100 + i}`))));
			const counts = tally(flood);
			expect(Object.keys(counts).sort()).to.deep.equal(["401", "503"]);
			expect(counts[401]).to.be.at.least(3);
			for (const r of flood.filter(f => f.status === 503)) {
				expect(r.body.type).to.equal("SERVER_BUSY");
				expect(r.headers.get("retry-after")).to.equal("1");
			}
			// a refused attempt was never checked, so it does not count against the caller
			const email = uniqueEmail("after-flood");
			await register(request, email, from("198.51.100.99"));
			expect((await login(email, PASSWORD, from("198.51.100.99"))).status).to.equal(200);
		});
	});

	describe("tokens", () => {
		let pg: Client;
		before(async () => {
			await restart({ IDENTITY_PURGE_INTERVAL: "1" });
			pg = new Client({ connectionString: db.url });
			await pg.connect();
		});
		after(() => pg?.end());

		const secret = () => shop!.config.identity.jwtSecret;
		const sign = (claims: object, options: jwt.SignOptions = {}) =>
			jwt.sign(claims, secret(), { algorithm: "HS256", issuer: "momentum", audience: "momentum-api", ...options });

		it("stops an access token at logout, also at the gateway that had kept it", async () => {
			const email = uniqueEmail("leaving");
			await register(request, email);
			const res = await login(email, PASSWORD);
			const { accessToken, refreshToken } = res.body;
			expect((await request("GET", "/api/auth/me", { token: accessToken })).status).to.equal(200);
			expect((await request("POST", "/api/auth/logout", { token: accessToken, body: { refreshToken } })).status).to.equal(204);
			const after = await request("GET", "/api/auth/me", { token: accessToken });
			expect(after.status).to.equal(401);
			expect(after.body.type).to.equal("INVALID_TOKEN");
		});

		it("ends only the session logged out of: another device's token keeps working", async () => {
			const email = uniqueEmail("two-devices");
			await register(request, email);
			const phone = (await login(email, PASSWORD)).body;
			const laptop = (await login(email, PASSWORD)).body;
			expect((await request("POST", "/api/auth/logout", { token: phone.accessToken, body: { refreshToken: phone.refreshToken } })).status).to.equal(204);
			expect((await request("GET", "/api/auth/me", { token: phone.accessToken })).status).to.equal(401);
			expect((await request("GET", "/api/auth/me", { token: laptop.accessToken })).status).to.equal(200);
		});

		it("refuses a validly signed token for a user that does not exist, whatever role it claims", async () => {
			const forged = sign({ sid: crypto.randomUUID(), roles: ["admin"], exp: Math.floor(Date.now() / 1000) + 600 }, { subject: crypto.randomUUID() });
			expect((await request("GET", "/api/admin/dead-letters", { token: forged })).status).to.equal(401);
		});

		it("refuses a validly signed token without an expiry, or issued in the future", async () => {
			const { id } = await newCustomer(request);
			const sessionId = (await pg.query(`SELECT family_id FROM identity.refresh_tokens WHERE user_id = $1 LIMIT 1`, [id])).rows[0].family_id;
			const forever = sign({ sid: sessionId }, { subject: id });
			expect((await request("GET", "/api/auth/me", { token: forever })).status).to.equal(401);
			const now = Math.floor(Date.now() / 1000);
			const future = sign({ sid: sessionId, iat: now + 3600, exp: now + 7200 }, { subject: id });
			expect((await request("GET", "/api/auth/me", { token: future })).status).to.equal(401);
			const fine = sign({ sid: sessionId, iat: now, exp: now + 600 }, { subject: id });
			expect((await request("GET", "/api/auth/me", { token: fine })).status).to.equal(200);
		});

		it("reads what a token may do from identity's current data: a deleted user's token stops, a role granted counts", async () => {
			const customer = await newCustomer(request);
			expect((await request("GET", "/api/admin/dead-letters", { token: customer.token })).status).to.equal(403);
			await pg.query(`UPDATE identity.users SET role_id = (SELECT id FROM identity.roles WHERE name = 'admin') WHERE id = $1`, [customer.id]);
			const fresh = await loginAs(request, customer.email, "password123");
			expect((await request("GET", "/api/admin/dead-letters", { token: fresh })).status).to.equal(200);

			const gone = await newCustomer(request);
			await pg.query(`DELETE FROM identity.users WHERE id = $1`, [gone.id]);
			const err = await shop!.broker.call("identity.resolveToken", { token: gone.token }).catch((e: { type?: string }) => e);
			expect((err as { type?: string }).type).to.equal("INVALID_TOKEN");
		});

		it("purges login counters past their window and refresh tokens past their expiry", async () => {
			const { id } = await newCustomer(request);
			await pg.query(
				`INSERT INTO identity.login_failures (key, failures, window_started_at) VALUES ('address:192.0.2.250', 3, now() - interval '2 days')`
			);
			await pg.query(`UPDATE identity.refresh_tokens SET expires_at = now() - interval '1 minute' WHERE user_id = $1`, [id]);
			await eventually(async () => {
				const left = await pg.query(
					`SELECT (SELECT count(*) FROM identity.login_failures WHERE key = 'address:192.0.2.250')::int AS counters,
					        (SELECT count(*) FROM identity.refresh_tokens WHERE user_id = $1)::int AS tokens`,
					[id]
				);
				expect(left.rows[0]).to.deep.equal({ counters: 0, tokens: 0 });
			}, 15_000);
		});
	});

	describe("requests", () => {
		let admin: string;
		before(async () => {
			await restart({});
			admin = await adminToken(request);
		});

		it("takes a POST's parameters from its body only: credentials in the query string do not log in", async () => {
			const q = new URLSearchParams({ email: TEST_ADMIN.email, password: TEST_ADMIN.password });
			const res = await request("POST", `/api/auth/login?${q}`, { body: {} });
			expect(res.status).to.equal(422);
			expect(res.body).to.not.have.property("accessToken");
		});

		it("answers 400 for a body that claims gzip but is not, without a 500", async () => {
			const res = await fetch(`${shop!.baseUrl}/api/auth/login`, {
				method: "POST",
				headers: { "content-type": "application/json", "content-encoding": "gzip" },
				body: Buffer.from("this is not gzip at all")
			});
			expect(res.status).to.equal(400);
			expect(await res.json()).to.include({ type: "INVALID_BODY", code: 400 });
		});

		it("drops __proto__ from JSON bodies, so a poisoned prototype cannot supply a parameter", async () => {
			const steps = checkoutSteps(request, () => admin);
			const productId = await steps.product(1000, 10, "Prototype");
			const { token } = await newCustomer(request);
			const res = await request("POST", "/api/cart/items", { token, rawBody: `{"productId":"${productId}","__proto__":{"quantity":5}}` });
			expect(res.status, JSON.stringify(res.body)).to.equal(422);
			expect((await request("GET", "/api/cart", { token })).body.items).to.deep.equal([]);
		});

		it("refuses control characters and bidirectional overrides in names, and line breaks in one-line fields", async () => {
			for (const name of ["Ana\n2026-12-05 INFO forged log line", "Ana\u001b[2J", "\u202Enimda", "Ana\u2066x"]) {
				const res = await request("POST", "/api/auth/register", { body: { email: uniqueEmail(), password: PASSWORD, name } });
				expect(res.status, JSON.stringify(name)).to.equal(422);
				expect(res.body.type).to.equal("VALIDATION_ERROR");
			}
			const product = await request("POST", "/api/products", {
				token: admin,
				body: { sku: "CTRL-1", name: "Mug\r\nX-Injected: 1", priceCents: 100, category: "Test" }
			});
			expect(product.status).to.equal(422);
			// descriptions may span lines
			const ok = await request("POST", "/api/products", {
				token: admin,
				body: { sku: `CTRL-${Date.now()}`, name: "Mug", description: "Blue.\nDishwasher safe.", priceCents: 100, category: "Test" }
			});
			expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
		});

		it("refuses at placement an order whose total no card payment can cover (422), leaving the cart as it was", async () => {
			const steps = checkoutSteps(request, () => admin);
			const productId = await steps.product(1_000_000_000, 5, "Yacht");
			const { token } = await newCustomer(request);
			await steps.addToCart(token, productId, 2);
			const res = await steps.placeOrder(token);
			expect(res.status).to.equal(422);
			expect(res.body).to.include({ type: "ORDER_TOTAL_NOT_PAYABLE" });
			expect(res.body.data).to.deep.equal({ totalCents: 2_000_000_000, maxCents: 1_000_000_000 });
			expect((await request("GET", "/api/cart", { token })).body.items).to.have.length(1);
			expect((await request("GET", "/api/orders", { token })).body.total).to.equal(0);
		});

		it("sends security headers on every response, and no-store on token and account responses", async () => {
			const list = await request("GET", "/api/products");
			expect(list.headers.get("x-content-type-options")).to.equal("nosniff");
			expect(list.headers.get("referrer-policy")).to.equal("no-referrer");
			expect(list.headers.get("x-frame-options")).to.equal("DENY");
			const res = await login(TEST_ADMIN.email, TEST_ADMIN.password);
			expect(res.headers.get("cache-control")).to.equal("no-store");
			expect((await request("GET", "/api/auth/me", { token: admin })).headers.get("cache-control")).to.equal("no-store");
			// whatever answers a request with credentials is not stored, a public product read too (kept or not)
			for (let i = 0; i < 2; i++) expect((await request("GET", "/api/products", { token: admin })).headers.get("cache-control")).to.equal("no-store");
			expect((await request("GET", "/api/nothing-here")).headers.get("x-content-type-options")).to.equal("nosniff");
		});

		it("routes case-sensitively", async () => {
			expect((await request("GET", "/api/products")).status).to.equal(200);
			expect((await request("GET", "/api/PRODUCTS")).status).to.equal(404);
		});

		it("sends no CORS headers unless CORS_ORIGINS allows the origin", async () => {
			const res = await request("GET", "/api/products", { headers: { origin: "https://evil.example" } });
			expect(res.headers.get("access-control-allow-origin")).to.equal(null);
		});

		it("has no route management reachable over the bus (gateway.addRoute, removeRoute)", async () => {
			const route = { path: "/open", authorization: false, authentication: false, aliases: { "POST products": "catalog.create" } };
			const added = await shop!.broker.call("gateway.addRoute", { route }).then(
				() => "added",
				(e: { type?: string }) => e.type
			);
			expect(added).to.equal("SERVICE_NOT_FOUND");
			const removed = await shop!.broker.call("gateway.removeRoute", { name: "api" }).then(
				() => "removed",
				(e: { type?: string }) => e.type
			);
			expect(removed).to.equal("SERVICE_NOT_FOUND");
			expect((await request("POST", "/open/products", { body: {} })).status).to.equal(404);
		});
	});

	describe("CORS_ORIGINS", () => {
		before(() => restart({ CORS_ORIGINS: "https://shop.example" }));

		it("answers a preflight from an allowed origin, and only that exact origin", async () => {
			const preflight = await fetch(`${shop!.baseUrl}/api/cart/items`, {
				method: "OPTIONS",
				headers: {
					origin: "https://shop.example",
					"access-control-request-method": "POST",
					"access-control-request-headers": "authorization,content-type"
				}
			});
			expect(preflight.status).to.equal(204);
			expect(preflight.headers.get("access-control-allow-origin")).to.equal("https://shop.example");
			expect(preflight.headers.get("access-control-allow-headers")).to.match(/Authorization/i);

			// the first read and its repeats, answered from the gateway's kept responses, anonymous or signed in
			const { token } = await newCustomer(request);
			for (const who of [undefined, token, undefined, token]) {
				const get = await request("GET", "/api/products", { token: who, headers: { origin: "https://shop.example" } });
				expect(get.headers.get("access-control-allow-origin"), who ? "signed in" : "anonymous").to.equal("https://shop.example");
				expect(get.headers.get("access-control-expose-headers"), who ? "signed in" : "anonymous").to.match(/X-Request-Id/);
			}
			for (const origin of ["https://shop.exampl", "https://evil.example", "https://shop.example.evil.com"]) {
				const res = await request("GET", "/api/products", { headers: { origin } });
				expect(res.headers.get("access-control-allow-origin"), origin).to.equal(null);
			}
		});
	});
});
