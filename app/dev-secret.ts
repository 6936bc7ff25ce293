import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Outside production, a missing JWT_SECRET is replaced by a random one kept in DATA_DIR, so tokens
 * survive a restart of the development shop without anyone committing a fallback secret.
 */
export function devJwtSecret(dataDir: string): string {
	const file = path.join(dataDir, "jwt-secret");
	try {
		const existing = fs.readFileSync(file, "utf8").trim();
		if (existing.length >= 32) return existing;
	} catch {
		// first start: create it below
	}
	fs.mkdirSync(dataDir, { recursive: true });
	const secret = crypto.randomBytes(32).toString("hex");
	fs.writeFileSync(file, secret + "\n", { mode: 0o600 });
	return secret;
}
