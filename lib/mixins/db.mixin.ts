import type { Service, ServiceSchema } from "moleculer";
import type { DatabaseConfig } from "../config";
import { ServiceDatabase, type Migration } from "../database";
import { defineMetrics, onScrape, type MetricDef } from "../metrics";

/** Each service's connection pool, read when Prometheus scrapes (no query). */
export const DB_POOL_METRICS = {
	connections: {
		type: "gauge",
		name: "momentum_db_pool_connections",
		description: "Connections of a service's database pool, by state (in_use, idle)",
		labelNames: ["service", "state"]
	},
	max: {
		type: "gauge",
		name: "momentum_db_pool_max_connections",
		description: "Most connections a service's pool opens (DATABASE_POOL_MAX)",
		labelNames: ["service"]
	},
	waiting: { type: "gauge", name: "momentum_db_pool_waiting", description: "Queries waiting for a connection of a service's pool", labelNames: ["service"] }
} satisfies Record<string, MetricDef>;

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
	type This = Service & Partial<DbThis> & { stopPoolMetrics?: () => void };
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
			const m = defineMetrics(this.broker, DB_POOL_METRICS);
			const service = opts.service;
			this.stopPoolMetrics = onScrape(this.broker, () => {
				if (!this.db) return;
				const pool = this.db.poolStats();
				m.connections.set(pool.inUse, { service, state: "in_use" });
				m.connections.set(pool.idle, { service, state: "idle" });
				m.waiting.set(pool.waiting, { service });
				m.max.set(pool.max, { service });
			});
		},
		async stopped(this: This) {
			this.stopPoolMetrics?.();
			const db = this.db;
			this.db = undefined;
			await db?.close();
		}
	};
}
