import type { ServiceBroker } from "moleculer";
import type { DeadLetter } from "./inbox";

/**
 * Dead letters of the whole shop: every service with an inbox (ReliableEventsMixin) keeps its own; these
 * helpers gather them through the services' actions, so they work on any node of a cluster (the gateway,
 * a REPL node).
 */

export interface ShopDeadLetter extends DeadLetter {
	/** `<service>:<eventId>`, the id the replay takes. */
	id: string;
	service: string;
}

type Call = <T>(action: string, params?: object) => Promise<T>;

/** Names of the services that run an inbox somewhere in the cluster right now. */
export function servicesWithInbox(broker: ServiceBroker): string[] {
	const list = broker.registry.getServiceList({ onlyAvailable: true, withActions: true }) as { name: string; actions?: Record<string, unknown> }[];
	return [...new Set(list.filter(s => s.actions && `${s.name}.deadLetters` in s.actions).map(s => s.name))].sort();
}

export async function collectDeadLetters(broker: ServiceBroker, call: Call): Promise<ShopDeadLetter[]> {
	const perService = await Promise.all(
		servicesWithInbox(broker).map(async service =>
			(await call<DeadLetter[]>(`${service}.deadLetters`)).map(d => ({ ...d, id: `${service}:${d.eventId}`, service }))
		)
	);
	return perService.flat().sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
}

export const DEAD_LETTER_ID = /^([a-z]+):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Puts a dead letter back in line. Answers false when there is no such dead letter. */
export async function replayDeadLetter(broker: ServiceBroker, call: Call, id: string): Promise<boolean> {
	const match = DEAD_LETTER_ID.exec(id);
	if (!match || !servicesWithInbox(broker).includes(match[1])) return false;
	const { replayed } = await call<{ replayed: boolean }>(`${match[1]}.replayDeadLetter`, { eventId: match[2] });
	return replayed;
}
