import type { Service, ServiceSchema } from "moleculer";
import type { DatabaseConfig } from "../config";
import { ServiceDatabase, type Migration } from "../database";

/** What the mixin adds to a service: `this.db`, ready from the service's own `started` handler on. */
export interface DbThis {
	db: ServiceDatabase;
}

/** Implemented by every service that owns data; the gateway's readiness probe asks it. */
export interface HealthCheckable {
	checkHealth(): Promise<boolean>;
}

/**
 * Gives a service its own connection pool and PostgreSQL schema (named after the service), applies the
 * service's migrations when it starts and closes the pool when it stops. With no database URL configured
 * the process-wide embedded PostgreSQL is started on first use and stopped after its last user.
 */
export function DbMixin(opts: { service: string; config: DatabaseConfig; migrations: Migration[] }): Partial<ServiceSchema> {
	type This = Service & Partial<DbThis>;
	return {
		methods: {
			async checkHealth(this: This): Promise<boolean> {
				return this.db !== undefined && (await this.db.ping());
			}
		},
		async started(this: This) {
			this.db = await ServiceDatabase.open({
				service: opts.service,
				config: opts.config,
				migrations: opts.migrations,
				log: msg => this.logger.info(msg)
			});
		},
		async stopped(this: This) {
			const db = this.db;
			this.db = undefined;
			await db?.close();
		}
	};
}
