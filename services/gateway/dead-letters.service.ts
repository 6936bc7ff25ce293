import type { Context, ServiceSchema } from "moleculer";
import "../identity/identity.access";
import type { AppConfig } from "../../app/config";
import { collectDeadLetters, DEAD_LETTER_ID, replayDeadLetter, type ShopDeadLetter } from "../../lib/dead-letters";
import { NotFoundError } from "../../lib/errors";

/** Admin routes over every service's dead-letter store. Stateless; runs with the gateway. */
export function createDeadLettersService(_config: AppConfig): ServiceSchema {
	return {
		name: "deadLetters",
		settings: { rest: "/admin/dead-letters" },
		actions: {
			/** Every dead letter in the cluster, newest first. Needs `deadletter.view`. */
			list: {
				rest: "GET /",
				responses: {
					200: {
						description: "Every dead letter in the cluster, newest first; secret payload fields show as [redacted]",
						schema: {
							type: "object",
							required: ["items"],
							properties: {
								items: {
									type: "array",
									items: {
										type: "object",
										required: ["id", "service", "eventId", "event", "payload", "attempts", "lastError", "receivedAt"],
										properties: {
											id: { type: "string", description: "`<service>:<eventId>`, what the replay takes" },
											service: { type: "string" },
											eventId: { type: "string", format: "uuid" },
											event: { type: "string" },
											payload: { type: "object", description: "The event's envelope (docs/asyncapi.json)" },
											attempts: { type: "integer", minimum: 0 },
											lastError: { type: ["string", "null"] },
											receivedAt: { type: "string", format: "date-time" }
										}
									}
								}
							}
						}
					}
				},
				visibility: "published",
				permission: "deadletter.view",
				async handler(ctx: Context): Promise<{ items: ShopDeadLetter[] }> {
					return { items: await collectDeadLetters(this.broker, (action, params) => ctx.call(action, params)) };
				}
			},

			/** Puts a dead letter back in line with a fresh set of attempts. Throws NOT_FOUND (404). Needs `deadletter.update`. */
			replay: {
				rest: "POST /:id/replay",
				responses: {
					200: {
						description: "Back in line with a fresh set of attempts",
						schema: { type: "object", required: ["id", "replayed"], properties: { id: { type: "string" }, replayed: { const: true } } }
					}
				},
				errors: { 404: ["NOT_FOUND"] },
				visibility: "published",
				permission: "deadletter.update",
				params: {
					id: { type: "string", pattern: DEAD_LETTER_ID, messages: { stringPattern: "The 'id' field must look like '<service>:<event id>'." } }
				},
				async handler(ctx: Context<{ id: string }>): Promise<{ id: string; replayed: true }> {
					const replayed = await replayDeadLetter(this.broker, (action, params) => ctx.call(action, params), ctx.params.id);
					if (!replayed) throw new NotFoundError("Dead letter", ctx.params.id);
					return { id: ctx.params.id, replayed: true };
				}
			}
		}
	};
}
