import type { ServiceBroker } from "moleculer";
import type { TrailEntry } from "../lib/outbox";
import { collectDeadLetters, replayDeadLetter } from "../lib/dead-letters";
import type { SagaTrail } from "../services/order/order.service";

/** Custom commands of `npm run repl` (moleculer.config.ts `replOptions`). */

type Call = <T>(action: string, params?: object) => Promise<T>;

/** moleculer-repl types `args` as string[] but passes { options, rawCommand, <named args> }. */
type ReplArgs = Record<string, string | undefined>;

const callOf =
	(broker: ServiceBroker): Call =>
	<T>(action: string, params?: object) =>
		broker.call<T, object>(action, params ?? {});

function describe(e: TrailEntry): string {
	const arrow = e.direction === "sent" ? "->" : "<-";
	const detail =
		e.direction === "sent"
			? e.status === "PUBLISHED"
				? `delivered to ${e.deliveredTo?.join(", ") || "its listeners"}`
				: `waiting for ${e.deliveredTo?.length ? `more than ${e.deliveredTo.join(", ")}` : "its consumers"}`
			: `${e.status.toLowerCase()}${e.handledBy ? ` on ${e.handledBy}` : ""}${e.attempts ? `, ${e.attempts} attempt(s)` : ""}${e.lastError ? `: ${e.lastError}` : ""}`;
	return `  ${e.at}  ${e.service.padEnd(12)} ${arrow} ${e.event.padEnd(28)} ${detail}`;
}

/** The saga of one order as text: where it stands, its history, and the events each service saw. */
export function formatSagaTrail(trail: SagaTrail): string {
	const { order } = trail;
	const lines = [
		`Order ${order.id}: ${order.status}${order.cancelReason ? ` (${order.cancelReason})` : ""}, ${order.totalCents} ${order.currency}, payment ${order.paymentStatus ?? "none yet"}`,
		"History:",
		...order.history.map(h => `  ${h.at}  ${h.status}${h.reason ? ` (${h.reason})` : ""}`),
		"Events (-> sent, <- received):",
		...(trail.events.length > 0 ? trail.events.map(describe) : ["  none"])
	];
	if (trail.unreachable.length > 0) lines.push(`Could not ask: ${trail.unreachable.join(", ")}`);
	return lines.join("\n");
}

export const replCommands = [
	{
		command: "saga <orderId>",
		description: "Show an order's saga: its history and the events each service sent and received",
		async action(broker: ServiceBroker, args: string[]) {
			const orderId = (args as unknown as ReplArgs).orderId;
			try {
				console.log(formatSagaTrail(await callOf(broker)<SagaTrail>("order.saga", { id: orderId })));
			} catch (err) {
				console.log(`Cannot show the saga of ${orderId}: ${(err as Error).message}`);
			}
		}
	},
	{
		command: "dlq [id]",
		description: "List the dead letters of every service, or replay one: dlq <service:eventId>",
		async action(broker: ServiceBroker, args: string[]) {
			const id = (args as unknown as ReplArgs).id;
			const call = callOf(broker);
			if (id) {
				const replayed = await replayDeadLetter(broker, call, id);
				console.log(replayed ? `Replaying ${id}` : `No dead letter ${id}`);
				return;
			}
			const letters = await collectDeadLetters(broker, call);
			if (letters.length === 0) console.log("No dead letters.");
			for (const d of letters) console.log(`${d.id}  ${d.event}  attempts ${d.attempts}  ${d.receivedAt}\n    ${d.lastError ?? ""}`);
		}
	}
];
