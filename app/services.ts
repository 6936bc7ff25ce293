import type { ServiceSchema } from "moleculer";
import type { AppConfig, ServiceName } from "./config";
import { routesFrom, type AnyEventContract, type EventRoutes, type Subscriptions } from "../lib/events";
import { cartSubscriptions, createCartService } from "../services/cart/cart.service";
import { createCatalogService } from "../services/catalog/catalog.service";
import { createDeadLettersService } from "../services/gateway/dead-letters.service";
import { createGatewayService } from "../services/gateway/gateway.service";
import { createIdentityGrpcService } from "../services/identity/identity-grpc.service";
import { identityEvents } from "../services/identity/identity.events";
import { createIdentityService } from "../services/identity/identity.service";
import { inventoryEvents } from "../services/inventory/inventory.events";
import { createInventoryService, inventorySubscriptions } from "../services/inventory/inventory.service";
import { createNotificationService, notificationSubscriptions } from "../services/notification/notification.service";
import { orderEvents } from "../services/order/order.events";
import { createOrderService, orderSubscriptions } from "../services/order/order.service";
import { paymentEvents } from "../services/payment/payment.events";
import { createPaymentService, paymentSubscriptions } from "../services/payment/payment.service";

// Each factory is typed with its own settings, methods and fields; here they only need to be schemas.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Factory = (config: AppConfig, routes: EventRoutes) => ServiceSchema<any, any, any>;

/** A domain as the application assembles it: its services, the reliable events it writes, and those it handles. */
interface Domain {
	/** What its name in `SERVICES` runs (a domain may bring companions: identity brings its gRPC adapter). */
	services: Factory[];
	produces?: AnyEventContract;
	subscriptions?: Subscriptions<never>;
}

export const DOMAINS: Record<ServiceName, Domain> = {
	// the gateway knows every route the shop publishes, also those whose service it has not met yet
	gateway: { services: [config => createGatewayService(config, publishedRoutes(config)), createDeadLettersService] },
	identity: { services: [createIdentityService, createIdentityGrpcService], produces: identityEvents },
	catalog: { services: [createCatalogService] },
	inventory: { services: [createInventoryService], produces: inventoryEvents, subscriptions: inventorySubscriptions },
	cart: { services: [createCartService], subscriptions: cartSubscriptions },
	order: { services: [createOrderService], produces: orderEvents, subscriptions: orderSubscriptions },
	payment: { services: [(config, routes) => createPaymentService(config, routes)], produces: paymentEvents, subscriptions: paymentSubscriptions },
	notification: { services: [(config, routes) => createNotificationService(config, routes)], subscriptions: notificationSubscriptions }
};

/** Every reliable event's contract. */
export const EVENT_CONTRACTS: AnyEventContract[] = Object.values(DOMAINS).flatMap(d => (d.produces ? [d.produces] : []));

/** What each consuming service handles. */
export const SUBSCRIPTIONS: Subscriptions<never>[] = Object.values(DOMAINS).flatMap(d => (d.subscriptions ? [d.subscriptions] : []));

/** Who must receive each reliable event, derived from the subscriptions: the outboxes keep a row until each has it. */
export const EVENT_ROUTES: EventRoutes = routesFrom(SUBSCRIPTIONS);

export function schemasFor(config: AppConfig, warn: (msg: string) => void): ServiceSchema[] {
	const schemas: ServiceSchema[] = [];
	for (const name of config.services) {
		const domain = DOMAINS[name];
		if (!domain) {
			warn(`Service "${name}" is not implemented yet; skipping it`);
			continue;
		}
		for (const f of domain.services) schemas.push(f(config, EVENT_ROUTES));
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
	for (const [name, domain] of Object.entries(DOMAINS)) {
		for (const f of domain.services) {
			if (name === "gateway" && f !== createDeadLettersService) continue;
			const schema = f(config, EVENT_ROUTES);
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
