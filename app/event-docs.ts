import type { AnyEventContract, EventRoutes } from "../lib/events";

/**
 * Documents of the reliable events, generated from the contracts and the subscriptions themselves, so they
 * cannot drift: the AsyncAPI 3.0 document (docs/asyncapi.json) and the README's saga diagram (Mermaid).
 * `npm run docs` writes both; a test fails when either differs from what the code says.
 */

/** The envelope every reliable event travels in (lib/events.ts `EventEnvelope`), around `data`. */
function envelopeSchema(event: string, data: object): object {
	return {
		type: "object",
		required: ["id", "event", "source", "occurredAt", "correlationId", "data"],
		properties: {
			id: { type: "string", format: "uuid", description: "Unique per fact: consumers deduplicate on it." },
			event: { type: "string", const: event },
			source: { type: "string", description: "The service that wrote it." },
			occurredAt: { type: "string", format: "date-time" },
			correlationId: { type: "string", description: "What the event belongs to: the order id in the checkout saga, the user id for account mails." },
			trace: {
				type: "object",
				description: "The trace context of the call that wrote the event; the consumer's handling continues it.",
				required: ["traceId", "spanId"],
				properties: { traceId: { type: "string" }, spanId: { type: "string" }, sampled: { type: "boolean" } }
			},
			data
		}
	};
}

/** The payload schema with its secret fields said to be secret. */
function withSecrets(schema: object, secrets: readonly string[] | undefined): object {
	if (!secrets?.length) return schema;
	const s = schema as { properties: Record<string, object> };
	const properties = { ...s.properties };
	for (const f of secrets) {
		properties[f] = {
			...properties[f],
			description: "Secret: delivered to its consumer only, removed from the stores once used, shown as [redacted] in dead letters."
		};
	}
	return { ...schema, properties };
}

export function asyncApiDocument(contracts: readonly AnyEventContract[], routes: EventRoutes, version: string): object {
	const channels: Record<string, object> = {};
	const operations: Record<string, object> = {};
	const messages: Record<string, object> = {};
	for (const contract of contracts) {
		for (const [event, definition] of Object.entries(contract.events)) {
			const consumers = routes[event] ?? [];
			messages[event] = {
				name: event,
				title: event,
				summary: definition.summary,
				contentType: "application/json",
				correlationId: { description: `The payload's ${definition.correlateBy}.`, location: "$message.payload#/correlationId" },
				payload: envelopeSchema(event, withSecrets(definition.schema, definition.secrets))
			};
			channels[event] = {
				address: event,
				title: event,
				description: `${definition.summary} Written by ${contract.producer}; taken by ${consumers.join(", ") || "nobody yet"}.`,
				messages: { [event]: { $ref: `#/components/messages/${event}` } }
			};
			const message = [{ $ref: `#/channels/${event}/messages/${event}` }];
			operations[`${contract.producer}.send.${event}`] = {
				action: "send",
				title: `${contract.producer} writes ${event}`,
				description: "Written to the producer's outbox in the transaction of the change it describes; relayed until every consumer has it.",
				channel: { $ref: `#/channels/${event}` },
				messages: message
			};
			for (const consumer of consumers) {
				operations[`${consumer}.receive.${event}`] = {
					action: "receive",
					title: `${consumer} handles ${event}`,
					description: `Taken through ${consumer}.receiveEvent into its inbox (deduplicated by id, payload checked), then handled with retries and a dead-letter store.`,
					channel: { $ref: `#/channels/${event}` },
					messages: message
				};
			}
		}
	}
	return {
		asyncapi: "3.0.0",
		info: {
			title: "Momentum reliable events",
			version,
			description:
				"The events Momentum's services must not lose: the checkout saga and the account mails. Each is written to its producer's " +
				"transactional outbox and handed to one instance of every consuming service (a Moleculer call to `<service>.receiveEvent` " +
				"over the cluster's transporter), which records it in its inbox before handling it. Generated from the contracts " +
				"(services/*/*.events.ts) and the subscriptions; regenerate with `npm run docs`."
		},
		defaultContentType: "application/json",
		channels,
		operations,
		components: { messages }
	};
}

/** The saga as a Mermaid flowchart: one arrow per producer and consumer, labelled with the events between them. */
export function sagaDiagram(contracts: readonly AnyEventContract[], routes: EventRoutes): string {
	const edges = new Map<string, string[]>();
	for (const contract of contracts) {
		for (const event of Object.keys(contract.events)) {
			for (const consumer of routes[event] ?? []) {
				const key = `${contract.producer} --> ${consumer}`;
				edges.set(key, [...(edges.get(key) ?? []), event]);
			}
		}
	}
	const lines = ["```mermaid", "flowchart LR"];
	for (const [key, events] of edges) {
		const [from, to] = key.split(" --> ");
		lines.push(`  ${from} -- "${events.join("<br/>")}" --> ${to}`);
	}
	lines.push("```");
	return lines.join("\n");
}

export const DIAGRAM_BEGIN = "<!-- saga-diagram: generated by `npm run docs` from the event contracts; do not edit -->";
export const DIAGRAM_END = "<!-- end saga-diagram -->";

/** The README with its diagram block replaced by `diagram`. */
export function withDiagram(readme: string, diagram: string): string {
	const start = readme.indexOf(DIAGRAM_BEGIN);
	const end = readme.indexOf(DIAGRAM_END);
	if (start < 0 || end < start) throw new Error("The README has no saga diagram block");
	return readme.slice(0, start + DIAGRAM_BEGIN.length) + "\n" + diagram + "\n" + readme.slice(end);
}
