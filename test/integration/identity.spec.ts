import { expect } from "chai";
import type { Context } from "moleculer";
import { Client } from "pg";
import bcrypt from "bcrypt";
import { ServiceDatabase } from "../../lib/database";
import { identityMigrations } from "../../services/identity/identity.migrations";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import type { EventEnvelope } from "../../lib/events";
import type { EmailVerificationRequestedEvent, LoginResult, TokenPair, UserDto } from "../../services/identity/identity.types";
import { eventually } from "../support/eventually";
import { TEST_ADMIN } from "../support/auth";

describe("identity service (broker + real PostgreSQL)", () => {
	let db: TestDatabase;
	let shop: RunningShop;
	const events: EmailVerificationRequestedEvent[] = [];
	// stands in for the notification service, the consumer identity.emailVerificationRequested is routed to
	const listener = {
		name: "notification",
		events: {
			"identity.emailVerificationRequested"(ctx: Context<EventEnvelope<EmailVerificationRequestedEvent>>) {
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

	it("asks for one verification e-mail per new account, through its outbox, with a link token and nothing the user typed", async () => {
		const { user } = await call<{ user: UserDto }>("identity.register", { email: "event@example.com", password: "password123", name: "Eve Typed This" });
		expect(user.emailVerified).to.equal(false);
		const [asked] = await eventually(() => {
			const mine = events.filter(e => e.userId === user.id);
			expect(mine).to.have.length(1);
			return mine;
		});
		expect(Object.keys(asked).sort()).to.deep.equal(["email", "expiresAt", "linkToken", "tokenId", "userId"]);
		expect(asked.email).to.equal("event@example.com");
		expect(asked.linkToken).to.match(/^[A-Za-z0-9_-]{43}$/);
		expect(JSON.stringify(asked)).not.to.include("Eve Typed This");
		// only the token's hash is kept
		const pg = new Client({ connectionString: db.url });
		await pg.connect();
		try {
			const { rows } = await pg.query("SELECT token_hash FROM identity.account_tokens WHERE id = $1", [asked.tokenId]);
			expect(rows).to.have.length(1);
			expect(rows[0].token_hash)
				.to.match(/^[0-9a-f]{64}$/)
				.and.not.to.equal(asked.linkToken);
		} finally {
			await pg.end();
		}
	});

	it("lets exactly one of many simultaneous registrations with one e-mail succeed", async () => {
		const attempts = await Promise.allSettled(
			Array.from({ length: 20 }, (_, i) =>
				call("identity.register", { email: i % 2 ? "race@example.com" : "RACE@example.com", password: "password123", name: `Racer ${i}` })
			)
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

	it("refreshes more sessions at once than it has database connections", async () => {
		// each refresh holds a connection in its transaction: one that asked the pool for a second connection
		// would wait forever once every connection is held so (and the shop's sessions with it)
		const small = await startShop(testConfig(db, { SERVICES: "identity", DATABASE_POOL_MAX: "2" }));
		try {
			const pairs = await Promise.all(
				Array.from({ length: 6 }, async (_, i) => {
					const email = `many-${i}@example.com`;
					await small.broker.call("identity.register", { email, password: "password123", name: `Many ${i}` });
					return small.broker.call<LoginResult, object>("identity.login", { email, password: "password123" });
				})
			);
			const refreshed = await Promise.all(pairs.map(p => small.broker.call<TokenPair, object>("identity.refresh", { refreshToken: p.refreshToken })));
			expect(refreshed.map(r => r.refreshToken))
				.to.have.length(6)
				.and.not.to.include.members(pairs.map(p => p.refreshToken));
		} finally {
			await small.stop();
		}
	});

	it("lets staff change accounts more at once than it has database connections", async () => {
		// each change checks the caller's permissions inside its transaction: a check on a second connection would
		// wait forever once every connection is held by such a transaction
		const small = await startShop(testConfig(db, { SERVICES: "identity", DATABASE_POOL_MAX: "2" }));
		try {
			const admin = await small.broker.call<LoginResult, object>("identity.login", { email: TEST_ADMIN.email, password: TEST_ADMIN.password });
			const created = await Promise.all(
				Array.from({ length: 6 }, (_, i) =>
					small.broker.call<{ user: UserDto }, object>(
						"identity.createUser",
						{ email: `staff-made-${i}@example.com`, name: `Made ${i}`, password: "password123" },
						{ meta: { user: { id: admin.user.id } } }
					)
				)
			);
			expect(created.map(c => c.user.email).sort()).to.deep.equal(Array.from({ length: 6 }, (_, i) => `staff-made-${i}@example.com`));
		} finally {
			await small.stop();
		}
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
			expect(rows.map(r => r.name)).to.deep.equal([
				"0001-users-and-tokens",
				"0002-login-counters-and-addresses",
				"0003-roles-and-permissions",
				"0004-account-lifecycle",
				"events-0001-outbox-inbox",
				"events-0002-order-trail",
				"events-0003-handled-by",
				"events-0004-claim-order-indexes",
				"events-0005-retention-indexes",
				"events-0006-correlation-id"
			]);
		} finally {
			await pg.end();
		}
	});

	it("answers NOT_FOUND for an unknown user id and a validation error for a malformed one", async () => {
		expect((await failure(call("identity.get", { id: "2b8f6f3e-0d55-4d35-9a4a-1f6f1c1e2a11" }))).type).to.equal("NOT_FOUND");
		expect((await failure(call("identity.get", { id: "42" }))).code).to.equal(422);
	});
});

describe("identity's account lifecycle data (broker + real PostgreSQL)", () => {
	let db: TestDatabase;
	let shop: RunningShop | undefined;
	const config = () => testConfig(db, { SERVICES: "identity", IDENTITY_PURGE_INTERVAL: "1" });
	const call = <T>(action: string, params: object) => shop!.broker.call<T, object>(action, params);
	const rows = <T>(sql: string, params: unknown[] = []) => db.query<T>(sql, params);

	before(async () => {
		db = await createTestDatabase();
	});
	after(async () => {
		await shop?.stop();
		await db?.drop();
	});

	it("counts accounts that existed before e-mail verification did as verified, and new ones as not", async () => {
		// the schema as it was before 0004, with an account in it
		const old = await ServiceDatabase.open({
			service: "identity",
			config: config().database,
			migrations: identityMigrations.filter(m => m.name < "0004"),
			log: () => undefined
		});
		try {
			await old.execute(
				`INSERT INTO users (email, name, password_hash, role_id) VALUES ('veteran@example.com', 'Veteran', $1, (SELECT id FROM roles WHERE name = 'customer'))`,
				[await bcrypt.hash("password123", 4)]
			);
		} finally {
			await old.close();
		}
		shop = await startShop(config());
		const veteran = await call<LoginResult>("identity.login", { email: "veteran@example.com", password: "password123" });
		expect(veteran.user.emailVerified).to.equal(true);
		const { user } = await call<{ user: UserDto }>("identity.register", { email: "newcomer@example.com", password: "password123", name: "New" });
		expect(user.emailVerified).to.equal(false);
	});

	it("purges mailed link tokens once used or expired, but not before the mail limits stop counting them", async () => {
		const ids: Record<string, string> = {};
		for (const who of ["usedLongAgo", "expiredLongAgo", "usedJustNow", "liveFromLongAgo"]) {
			ids[who] = (
				await call<{ user: UserDto }>("identity.register", { email: `${who.toLowerCase()}@example.com`, password: "password123", name: who })
			).user.id;
		}
		const set = (who: string, assignments: string) => db.query(`UPDATE identity.account_tokens SET ${assignments} WHERE user_id = $1`, [ids[who]]);
		await set("usedLongAgo", "created_at = now() - interval '2 hours', used_at = now() - interval '2 hours'");
		await set("expiredLongAgo", "created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'");
		await set("usedJustNow", "used_at = now()");
		await set("liveFromLongAgo", "created_at = now() - interval '2 hours'");

		const left = (who: string) => rows(`SELECT 1 FROM identity.account_tokens WHERE user_id = $1`, [ids[who]]);
		await eventually(async () => {
			expect(await left("usedLongAgo")).to.have.length(0);
			expect(await left("expiredLongAgo")).to.have.length(0);
		}, 10_000);
		expect(await left("usedJustNow"), "still counted by the mail limits").to.have.length(1);
		expect(await left("liveFromLongAgo"), "still works").to.have.length(1);
	});
});
