import type { ServiceSchema } from "moleculer";
import type { AppConfig, ServiceName } from "./config";
import { createCartService } from "../services/cart/cart.service";
import { createCatalogService } from "../services/catalog/catalog.service";
import { createDeadLettersService } from "../services/gateway/dead-letters.service";
import { createGatewayService } from "../services/gateway/gateway.service";
import { createIdentityGrpcService } from "../services/identity/identity-grpc.service";
import { createIdentityService } from "../services/identity/identity.service";
import { createInventoryService } from "../services/inventory/inventory.service";
import { createNotificationService } from "../services/notification/notification.service";
import { createOrderService } from "../services/order/order.service";
import { createPaymentService } from "../services/payment/payment.service";

// Each factory is typed with its own settings, methods and fields; here they only need to be schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Factory = (config: AppConfig) => ServiceSchema<any, any, any>;

/**
 * What each name in `SERVICES` runs. A domain may bring companions (identity brings its gRPC adapter).
 * Domains not built yet are absent and are skipped with a warning.
 */
export const SERVICE_FACTORIES: Partial<Record<ServiceName, Factory[]>> = {
	// the gateway knows every route the shop publishes, also those whose service it has not met yet
	gateway: [config => createGatewayService(config, publishedRoutes(config)), createDeadLettersService],
	identity: [createIdentityService, createIdentityGrpcService],
	catalog: [createCatalogService],
	inventory: [createInventoryService],
	cart: [createCartService],
	order: [createOrderService],
	payment: [config => createPaymentService(config)],
	notification: [config => createNotificationService(config)]
};

export function schemasFor(config: AppConfig, warn: (msg: string) => void): ServiceSchema[] {
	const schemas: ServiceSchema[] = [];
	for (const name of config.services) {
		const factories = SERVICE_FACTORIES[name];
		if (!factories) {
			warn(`Service "${name}" is not implemented yet; skipping it`);
			continue;
		}
		for (const f of factories) schemas.push(f(config));
	}
	return schemas;
}

/** A route some service of the shop publishes through the gateway (`/api` + the service's base + the action's path). */
export interface PublishedRoute {
	/** GET, POST, ...; "*" for any. */
	method: string;
	/** e.g. /api/products/:id */
	path: string;
}

/**
 * Every REST route of every service, read from the schemas themselves (their `rest` declarations), whether
 * or not this process runs them: what the gateway answers 503 instead of 404 for while no instance of the
 * service is known (a node restarting, a cluster still joining).
 */
export function publishedRoutes(config: AppConfig): PublishedRoute[] {
	const routes: PublishedRoute[] = [];
	for (const [name, factories] of Object.entries(SERVICE_FACTORIES)) {
		for (const f of factories ?? []) {
			if (name === "gateway" && f !== createDeadLettersService) continue;
			const schema = f(config);
			const base = (schema.settings as { rest?: string } | undefined)?.rest ?? `/${schema.name}`;
			for (const action of Object.values(schema.actions ?? {})) {
				if (!action || typeof action !== "object" || (action as { visibility?: string }).visibility !== "published") continue;
				const rests = ([] as unknown[]).concat((action as { rest?: unknown }).rest ?? []);
				for (const rest of rests) {
					if (typeof rest !== "string") continue;
					const [method, route] = rest.includes(" ") ? rest.split(/\s+/, 2) : ["*", rest];
					routes.push({ method: method.toUpperCase(), path: `/api/${[base, route].join("/").split("/").filter(Boolean).join("/")}` });
				}
			}
		}
	}
	return routes;
}
