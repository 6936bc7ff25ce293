import { ServiceBroker } from "moleculer";
import brokerOptions from "../moleculer.config";
import { seedDemoData } from "../services/catalog/catalog.demo-data";
import type { AppConfig } from "./config";
import { readConfig } from "./read-config";
import { readArgs, SEED_COMMAND } from "./cli";
import { schemasFor } from "./services";

/**
 * `npm run seed`: creates the demo products that are missing (with their stock) and exits. Uses the same
 * configuration as `npm start` but runs only catalog and inventory, whatever SERVICES says. With the
 * embedded database it uses the server of a running `npm start` on the same DATA_DIR, if there is one.
 */
async function seed(): Promise<void> {
	readArgs(SEED_COMMAND);
	const base = readConfig();
	const config: AppConfig = { ...base, services: ["catalog", "inventory"] };
	const options = brokerOptions(config);
	const broker = new ServiceBroker({ ...options, nodeID: `${options.nodeID}-seed` });
	const log = broker.getLogger("momentum");
	for (const schema of schemasFor(config, msg => log.warn(msg))) broker.createService(schema);
	let failed = false;
	try {
		await broker.start();
		await broker.waitForServices(["catalog"], 10_000);
		await broker.waitForServices(["inventory"], 10_000).catch(() => log.warn("Inventory did not show up within 10 s"));
		const created = await seedDemoData(broker, log);
		console.log(`Created ${created} demo product(s)`);
	} catch (err) {
		failed = true;
		log.error("Seeding failed:", err);
	} finally {
		await broker.stop().catch(err => {
			failed = true;
			log.error("Stopping failed:", err);
		});
	}
	process.exit(failed ? 1 : 0);
}

void seed();
