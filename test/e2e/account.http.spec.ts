import crypto from "node:crypto";
import { expect } from "chai";
import type { IncomingEnvelope } from "../../lib/events";
import { hashLinkToken } from "../../services/identity/identity.account-rules";
import type { PasswordResetRequestedEvent } from "../../services/identity/identity.types";
import { adminToken, uniqueEmail } from "../support/auth";
import { checkoutSteps } from "../support/checkout";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { eventually } from "../support/eventually";
import { httpClient } from "../support/http";
import { startShop, testConfig, type RunningShop } from "../support/shop";
import { startSmtpServer, type TestSmtpServer } from "../support/smtp";

const ALL = "gateway,identity,catalog,inventory,cart,order,payment,notification";
const PUBLIC_URL = "https://shop.example.test";
const PASSWORD = "password123";

describe("account lifecycle through the gateway", () => {
	let db: TestDatabase;
	let smtp: TestSmtpServer;
	let shop: RunningShop;
	let request: ReturnType<typeof httpClient>;
	let admin: string;
	let steps: ReturnType<typeof checkoutSteps>;
	/** Every link token a test read from a mail: none may be found where it is kept or shown. */
	const seenTokens = new Set<string>();

	/** Rows of a query on the shop's database (it holds every service's schema). */
	const rows = <T>(sql: string, params: unknown[] = []) => db.query<T>(sql, params);

	/** The tokens of the links to `page` mailed to `email`, oldest first, once there are `count` of them. */
	function linkTokens(email: string, page: "verify-email" | "reset-password", count: number): Promise<string[]> {
		return eventually(() => {
			const pattern = new RegExp(`^${PUBLIC_URL}/${page}\\?token=([A-Za-z0-9_-]+)$`, "m");
			const tokens = smtp
				.to(email)
				.map(m => pattern.exec(m.text)?.[1])
				.filter((t): t is string => t !== undefined);
			expect(tokens, `links to /${page} mailed to ${email}`).to.have.length(count);
			for (const t of tokens) seenTokens.add(t);
			return tokens;
		});
	}
	/**
	 * The newest of the `count` links to `page` mailed to `email`. Mails may reach the SMTP server out of the
	 * order they were written in, so "newest" is asked of identity's table (by each token's hash).
	 */
	const lastLink = async (email: string, page: "verify-email" | "reset-password", count = 1) => {
		const tokens = await linkTokens(email, page, count);
		const byHash = new Map(tokens.map(t => [hashLinkToken(t), t]));
		const [newest] = await db.query<{ token_hash: string }>(
			`SELECT token_hash FROM identity.account_tokens WHERE token_hash = ANY($1) ORDER BY created_at DESC LIMIT 1`,
			[[...byHash.keys()]]
		);
		return newest ? byHash.get(newest.token_hash)! : tokens[count - 1];
	};

	/** Hands every event identity has written to notification and handles what notification received. */
	async function settleEvents(): Promise<void> {
		await shop.broker.call("identity.relayOutbox");
		await shop.broker.call("notification.drainInbox");
	}

	const register = async (body: { name?: string; phone?: string } = {}) => {
		const email = uniqueEmail("account");
		const res = await request("POST", "/api/auth/register", { body: { email, password: PASSWORD, name: "Shopper", ...body } });
		expect(res.status, JSON.stringify(res.body)).to.equal(201);
		return { email, id: res.body.user.id as string };
	};
	const login = (email: string, password = PASSWORD) => request("POST", "/api/auth/login", { body: { email, password } });
	const session = async (email: string, password = PASSWORD): Promise<{ accessToken: string; refreshToken: string }> => {
		const res = await login(email, password);
		expect(res.status, JSON.stringify(res.body)).to.equal(200);
		return res.body;
	};
	const me = (token: string) => request("GET", "/api/auth/me", { token });
	const refresh = (refreshToken: string) => request("POST", "/api/auth/refresh", { body: { refreshToken } });
	const verify = (token: unknown) => request("POST", "/api/auth/verify-email", { body: { token } });
	const resend = (token: string) => request("POST", "/api/auth/resend-verification", { token });
	const forgot = (email: string) => request("POST", "/api/auth/forgot-password", { body: { email } });
	const reset = (token: string, password: string) => request("POST", "/api/auth/reset-password", { body: { token, password } });
	/** Makes the user's mailed links look `seconds` older, as if that much time had passed (the mail limits count by age). */
	const age = (userId: string, seconds: number) =>
		db.query(`UPDATE identity.account_tokens SET created_at = created_at - make_interval(secs => $2) WHERE user_id = $1`, [userId, seconds]);
	/** A registered customer whose address is verified, signed in, and who may be mailed a link again. */
	const verifiedCustomer = async () => {
		const user = await register();
		expect((await verify(await lastLink(user.email, "verify-email"))).status).to.equal(200);
		await age(user.id, 61);
		return { ...user, ...(await session(user.email)) };
	};

	before(async () => {
		db = await createTestDatabase();
		smtp = await startSmtpServer();
		shop = await startShop(
			testConfig(db, {
				SERVICES: ALL,
				SMTP_URL: smtp.url,
				PUBLIC_URL: `${PUBLIC_URL}/`,
				REQUIRE_EMAIL_VERIFICATION: "true",
				LOGIN_MAX_FAILURES: "3",
				EVENT_POLL_MS: "100",
				EVENT_MAX_ATTEMPTS: "2",
				EVENT_RETRY_BASE_MS: "10",
				EVENT_RETRY_MAX_MS: "20"
			})
		);
		request = httpClient(shop.baseUrl);
		admin = await adminToken(request);
		steps = checkoutSteps(request, () => admin);
	});
	after(async () => {
		await shop?.stop();
		await smtp?.stop();
		await db?.drop();
	});

	describe("e-mail verification", () => {
		it("mails a new account a link to verify its address, with nothing the user typed, and no welcome before it is used", async () => {
			const user = await register({ name: "Zed Typed-This-Name", phone: "+5511987650000" });
			const token = await lastLink(user.email, "verify-email");
			await settleEvents();

			const mails = smtp.to(user.email);
			expect(mails.map(m => m.subject)).to.deep.equal(["Confirm your e-mail address"]);
			expect(mails[0].text).to.contain(`${PUBLIC_URL}/verify-email?token=${token}`);
			expect(mails[0].text + mails[0].html + mails[0].subject).not.to.match(/Typed-This-Name|Zed|account\./);
			const { accessToken } = await session(user.email);
			const notices = await request("GET", "/api/notifications", { token: accessToken });
			expect(notices.body.items.map((n: { template: string; channel: string }) => [n.template, n.channel])).to.deep.equal([["verifyEmail", "email"]]);
			expect((await me(accessToken)).body.user).to.include({ email: user.email, emailVerified: false });
		});

		it("lets an unverified customer browse and fill a cart but not order (403 EMAIL_NOT_VERIFIED) until the link is opened; then welcomes them", async () => {
			const product = await steps.product(1990, 5, "Verified mug");
			const user = await register({ name: "Vera" });
			const { accessToken } = await session(user.email);
			expect((await request("GET", `/api/products/${product}`)).status).to.equal(200);
			await steps.addToCart(accessToken, product, 1);

			const refused = await steps.placeOrder(accessToken);
			expect(refused.status, JSON.stringify(refused.body)).to.equal(403);
			expect(refused.body.type).to.equal("EMAIL_NOT_VERIFIED");
			expect((await request("GET", "/api/cart", { token: accessToken })).body.items).to.have.length(1);

			const verified = await verify(await lastLink(user.email, "verify-email"));
			expect(verified.status, JSON.stringify(verified.body)).to.equal(200);
			expect(verified.body).to.deep.equal({ email: user.email, emailVerified: true });
			expect((await me(accessToken)).body.user.emailVerified).to.equal(true);

			// the same access token: the gateway let go of what it knew about it when the address was verified
			const placed = await steps.placeOrder(accessToken);
			expect(placed.status, JSON.stringify(placed.body)).to.equal(201);
			expect((await steps.settled(accessToken, placed.body.order.id)).status).to.equal("CONFIRMED");

			const welcome = await eventually(() => {
				const mail = smtp.to(user.email).find(m => m.subject === "Welcome to Momentum");
				expect(mail).to.exist;
				return mail!;
			});
			expect(welcome.text).to.contain("Hi Vera,");
		});

		it("takes a link once; an unknown or missing token is a clear 4xx", async () => {
			const user = await register();
			const token = await lastLink(user.email, "verify-email");
			expect((await verify(token)).status).to.equal(200);
			const again = await verify(token);
			expect(again.status).to.equal(400);
			expect(again.body).to.include({ type: "INVALID_VERIFICATION_TOKEN" });
			expect(again.body.data).to.deep.equal({ reason: "used" });

			const unknown = await verify(crypto.randomBytes(32).toString("base64url"));
			expect(unknown.status).to.equal(400);
			expect(unknown.body).to.include({ type: "INVALID_VERIFICATION_TOKEN" });
			expect(unknown.body.data).to.deep.equal({ reason: "unknown" });
			expect((await verify(undefined)).status).to.equal(422);
			expect((await verify(12345)).status).to.equal(422);
			expect((await verify("x".repeat(600))).status).to.equal(422);
		});

		it("refuses an expired link, and the address stays unverified", async () => {
			const user = await register();
			const token = await lastLink(user.email, "verify-email");
			await db.query(`UPDATE identity.account_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [user.id]);
			const res = await verify(token);
			expect(res.status).to.equal(400);
			expect(res.body).to.include({ type: "INVALID_VERIFICATION_TOKEN" });
			expect(res.body.data).to.deep.equal({ reason: "expired" });
			const { accessToken } = await session(user.email);
			expect((await me(accessToken)).body.user.emailVerified).to.equal(false);
		});

		it("mails a new link on request (the older one stops working), at most one a minute and five an hour (429 with Retry-After)", async () => {
			const user = await register();
			const { accessToken } = await session(user.email);
			const first = await lastLink(user.email, "verify-email");
			expect((await request("POST", "/api/auth/resend-verification")).status).to.equal(401);

			// the registration's link went a moment ago
			const tooSoon = await resend(accessToken);
			expect(tooSoon.status).to.equal(429);
			expect(tooSoon.body.type).to.equal("TOO_MANY_REQUESTS");
			expect(Number(tooSoon.headers.get("retry-after"))).to.be.within(55, 60);

			await age(user.id, 61);
			const again = await resend(accessToken);
			expect(again.status, JSON.stringify(again.body)).to.equal(202);
			expect(again.body).to.deep.equal({ email: user.email });
			const second = await lastLink(user.email, "verify-email", 2);
			expect(second).not.to.equal(first);
			expect((await verify(first)).body.data).to.deep.equal({ reason: "used" });

			// five links within the hour, then nothing until the oldest is an hour old
			for (let sent = 3; sent <= 5; sent++) {
				await age(user.id, 61);
				expect((await resend(accessToken)).status).to.equal(202);
			}
			await age(user.id, 61);
			const hourly = await resend(accessToken);
			expect(hourly.status).to.equal(429);
			expect(Number(hourly.headers.get("retry-after"))).to.be.within(3600 - 5 * 61 - 5, 3600 - 5 * 61);
			const last = await lastLink(user.email, "verify-email", 5);

			expect((await verify(last)).status).to.equal(200);
			const done = await resend(accessToken);
			expect(done.status).to.equal(409);
			expect(done.body.type).to.equal("EMAIL_ALREADY_VERIFIED");
		});

		it("creates the configured admin verified", async () => {
			expect((await me(admin)).body.user.emailVerified).to.equal(true);
		});
	});

	describe("password reset", () => {
		it("answers 202 with the same body for an unknown address, a known one, and one past the mail limits", async () => {
			const user = await register();
			const unknown = uniqueEmail("nobody");
			const answers = [await forgot(unknown), await forgot(user.email), await forgot(user.email.toUpperCase())];
			for (const a of answers) {
				expect(a.status).to.equal(202);
				expect(a.body).to.deep.equal(answers[0].body);
			}
			await lastLink(user.email, "reset-password");
			await settleEvents();
			expect(smtp.to(unknown)).to.have.length(0);
			// the third request came within the minute: no second mail
			expect(smtp.to(user.email).filter(m => m.subject === "Reset your Momentum password")).to.have.length(1);
			expect((await request("POST", "/api/auth/forgot-password", { body: { email: "not an address" } })).status).to.equal(422);
		});

		it("sets the new password once, ends every session on every gateway, forgets failed logins and verifies the address", async () => {
			const user = await register();
			const a = await session(user.email);
			const b = await session(user.email);
			// the gateway now knows a's access token
			expect((await me(a.accessToken)).status).to.equal(200);
			for (let i = 0; i < 3; i++) expect((await login(user.email, "wrong password")).status).to.equal(401);
			expect((await login(user.email)).status, "the login throttle holds the account").to.equal(429);

			expect((await forgot(user.email)).status).to.equal(202);
			const token = await lastLink(user.email, "reset-password");
			expect(smtp.to(user.email).find(m => m.subject === "Reset your Momentum password")!.text).to.contain(`${PUBLIC_URL}/reset-password?token=${token}`);

			const short = await reset(token, "short");
			expect(short.status).to.equal(422);
			const done = await reset(token, "a brand new password");
			expect(done.status, JSON.stringify(done.body)).to.equal(204);

			for (const s of [a, b]) {
				expect((await me(s.accessToken)).status, "an old access token").to.equal(401);
				expect((await refresh(s.refreshToken)).status, "an old refresh token").to.equal(401);
			}
			expect((await login(user.email)).status, "the old password").to.equal(401);
			const fresh = await session(user.email, "a brand new password");
			expect((await me(fresh.accessToken)).body.user.emailVerified).to.equal(true);

			const twice = await reset(token, "yet another password");
			expect(twice.status).to.equal(400);
			expect(twice.body).to.include({ type: "INVALID_RESET_TOKEN" });
			expect((await login(user.email, "yet another password")).status).to.equal(401);
		});

		it("lets only the newest reset link work, and not once it expired", async () => {
			const user = await register();
			expect((await forgot(user.email)).status).to.equal(202);
			const first = await lastLink(user.email, "reset-password");
			await age(user.id, 61);
			expect((await forgot(user.email)).status).to.equal(202);
			const second = await lastLink(user.email, "reset-password", 2);

			const old = await reset(first, "another password");
			expect(old.status).to.equal(400);
			expect(old.body.data).to.deep.equal({ reason: "used" });
			await db.query(
				`UPDATE identity.account_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND purpose = 'resetPassword' AND used_at IS NULL`,
				[user.id]
			);
			const expired = await reset(second, "another password");
			expect(expired.status).to.equal(400);
			expect(expired.body.data).to.deep.equal({ reason: "expired" });
			expect((await login(user.email)).status).to.equal(200);
			expect((await reset("garbage", "another password")).body.type).to.equal("INVALID_RESET_TOKEN");
		});
	});

	describe("change password", () => {
		it("needs the current password, then ends every other session and keeps the caller's", async () => {
			const user = await register();
			const mine = await session(user.email);
			const other = await session(user.email);
			expect((await me(other.accessToken)).status).to.equal(200);
			const change = (currentPassword: string, newPassword: string) =>
				request("POST", "/api/auth/change-password", { token: mine.accessToken, body: { currentPassword, newPassword } });

			const wrong = await change("not my password", "a changed password");
			expect(wrong.status).to.equal(403);
			expect(wrong.body.type).to.equal("INVALID_CURRENT_PASSWORD");
			expect((await change(PASSWORD, "é".repeat(40))).status, "over 72 bytes").to.equal(422);
			expect(
				(await request("POST", "/api/auth/change-password", { body: { currentPassword: PASSWORD, newPassword: "a changed password" } })).status
			).to.equal(401);

			expect((await change(PASSWORD, "a changed password")).status).to.equal(204);
			expect((await me(mine.accessToken)).status, "the caller's session goes on").to.equal(200);
			expect((await refresh(mine.refreshToken)).status).to.equal(200);
			expect((await me(other.accessToken)).status, "another session's access token").to.equal(401);
			expect((await refresh(other.refreshToken)).status).to.equal(401);
			expect((await login(user.email)).status).to.equal(401);
			expect((await login(user.email, "a changed password")).status).to.equal(200);
		});

		it("counts wrong current passwords against the login throttle", async () => {
			const user = await register();
			const { accessToken } = await session(user.email);
			const change = () =>
				request("POST", "/api/auth/change-password", { token: accessToken, body: { currentPassword: "guess", newPassword: "a changed password" } });
			for (let i = 0; i < 3; i++) expect((await change()).status).to.equal(403);
			const blocked = await change();
			expect(blocked.status).to.equal(429);
			expect(Number(blocked.headers.get("retry-after"))).to.be.above(0);
		});
	});

	describe("sessions", () => {
		it("lists one's live sessions with the current one marked, and ends another one everywhere at once", async () => {
			const user = await register();
			const mine = await session(user.email);
			const other = await session(user.email);
			expect((await me(other.accessToken)).status).to.equal(200);

			const list = await request("GET", "/api/auth/sessions", { token: mine.accessToken });
			expect(list.status).to.equal(200);
			expect(list.body.items).to.have.length(2);
			for (const s of list.body.items) {
				expect(Object.keys(s).sort()).to.deep.equal(["createdAt", "current", "expiresAt", "id", "lastUsedAt"]);
				expect(new Date(s.expiresAt).getTime()).to.be.above(Date.now());
			}
			const current = list.body.items.filter((s: { current: boolean }) => s.current);
			expect(current).to.have.length(1);
			const otherId = list.body.items.find((s: { current: boolean }) => !s.current).id;

			const ended = await request("DELETE", `/api/auth/sessions/${otherId}`, { token: mine.accessToken });
			expect(ended.status).to.equal(204);
			expect((await me(other.accessToken)).status).to.equal(401);
			expect((await refresh(other.refreshToken)).status).to.equal(401);
			expect((await me(mine.accessToken)).status).to.equal(200);
			const after = await request("GET", "/api/auth/sessions", { token: mine.accessToken });
			expect(after.body.items.map((s: { id: string }) => s.id)).to.deep.equal([current[0].id]);
			expect((await request("DELETE", `/api/auth/sessions/${otherId}`, { token: mine.accessToken })).status, "already ended").to.equal(404);
		});

		it("answers 404 for someone else's session and an unknown one, revealing nothing, and ends neither", async () => {
			const victim = await register();
			const theirs = await session(victim.email);
			const theirId = (await request("GET", "/api/auth/sessions", { token: theirs.accessToken })).body.items[0].id;
			const eve = await register();
			const eves = await session(eve.email);

			const res = await request("DELETE", `/api/auth/sessions/${theirId}`, { token: eves.accessToken });
			expect(res.status).to.equal(404);
			expect(res.body.type).to.equal("NOT_FOUND");
			const unknown = await request("DELETE", `/api/auth/sessions/${crypto.randomUUID()}`, { token: eves.accessToken });
			expect(unknown.status).to.equal(404);
			expect(unknown.body.message).to.equal(res.body.message);
			expect((await me(theirs.accessToken)).status).to.equal(200);
			expect((await request("DELETE", "/api/auth/sessions/not-a-uuid", { token: eves.accessToken })).status).to.equal(422);
			expect((await request("GET", "/api/auth/sessions")).status).to.equal(401);
		});
	});

	describe("profile", () => {
		it("changes the name and phone at once, with the rules of registration", async () => {
			const user = await register({ name: "Old Name" });
			const { accessToken } = await session(user.email);
			const patch = (body: object) => request("PATCH", "/api/auth/me", { token: accessToken, body });

			const res = await patch({ name: "  New Name ", phone: "+5511912345678" });
			expect(res.status, JSON.stringify(res.body)).to.equal(200);
			expect(res.body.user).to.include({ id: user.id, email: user.email, name: "New Name", phone: "+5511912345678", pendingEmail: null });
			expect((await me(accessToken)).body.user).to.include({ name: "New Name", phone: "+5511912345678" });

			const bad = await patch({ name: "Two\nLines", phone: "12345" });
			expect(bad.status).to.equal(422);
			expect(bad.body.data.map((p: { field: string }) => p.field).sort()).to.deep.equal(["name", "phone"]);
			expect((await patch({ name: "" })).status).to.equal(422);
			expect((await patch({ roles: ["admin"], role: "admin", roleId: "00000000-0000-4000-8000-000000000000" })).body.user.role).to.equal("customer");
			expect((await patch({ phone: null })).body.user.phone).to.equal(null);
			expect((await request("PATCH", "/api/auth/me", { body: { name: "Anonymous" } })).status).to.equal(401);
		});

		it("switches to a new e-mail address only once a link mailed to it is opened; the old one works until then", async () => {
			const user = await verifiedCustomer();
			const next = uniqueEmail("moved");
			const asked = await request("PATCH", "/api/auth/me", { token: user.accessToken, body: { email: next.toUpperCase() } });
			expect(asked.status, JSON.stringify(asked.body)).to.equal(200);
			expect(asked.body.user).to.include({ email: user.email, emailVerified: true, pendingEmail: next });

			const token = await lastLink(next, "verify-email");
			const [mail] = smtp.to(next);
			expect(mail.text + mail.html).not.to.contain("Shopper");
			expect((await login(user.email)).status, "the old address until then").to.equal(200);
			expect((await login(next)).status).to.equal(401);

			const confirmed = await verify(token);
			expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
			expect(confirmed.body).to.deep.equal({ email: next, emailVerified: true });
			expect((await me(user.accessToken)).body.user).to.include({ email: next, emailVerified: true });
			expect((await login(next)).status).to.equal(200);
			expect((await login(user.email)).status).to.equal(401);
		});

		it("answers 409 EMAIL_TAKEN for an address taken when the change is asked for, or by the time it is confirmed", async () => {
			const user = await verifiedCustomer();
			const other = await register();
			const taken = await request("PATCH", "/api/auth/me", { token: user.accessToken, body: { email: other.email, name: "Not Saved" } });
			expect(taken.status).to.equal(409);
			expect(taken.body.type).to.equal("EMAIL_TAKEN");
			expect((await me(user.accessToken)).body.user.name, "nothing changed").to.equal("Shopper");

			const wanted = uniqueEmail("race");
			expect((await request("PATCH", "/api/auth/me", { token: user.accessToken, body: { email: wanted } })).status).to.equal(200);
			const token = await lastLink(wanted, "verify-email");
			const limited = await request("PATCH", "/api/auth/me", { token: user.accessToken, body: { email: uniqueEmail("other") } });
			expect(limited.status, "a link went out a moment ago").to.equal(429);
			expect(Number(limited.headers.get("retry-after"))).to.be.within(55, 60);
			// someone signs up with the address before the link is opened
			expect((await request("POST", "/api/auth/register", { body: { email: wanted, password: PASSWORD, name: "First" } })).status).to.equal(201);
			const late = await verify(token);
			expect(late.status).to.equal(409);
			expect(late.body.type).to.equal("EMAIL_TAKEN");
			expect((await me(user.accessToken)).body.user.email).to.equal(user.email);
		});
	});

	describe("tokens in mails", () => {
		it("are not kept in the notifications table once their message is sent", async () => {
			expect(seenTokens.size).to.be.above(10);
			// once every message in flight is sent
			const stored = await eventually(async () => {
				const r = await rows<{ template: string; status: string; body: string; html: string | null; secret: string | null }>(
					"SELECT template, status, body, html, secret FROM notification.notifications WHERE template IN ('verifyEmail', 'resetPassword')"
				);
				expect(
					r.filter(n => n.status !== "SENT" || n.secret !== null),
					"messages not sent, or keeping a token"
				).to.deep.equal([]);
				return r;
			});
			expect(stored.length).to.be.above(10);
			const text = JSON.stringify(stored);
			for (const token of seenTokens) expect(text, "a mailed token").not.to.contain(token);
			expect(stored.some(n => n.body.includes(`${PUBLIC_URL}/verify-email?token=[hidden]`))).to.equal(true);
			// nor in identity's own tables, which keep only their hashes
			expect(JSON.stringify(await rows("SELECT * FROM identity.account_tokens"))).not.to.satisfy((t: string) => [...seenTokens].some(s => t.includes(s)));
		});

		it("are shown as [redacted] in the dead-letter listing", async () => {
			const linkToken = crypto.randomBytes(32).toString("base64url");
			// a reset link notification cannot send (not an address): handled twice, then dead-lettered
			const envelope: IncomingEnvelope<PasswordResetRequestedEvent> = {
				id: crypto.randomUUID(),
				event: "identity.passwordResetRequested",
				source: "identity",
				occurredAt: new Date().toISOString(),
				data: {
					userId: crypto.randomUUID(),
					email: "not an address",
					tokenId: crypto.randomUUID(),
					linkToken,
					expiresAt: new Date(Date.now() + 60_000).toISOString()
				}
			};
			await shop.broker.call("notification.receiveEvent", envelope);
			const letter = await eventually(async () => {
				const list = await request("GET", "/api/admin/dead-letters", { token: admin });
				const found = list.body.items.find((d: { eventId: string }) => d.eventId === envelope.id);
				expect(found).to.exist;
				return found;
			});
			expect(letter.payload.data.linkToken).to.equal("[redacted]");
			expect(JSON.stringify(letter)).not.to.contain(linkToken);
		});
	});
});
