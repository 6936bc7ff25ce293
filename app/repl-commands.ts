import { inspect } from "node:util";
import type { Context, Middleware, ServiceBroker } from "moleculer";
import type { TrailEntry } from "../lib/outbox";
import { PERMISSIONS, type AuthUser, type CallerMeta, type UserDto, type UserWithPermissions } from "../services/identity/identity.types";
import { collectDeadLetters, replayDeadLetter } from "../lib/dead-letters";
import type { SagaTrail } from "../services/order/order.types";

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

/**
 * The operator at the REPL: the caller of `op` calls. It holds every permission (it could call any action
 * with any meta anyway), so user-scoped actions answer for everyone: `op order.list` lists every order. Its
 * id is the nil UUID, no account's: to act as a customer (a cart, an order of theirs), use `as <email>`.
 */
export const REPL_OPERATOR: AuthUser = {
	id: "00000000-0000-0000-0000-000000000000",
	email: "operator@repl",
	role: "operator",
	permissions: Object.keys(PERMISSIONS),
	emailVerified: true
};

/**
 * moleculer-repl's `call` and `dcall` mark their calls `$repl: true`: those without a caller run as the
 * operator, so `call order.list` answers as `op order.list` does. Whatever joins the bus can set any meta
 * (a caller too), so this grants nothing it could not take; the entry points never pass a client's meta on.
 */
export const ReplOperatorMiddleware: Middleware = {
	name: "ReplOperator",
	localAction(handler) {
		return function replOperator(this: unknown, ctx: Context<unknown, CallerMeta & { $repl?: boolean }>) {
			if (ctx.meta.$repl === true && !ctx.meta.user) ctx.meta.user = REPL_OPERATOR;
			return handler.call(this as never, ctx);
		};
	}
};

/** The account of `email` as an action's caller: its role and the permissions the role holds now. */
export async function userAsCaller(broker: ServiceBroker, email: string): Promise<AuthUser> {
	const meta = { user: REPL_OPERATOR };
	const wanted = email.trim().toLowerCase();
	const page = await broker.call<{ items: UserDto[] }, object>("identity.listUsers", { search: wanted, pageSize: 100 }, { meta });
	const found = page.items.find(u => u.email.toLowerCase() === wanted);
	if (!found) throw new Error(`No user ${email}`);
	const { user } = await broker.call<{ user: UserWithPermissions }, object>("identity.getUser", { id: found.id }, { meta });
	return { id: user.id, email: user.email, role: user.role, permissions: user.permissions, emailVerified: user.emailVerified };
}

/** Calls `action` as the operator (`who` undefined) or as the user with that e-mail address. */
export async function callAs<T = unknown>(broker: ServiceBroker, who: string | undefined, action: string, params: object = {}): Promise<T> {
	const user = who === undefined ? REPL_OPERATOR : await userAsCaller(broker, who);
	return broker.call<T, object>(action, params, { meta: { user } });
}

/** The params of an `op`/`as` line: a JSON object, or `--name value` options as `call` takes them. */
function paramsOf(args: ReplArgs & { options?: Record<string, unknown> }): object {
	if (args.params) return JSON.parse(args.params) as object;
	return Object.fromEntries(Object.entries(args.options ?? {}).filter(([k]) => k !== "_"));
}

async function runAs(broker: ServiceBroker, who: string | undefined, args: ReplArgs): Promise<void> {
	const action = args.action!;
	try {
		const answer = await callAs(broker, who, action, paramsOf(args as ReplArgs & { options?: Record<string, unknown> }));
		console.log(inspect(answer, { depth: 6, colors: process.stdout.isTTY === true }));
	} catch (err) {
		const e = err as Error & { code?: number; type?: string };
		console.log(`${action} failed: ${e.message}${e.type ? ` (${e.type}${e.code ? `, ${e.code}` : ""})` : ""}`);
	}
}

export const replCommands = [
	{
		command: "op <action> [params]",
		allowUnknownOptions: true,
		description: 'Call an action as the operator, who holds every permission: op order.list \'{"status":"CONFIRMED"}\'',
		async action(broker: ServiceBroker, args: string[]) {
			await runAs(broker, undefined, args as unknown as ReplArgs);
		}
	},
	{
		command: "as <email> <action> [params]",
		allowUnknownOptions: true,
		description: "Call an action as that user, with their role's permissions: as bob@example.com cart.get",
		async action(broker: ServiceBroker, args: string[]) {
			const a = args as unknown as ReplArgs;
			await runAs(broker, a.email, a);
		}
	},
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
