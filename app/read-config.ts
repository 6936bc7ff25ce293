import path from "node:path";
import { loadConfig, type AppConfig } from "./config";
import { ConfigError } from "../lib/config";
import { devJwtSecret } from "./dev-secret";

/**
 * The process's configuration from its environment; exits 1 with every problem listed when it is invalid.
 * A REPL joining a cluster (`TRANSPORTER` set) runs no services unless `SERVICES` names some.
 */
export function readConfig(opts: { repl?: boolean } = {}): AppConfig {
	const joining = opts.repl && process.env.TRANSPORTER?.trim() && process.env.SERVICES === undefined;
	const env = joining ? { ...process.env, SERVICES: "" } : process.env;
	const production = env.NODE_ENV === "production";
	const dataDir = path.resolve(env.DATA_DIR?.trim() || ".data");
	try {
		return loadConfig(env, { devJwtSecret: !production && !env.JWT_SECRET ? devJwtSecret(dataDir) : undefined });
	} catch (err) {
		if (err instanceof ConfigError) {
			console.error(err.message);
			process.exit(1);
		}
		throw err;
	}
}
