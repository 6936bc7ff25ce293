import { expect } from "chai";
import type { Context } from "moleculer";
import { Client } from "pg";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import type { EventEnvelope } from "../../lib/events";
import type { LoginResult, TokenPair, UserDto, UserRegisteredEvent } from "../../services/identity/identity.types";

describe("identity service (broker + real PostgreSQL)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	const events: UserRegisteredEvent[] = [];
	// stands in for the notification service, the consumer identity.userRegistered is routed to
	const listener = {
		name: "notification",
		events: {
			"identity.userRegistered"(ctx: Context<EventEnvelope<UserRegisteredEvent>>) {
				events.push(ctx.params.data);
			}
		}
	};
	const call = <T>(action: string, params: object) => shop.broker.call<T, object>(action, params);
	const failure = async (p: Promise<unknown>) => {
		try {
			await p;
		} catch (err) {
			return err as { code: number; type: string; data?: unknown };
		}
		throw new Error("expected the call to fail");
	};

	before(async () => {
		db = await createTestDatabase();
		shop = await startShop(testConfig(db, { SERVICES: "identity" }), [listener]);
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("keeps its tables in its own schema, and nothing in public", async () => {
		const pg = new Client({ connectionString: db.url });
		await pg.connect();
		try {
			const { rows } = await pg.query<{ table_schema: string; table_name: string }>(
				"SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 2"
			);
			expect(rows.map(r => r.table_schema)).to.satisfy((s: string[]) => s.every(x => x === "identity"));
			expect(rows.map(r => r.table_name)).to.include.members(["users", "refresh_tokens", "migrations", "outbox", "inbox"]);
		} finally {
			await pg.end();
		}
	});

	it("publishes identity.userRegistered once per new account, through its outbox", async () => {
		const { user } = await call<{ user: UserDto }>("identity.register", { email: "event@example.com", password: "password123", name: "Eve" });
		await new Promise(r => setTimeout(r, 300));
		const mine = events.filter(e => e.userId === user.id);
		expect(mine).to.have.length(1);
		expect(mine[0]).to.include({ email: "event@example.com", name: "Eve", phone: null });
	});

	it("lets exactly one of many simultaneous registrations with one e-mail succeed", async () => {
		const attempts = await Promise.allSettled(
			Array.from({ length: 20 }, (_, i) => call("identity.register", { email: i % 2 ? "race@example.com" : "RACE@example.com", password: "password123", name: `Racer ${i}` }))
		);
		const won = attempts.filter(a => a.status === "fulfilled");
		const lost = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
		expect(won).to.have.length(1);
		expect(lost.map(l => l.reason.type)).to.satisfy((t: string[]) => t.every(x => x === "EMAIL_TAKEN"));
	});

	it("lets only one of two simultaneous refreshes with one token win, and revokes the family", async () => {
		await call("identity.register", { email: "twice@example.com", password: "password123", name: "Twice" });
		const pair = await call<LoginResult>("identity.login", { email: "twice@example.com", password: "password123" });
		const results = await Promise.allSettled([
			call<TokenPair>("identity.refresh", { refreshToken: pair.refreshToken }),
			call<TokenPair>("identity.refresh", { refreshToken: pair.refreshToken })
		]);
		const won = results.filter((r): r is PromiseFulfilledResult<TokenPair> => r.status === "fulfilled");
		expect(won).to.have.length(1);
		// the loser was a reuse: the winner's new token is revoked with its family
		const err = await failure(call("identity.refresh", { refreshToken: won[0].value.refreshToken }));
		expect(err.code).to.equal(401);
	});

	it("resolves an access token to the caller, and refuses a token signed with another secret", async () => {
		const pair = await call<LoginResult>("identity.login", { email: "twice@example.com", password: "password123" });
		const caller = await call<{ id: string; role: string; permissions: string[] }>("identity.resolveToken", { token: pair.accessToken });
		expect(caller).to.deep.include({ id: pair.user.id, role: "customer", permissions: ["profile.edit", "profile.view"] });

		const other = await startShop(testConfig(db, { SERVICES: "identity" }));
		try {
			const err = await failure(other.broker.call("identity.resolveToken", { token: pair.accessToken }));
			expect(err.type).to.equal("INVALID_TOKEN");
		} finally {
			await other.stop();
		}
	});

	it("keeps users across a restart, applies migrations once, and grants the admin role to an existing account", async () => {
		await call("identity.register", { email: "boss@example.com", password: "password123", name: "Boss" });
		await shop.stop();
		shop = await startShop(testConfig(db, { SERVICES: "identity", ADMIN_EMAIL: "boss@example.com", ADMIN_PASSWORD: "another-password" }), [listener]);

		// the account and its password survive; the configured admin password does not overwrite it
		const login = await call<LoginResult>("identity.login", { email: "boss@example.com", password: "password123" });
		expect(login.user.role).to.equal("admin");

		const pg = new Client({ connectionString: db.url });
		await pg.connect();
		try {
			const { rows } = await pg.query("SELECT name FROM identity.migrations");
			expect(rows.map(r => r.name)).to.deep.equal(["0001-users-and-tokens", "0002-login-counters-and-addresses", "0003-roles-and-permissions", "events-0001-outbox-inbox", "events-0002-order-trail", "events-0003-handled-by", "events-0004-claim-order-indexes", "events-0005-retention-indexes"]);
		} finally {
			await pg.end();
		}
	});

	it("answers NOT_FOUND for an unknown user id and a validation error for a malformed one", async () => {
		expect((await failure(call("identity.get", { id: "2b8f6f3e-0d55-4d35-9a4a-1f6f1c1e2a11" }))).type).to.equal("NOT_FOUND");
		expect((await failure(call("identity.get", { id: "42" }))).code).to.equal(422);
	});
});
