import { loadConfig, type AppConfig } from "../../app/config";
import { ConfigError, type Env } from "../../lib/config";

/** loadConfig for a test environment with a valid secret; `env` adds or overrides variables. */
export const loadTestConfig = (env: Env): AppConfig => loadConfig({ NODE_ENV: "test", JWT_SECRET: "x".repeat(40), ...env });

/** The problems loadConfig reports for this test environment; none when it accepts it. */
export function configProblems(env: Env): string[] {
	try {
		loadTestConfig(env);
	} catch (err) {
		if (err instanceof ConfigError) return err.problems;
		throw err;
	}
	return [];
}
