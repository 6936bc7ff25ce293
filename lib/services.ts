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
	gateway: [createGatewayService, createDeadLettersService],
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
