import { stopTestDatabaseServer } from "./database";
import { validatedResponses } from "./openapi";

/** Mocha root hooks: shared test infrastructure outlives single files and is stopped at the very end. */
export const mochaHooks = {
	async afterAll(this: Mocha.Context) {
		this.timeout(60_000);
		await stopTestDatabaseServer();
		const checked = validatedResponses();
		if (checked > 0) console.log(`  ${checked} answers of the API (from the HTTP tests and the pages) were checked against its OpenAPI document`);
	}
};
