import { stopTestDatabaseServer } from "./database";

/** Mocha root hooks: shared test infrastructure outlives single files and is stopped at the very end. */
export const mochaHooks = {
	async afterAll(this: Mocha.Context) {
		this.timeout(60_000);
		await stopTestDatabaseServer();
	}
};
