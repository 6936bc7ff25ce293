import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import type { DatabaseConfig, EventsConfig } from "../config";
import type { Migration } from "../database";
import { InvalidInputError } from "../errors";
import { isEnvelope, RECEIVE_ACTION, subscriptions, type EventContract, type EventRoutes, type IncomingEnvelope, type Subscriptions } from "../events";
import { Inbox, type DeadLetter } from "../inbox";
import { eventTableMigrations, eventTrail, Outbox, type TrailEntry } from "../outbox";
import { purgeDeliveredEvents } from "../event-retention";
import { Pump } from "../pump";
import { eventMetrics } from "../event-metrics";
import { DbMixin, type DbThis } from "./db.mixin";

/** What the mixin adds: `this.outbox.add(t, event, data)` for the events of `M`, and the inbox behind the subscriptions. */
export interface ReliableEventsThis<M = Record<never, never>> {
	outbox: Outbox<M>;
	inbox: Inbox;
	/** Deletes delivered and handled events past EVENT_RETENTION_DAYS. */
	retention: Pump;
	/** Stops counting this service's backlogs at scrape time (lib/event-metrics.ts). */
	stopEventMetrics?: () => void;
}

/**
 * A service's own database (it includes `DbMixin`, with the outbox and inbox tables added to the
 * service's migrations) plus reliable events. Events of `produces` it writes with `this.outbox.add(t, ...)` are
 * published after commit and kept until every service in `routes` has them; events of `subscriptions` are
 * received into the inbox (one instance of the service per event, deduplicated by id, payload checked
 * against its schema) and handled with retries and a dead-letter store.
 *
 * Actions for operators and other services: `<service>.deadLetters`, `<service>.replayDeadLetter`,
 * `<service>.eventTrail` (what it sent and received with one correlation id: an order's saga),
 * `<service>.relayOutbox` and `<service>.drainInbox` (run a pass now).
 */
export function ReliableEventsMixin<M, S>(opts: {
	service: string;
	config: EventsConfig;
	database: DatabaseConfig;
	migrations: Migration[];
	/** The events this service writes. */
	produces?: EventContract<M>;
	/** The events this service handles (built with `subscriptions(service).on(...)`). */
	subscriptions?: Subscriptions<S>;
	/** Who must receive each event (`routesFrom` every service's subscriptions). */
	routes: EventRoutes;
}): Partial<ServiceSchema> {
	type This = Service & DbThis & ReliableEventsThis<M>;
	const subs = opts.subscriptions ?? subscriptions<S>(opts.service);
	if (subs.service !== opts.service) throw new Error(`Subscriptions of ${subs.service} given to ${opts.service}`);
	const handled = subs.events;
	type Schema = Partial<ServiceSchema<ServiceSettingSchema, Record<string, never>, DbThis & ReliableEventsThis<M>>>;
	const events: NonNullable<Schema["events"]> = {};
	for (const event of handled) {
		events[event] = {
			group: opts.service,
			async handler(this: This, ctx: Context<unknown>) {
				if (!isEnvelope(ctx.params)) {
					this.logger.warn(`Ignoring ${event}: not an event envelope`);
					return;
				}
				await this.inbox.receive(ctx.params);
			}
		};
	}

	events["$services.changed"] = {
		handler(this: This) {
			// a consumer that comes (back) up gets what waited for it at once
			this.outbox?.wake().catch(err => this.logger.warn("Could not wake the outbox:", err));
		}
	};

	const schema: Schema = {
		// nested, so the database is open before the relays start and closed after they stop
		mixins: [DbMixin({ service: opts.service, config: opts.database, migrations: [...opts.migrations, ...eventTableMigrations] })],
		events,
		actions: {
			deadLetters: {
				visibility: "public",
				async handler(this: This): Promise<DeadLetter[]> {
					return this.inbox.deadLetters();
				}
			},
			replayDeadLetter: {
				visibility: "public",
				params: { eventId: { type: "uuid" } },
				async handler(this: This, ctx: Context<{ eventId: string }>): Promise<{ replayed: boolean }> {
					return { replayed: await this.inbox.replay(ctx.params.eventId) };
				}
			},
			eventTrail: {
				visibility: "public",
				params: { correlationId: { type: "string", min: 1, max: 200 } },
				async handler(this: This, ctx: Context<{ correlationId: string }>): Promise<TrailEntry[]> {
					return eventTrail(this.db, opts.service, ctx.params.correlationId);
				}
			},
			relayOutbox: {
				visibility: "public",
				async handler(this: This): Promise<{ published: number; pending: number }> {
					const published = await this.outbox.relay();
					return { published, pending: await this.outbox.pending() };
				}
			},
			drainInbox: {
				visibility: "public",
				async handler(this: This): Promise<{ handled: number }> {
					return { handled: await this.inbox.drain() };
				}
			}
		},
		started(this: This) {
			const c = opts.config;
			this.outbox = new Outbox(this.db, this.broker, this.logger, opts.service, opts.produces, opts.routes, c.pollMs);
			this.inbox = new Inbox(
				this.db,
				this.logger,
				subs,
				this,
				{ maxAttempts: c.maxAttempts, concurrency: c.concurrency, baseDelayMs: c.retryBaseMs, maxDelayMs: c.retryMaxMs },
				c.pollMs,
				this.broker.nodeID,
				this.broker.tracer
			);
			const metrics = eventMetrics(this.broker, opts.service, () => this.db, Object.keys(opts.produces?.events ?? {}), handled);
			this.outbox.metrics = metrics.hooks;
			this.inbox.metrics = metrics.hooks;
			this.stopEventMetrics = metrics.stop;
			this.outbox.start();
			this.inbox.start();
			this.retention = new Pump(
				async stopping => {
					const purged = await purgeDeliveredEvents(this.db, c.retentionDays, stopping);
					if (purged.outbox + purged.inbox > 0) {
						this.logger.info(
							`Purged ${purged.outbox} delivered outbox and ${purged.inbox} handled inbox events older than ${c.retentionDays} days`
						);
					}
				},
				c.retentionIntervalSeconds * 1000,
				err => this.logger.warn("Purging old events failed; will try again:", err)
			);
			this.retention.start();
		},
		async stopped(this: This) {
			this.stopEventMetrics?.();
			await Promise.all([this.outbox?.stop(), this.inbox?.stop(), this.retention?.stop()]);
		}
	};
	if (handled.length > 0) {
		/**
		 * Takes an event into this instance's inbox and answers once it is stored (the outbox relay's
		 * acknowledged hand-off). A duplicate changes nothing. Throws VALIDATION_ERROR (422) for an envelope
		 * of an event this service does not handle.
		 */
		schema.actions![RECEIVE_ACTION] = {
			visibility: "public",
			params: { id: { type: "uuid" }, event: { type: "enum", values: handled }, $$strict: false },
			async handler(this: This, ctx: Context<IncomingEnvelope>): Promise<{ accepted: boolean }> {
				if (!isEnvelope(ctx.params)) throw new InvalidInputError([{ field: "data", message: "Not an event envelope", type: "object" }]);
				return { accepted: await this.inbox.receive(ctx.params) };
			}
		};
	}
	// a mixin's schema is typed for the service it joins; Moleculer's mixin list wants the plain shape
	return schema as unknown as Partial<ServiceSchema>;
}
