import { expect } from "chai";
import type { httpClient } from "./http";

type Request = ReturnType<typeof httpClient>;

/** The admin every e2e shop is started with (see `testConfig`'s ADMIN_EMAIL / ADMIN_PASSWORD). */
export const TEST_ADMIN = { email: "admin@momentum.test", password: "admin-password" };

let seq = 0;
export function uniqueEmail(prefix = "shopper"): string {
	return `${prefix}.${process.pid}.${Date.now()}.${++seq}@example.com`;
}

export async function loginAs(request: Request, email: string, password: string): Promise<string> {
	const res = await request("POST", "/api/auth/login", { body: { email, password } });
	expect(res.status, JSON.stringify(res.body)).to.equal(200);
	return res.body.accessToken as string;
}

export function adminToken(request: Request): Promise<string> {
	return loginAs(request, TEST_ADMIN.email, TEST_ADMIN.password);
}

/** Registers a new customer and answers their access token and id. */
export async function newCustomer(request: Request, name = "Shopper"): Promise<{ token: string; id: string; email: string }> {
	const email = uniqueEmail();
	const reg = await request("POST", "/api/auth/register", { body: { email, password: "password123", name } });
	expect(reg.status, JSON.stringify(reg.body)).to.equal(201);
	return { token: await loginAs(request, email, "password123"), id: reg.body.user.id, email };
}
