import { AsyncLocalStorage } from "node:async_hooks";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { CallingOptions, Context, Middleware } from "moleculer";
import type { Transaction } from "sequelize";

/**
 * Reliable events as a typed contract. A producing domain declares its events once (`defineEvents`): name,
 * payload type, JSON Schema, which field correlates it and which fields are secret. It writes them with an
 * outbox typed by that contract, so a wrong name or payload does not compile. A consuming domain subscribes
 * with handlers typed by the same contract (`subscriptions(...).on(contract, {...})`); the relay's routes
 * (who must receive what) are derived from every service's subscriptions (`routesFrom`). Payloads are
 * validated once, when they enter a consumer's inbox.
 */

/** Where the call that wrote an event stood in its trace; the consumer's handling continues it. */
export interface TraceContext {
	/** Moleculer's request id: the same on every call of one request, across nodes. */
	traceId: string;
	/** The context (span) that wrote the event. */
	spanId: string;
	sampled?: boolean;
}

/**
 * Facts that must not be lost travel as envelopes: written to the producer's outbox in the same
 * transaction as the change they describe, handed to each consumer's inbox (deduplicated by `id`), then
 * handled with retries.
 */
export interface EventEnvelope<T = unknown> {
	/** Unique per fact: consumers deduplicate on it. */
	id: string;
	event: string;
	/** The service that wrote it. */
	source: string;
	occurredAt: string;
	/** What the event belongs to, for following one process across services (the order id in the checkout saga). */
	correlationId: string;
	/** Absent when the event was not written during a call (a timer's pass). */
	trace?: TraceContext;
	data: T;
}

/** An envelope as it may arrive: producers older than correlation ids did not set one (the inbox derives it). */
export type IncomingEnvelope<T = unknown> = Omit<EventEnvelope<T>, "correlationId"> & { correlationId?: string };

/** The payload fields of `T` that must be present. */
type RequiredField<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T] & string;

/**
 * A payload's JSON Schema, held to its type where the compiler can: every field of `T` has a schema, no other
 * field is described, and `required` names only fields `T` requires. What each field's schema says is
 * checked at run time, on every event an inbox takes (a producer's payload that breaks it dead-letters).
 */
export interface PayloadSchema<T> {
	type: "object";
	description?: string;
	properties: { [K in keyof T & string]-?: object };
	required: readonly RequiredField<T>[];
}

/** The payload fields of `T` that hold a string (a correlation id must be one). */
type StringField<T> = { [K in keyof T]-?: T[K] extends string ? K : never }[keyof T] & string;

export interface EventDefinition<T> {
	/** One line for the AsyncAPI document and the README. */
	summary: string;
	/** The payload's JSON Schema. */
	schema: PayloadSchema<T>;
	/** The payload field whose value is the envelope's correlation id. */
	correlateBy: StringField<T>;
	/**
	 * Fields that carry secrets: delivered to consumers, never shown (dead letters are listed with them
	 * replaced), and removed from the stores by `scrub` once they have done their job.
	 */
	secrets?: readonly (keyof T & string)[];
}

/** Any event's definition, as the toolkit handles it without knowing the payload's type. */
export interface AnyEventDefinition {
	summary: string;
	schema: object;
	correlateBy: string;
	secrets?: readonly string[];
}

/** Any domain's events, as the toolkit handles them. */
export interface AnyEventContract {
	producer: string;
	events: Readonly<Record<string, AnyEventDefinition>>;
}

/** A domain's events: who writes them and what each one is. `M` maps event names to payload types. */
export interface EventContract<M> {
	producer: string;
	events: { readonly [K in keyof M & string]: EventDefinition<M[K]> };
}

export function defineEvents<M>(producer: string, events: { [K in keyof M & string]: EventDefinition<M[K]> }): EventContract<M> {
	return { producer, events };
}

/** A handler of one event: its writes go through `t`, which also marks the event handled. */
export type EventHandler<S, T> = (this: S, event: EventEnvelope<T>, t: Transaction) => Promise<void>;

/** One event a service takes into its inbox, with its definition and handler. */
export interface Subscription<S> {
	event: string;
	producer: string;
	definition: AnyEventDefinition;
	// a method, so that subscriptions of any service fit the toolkit's `Subscriptions<unknown>`
	handle(this: S, event: EventEnvelope, t: Transaction): Promise<void>;
}

/** What one service consumes, built with `subscriptions(service).on(contract, handlers)...`. */
export class Subscriptions<S> {
	constructor(
		readonly service: string,
		readonly list: readonly Subscription<S>[] = []
	) {}

	/** Adds handlers for events of one contract. A name the contract lacks, or a payload it does not give, fails to compile. */
	on<M>(contract: EventContract<M>, handlers: { [K in keyof M & string]?: EventHandler<S, M[K]> }): Subscriptions<S> {
		const added: Subscription<S>[] = [];
		for (const [event, handle] of Object.entries(handlers) as [keyof M & string, EventHandler<S, unknown> | undefined][]) {
			const definition = contract.events[event] as AnyEventDefinition | undefined;
			if (!definition) throw new Error(`${contract.producer} has no event ${event}`);
			if (handle) added.push({ event, producer: contract.producer, definition, handle: handle as Subscription<S>["handle"] });
		}
		return new Subscriptions(this.service, [...this.list, ...added]);
	}

	get events(): string[] {
		return this.list.map(s => s.event);
	}

	find(event: string): Subscription<S> | undefined {
		return this.list.find(s => s.event === event);
	}
}

export function subscriptions<S>(service: string): Subscriptions<S> {
	return new Subscriptions<S>(service);
}

/** For each event, the services that must receive it: the relay keeps a row until each has taken it. */
export type EventRoutes = Readonly<Record<string, readonly string[]>>;

/** The routes of every event some service subscribes to, from the subscriptions themselves. */
export function routesFrom(all: readonly Pick<Subscriptions<never>, "service" | "events">[]): EventRoutes {
	const routes: Record<string, string[]> = {};
	for (const s of all) for (const event of s.events) (routes[event] ??= []).push(s.service);
	return routes;
}

/** The action through which a service with an inbox takes events (`<service>.receiveEvent`), acknowledging each. */
export const RECEIVE_ACTION = "receiveEvent";

/** Exponential backoff with jitter: base, 2x base, 4x base, ... capped, each within +-20 %. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
	const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
	return Math.round(exp * (0.8 + 0.4 * random()));
}

/** The envelope as operators may see it: the declared secret fields of `data` replaced by "[redacted]". */
export function redacted(envelope: EventEnvelope, secrets: readonly string[] | undefined): EventEnvelope {
	const data = envelope.data;
	if (!secrets?.length || typeof data !== "object" || data === null || !secrets.some(f => f in data)) return envelope;
	const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
	for (const f of secrets) if (f in copy) copy[f] = "[redacted]";
	return { ...envelope, data: copy };
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = new WeakMap<object, ValidateFunction>();

/**
 * Why a payload does not match its event's schema (empty: it does), one line per problem, each naming its
 * field (`'items[0].quantity' must be >= 1`). Never the value: payloads carry secrets.
 */
export function payloadProblems(definition: AnyEventDefinition, data: unknown): string[] {
	let validate = validators.get(definition.schema);
	if (!validate) {
		validate = ajv.compile(definition.schema);
		validators.set(definition.schema, validate);
	}
	if (validate(data)) return [];
	return (validate.errors ?? []).map((e: ErrorObject) => {
		const path = e.instancePath
			.split("/")
			.filter(Boolean)
			.map(p => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
			.join("")
			.replace(/^\./, "");
		const missing = e.keyword === "required" ? (e.params as { missingProperty: string }).missingProperty : undefined;
		const field = missing ? (path ? `${path}.${missing}` : missing) : path;
		return field ? `'${field}' ${missing ? "is required" : e.message}` : `the payload ${e.message}`;
	});
}

/** Whether a value has the envelope's shape (the payload is checked against its schema separately). */
export function isEnvelope(value: unknown): value is IncomingEnvelope {
	const v = value as Partial<IncomingEnvelope> | undefined;
	return typeof v?.id === "string" && typeof v.event === "string" && typeof v.data === "object" && v.data !== null;
}

const currentTrace = new AsyncLocalStorage<TraceContext | undefined>();

/** The trace context of the call or event being handled here, if any: what `Outbox.add` records. */
export function traceContext(): TraceContext | undefined {
	return currentTrace.getStore();
}

/** Runs `fn` with `trace` as the current trace context (the inbox does this for each event it handles). */
export function withTrace<R>(trace: TraceContext | undefined, fn: () => R): R {
	return currentTrace.run(trace, fn);
}

/** The trace context of a Moleculer call: its request id and its own id (the id of its span when tracing is on). */
export function traceOf(ctx: Context): TraceContext {
	const sampled = (ctx as { tracing?: boolean | null }).tracing;
	return { traceId: ctx.requestID ?? ctx.id, spanId: ctx.id, ...(typeof sampled === "boolean" ? { sampled } : {}) };
}

/** Parameters whose values may be span tags: ids and enumerations, never a secret or a person's data. */
const TAGGED_PARAMS = ["id", "orderId", "productId", "status", "page", "pageSize"];

/**
 * The tags of an action's span: its safe parameters (`TAGGED_PARAMS`), and the order id by that name for the
 * order service's actions (`order.get { id }`), so one order's spans are found by `orderId` everywhere.
 */
export function spanTags(ctx: Context): Record<string, unknown> {
	const params = (ctx.params ?? {}) as Record<string, unknown>;
	const tags: Record<string, unknown> = {};
	for (const key of TAGGED_PARAMS) {
		const v = params[key];
		if (typeof v === "string" || typeof v === "number") tags[key] = v;
	}
	const action = ctx.action?.name ?? "";
	if (typeof params.id === "string" && action.startsWith("order.") && !action.endsWith(`.${RECEIVE_ACTION}`)) tags.orderId = params.id;
	// an event's hand-off (`<service>.receiveEvent`): what it belongs to
	if (typeof params.correlationId === "string") tags.correlationId = params.correlationId;
	return tags;
}

/** Adds tags to the span of the call `ctx` runs in, when tracing is on (`order.place` names the order it made). */
export function tagSpan(ctx: Context, tags: Record<string, string>): void {
	ctx.span?.addTags(tags);
}

/**
 * What Moleculer needs to make a call or a span the child of `trace`. A trace written while tracing was off
 * has no sampling decision: its continuation is sampled (only a decision made to drop it is kept).
 */
export function parentSpanOf(trace: TraceContext): { id: string; traceID: string; sampled: boolean } {
	return { id: trace.spanId, traceID: trace.traceId, sampled: trace.sampled ?? true };
}

/**
 * Makes each local action's context the current trace context, so the events it writes carry it; and makes
 * a call without a parent, made while an event is handled (`broker.call` in a handler), the child of that
 * handling, so the trace goes on through it (the confirmation e-mail of a checkout).
 */
export const TraceContextMiddleware = {
	name: "TraceContext",
	localAction(next: (ctx: Context) => Promise<unknown>) {
		return (ctx: Context) => withTrace(traceOf(ctx), () => next(ctx));
	},
	call(next: (action: string, params: unknown, opts?: CallingOptions) => Promise<unknown>) {
		return (action: string, params: unknown, opts: CallingOptions = {}) => {
			const trace = opts.parentCtx || opts.parentSpan || opts.requestID ? undefined : traceContext();
			return next(action, params, trace ? { ...opts, parentSpan: parentSpanOf(trace) } : opts);
		};
	}
	// Moleculer's typings have the `call` hook answer a promise; it answers the wrapped function, as here
} as unknown as Middleware;
