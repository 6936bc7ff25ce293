import fs from "node:fs";
import path from "node:path";
import type { ServiceSchema } from "moleculer";
import type { AppConfig, ServiceName } from "./config";
import { openApiDocument, type DocumentedRoute, type JsonSchema } from "../lib/openapi";
import { projectRoot } from "../lib/paths";
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
	gateway: {
		services: [
			config => {
				const routes = documentedRoutes(config);
				return createGatewayService(config, routes, openApiFor(config, routes));
			},
			createDeadLettersService
		]
	},
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
	return documentedRoutes(config).map(r => ({ method: r.method, path: r.path }));
}

/** The published routes with what their actions declare (params, access, responses): what the OpenAPI document is made of. */
export function documentedRoutes(config: AppConfig): DocumentedRoute[] {
	const routes: DocumentedRoute[] = [];
	for (const [name, domain] of Object.entries(DOMAINS)) {
		for (const f of domain.services) {
			if (name === "gateway" && f !== createDeadLettersService) continue;
			const schema = f(config, EVENT_ROUTES);
			const base = (schema.settings as { rest?: string } | undefined)?.rest ?? `/${schema.name}`;
			for (const [actionName, action] of Object.entries(schema.actions ?? {})) {
				if (!action || typeof action !== "object" || (action as { visibility?: string }).visibility !== "published") continue;
				const rests = ([] as unknown[]).concat((action as { rest?: unknown }).rest ?? []);
				for (const rest of rests) {
					if (typeof rest !== "string") continue;
					const [method, route] = rest.includes(" ") ? rest.split(/\s+/, 2) : ["*", rest];
					routes.push({
						method: method.toUpperCase(),
						path: `/api/${[base, route].join("/").split("/").filter(Boolean).join("/")}`,
						action: `${schema.name}.${actionName}`,
						schema: action as DocumentedRoute["schema"]
					});
				}
			}
		}
	}
	return routes;
}

/** The shop's OpenAPI 3.1 document (lib/openapi.ts), from every service's schema. */
export function openApiFor(config: AppConfig, routes: readonly DocumentedRoute[] = documentedRoutes(config)): JsonSchema {
	return openApiDocument(routes, {
		title: "Momentum",
		version: PACKAGE_VERSION,
		description: API_DESCRIPTION
	});
}

const PACKAGE_VERSION = (JSON.parse(fs.readFileSync(path.join(projectRoot(), "package.json"), "utf8")) as { version: string }).version;

const API_DESCRIPTION = [
	"The REST API of Momentum, generated from the services' own action declarations.",
	"",
	"**Authentication.** Sign in with `POST /api/auth/login` and send the access token as `Authorization: Bearer <token>`. Routes marked public need none; others answer 401 without one, and 403 when the role lacks the permission named in `x-permission`.",
	"",
	"**Errors.** Every error has one shape (`Error`): `{ name, message, code, type, data, requestId }`. Branch on `type` (SCREAMING_SNAKE); a bad parameter answers 422 VALIDATION_ERROR with `data` listing `{ field, message, type }`.",
	"",
	"**Pagination.** Listings take `page` (from 1) and `pageSize` (1 to 100, default 20) and answer `{ items, total, page, pageSize }`.",
	"",
	"**Try again later.** 429 (rate limit) and 503 (a service or its database unavailable, or busy) carry `Retry-After` in seconds; nothing was done.",
	"",
	"**Request ids.** Every response has `X-Request-Id` (yours when you send a UUID or 16 to 64 hex digits); quote it when reporting a problem.",
	"",
	"**Idempotency.** `POST /api/orders` takes an `Idempotency-Key` header: the same key again answers the first order instead of placing another."
].join("\n");
