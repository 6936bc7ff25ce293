import { Errors, Transporters } from "moleculer";

/** The AMQP message fields this transporter reads. */
interface AmqpMessage {
	content: Buffer;
}

/** What Moleculer's AMQP transporter takes, and what this one adds. */
export interface AmqpBusOptions {
	url: string[];
	prefetch: number;
	/** Milliseconds between attempts to reach a lost RabbitMQ (Moleculer's own loop waits 5 s). */
	reconnectTimeWait: number;
	/** amqplib's socket options: the login (`credentials`), `noDelay`, TLS (`ca`, `cert`, `key`). */
	socketOptions?: Record<string, unknown>;
}

/**
 * RabbitMQ as the cluster's bus: Moleculer's AMQP transporter (amqplib) with three changes, so that it keeps
 * the promises the NATS transport keeps.
 *
 * - A request is acknowledged when it arrives, not when its action finishes. Moleculer acknowledges after the
 *   action, so a node killed mid-action has the request redelivered to whatever next consumes its queue (a
 *   node restarted with the same NODE_ID), minutes later, after its caller has given up: an action would run
 *   twice. Delivered at most once, as over NATS; the outboxes, not the bus, make the events arrive.
 *   It also frees the prefetch window at once, so `prefetch` bounds the deliveries on their way to the node,
 *   not the requests it handles at a time (Moleculer's default of 1 would handle one request at a time).
 * - A lost connection (RabbitMQ restarted, the node's connection closed, the network gone) is reopened every
 *   `reconnectTimeWait` ms, with the node's queues declared again, instead of after Moleculer's 5 s.
 * - The requests this node waits on fail at once (503 REQUEST_REJECTED, FailFastOnDisconnect) when the
 *   connection drops, and so does a request sent while it is down: their answers could not arrive, and
 *   Moleculer's transporter would drop the request silently and leave the caller waiting out its timeout.
 */
export class AmqpBus extends Transporters.AMQP {
	declare opts: Transporters.AMQP["opts"] & AmqpBusOptions;
	private reconnectTimer: NodeJS.Timeout | undefined;

	constructor(options: AmqpBusOptions) {
		super(options);
	}

	/**
	 * Moleculer's transit hands a callback for a connection lost after it opened, which retries after 5 s;
	 * this transporter reopens it itself (`lost`). A first connection that fails still rejects, and the
	 * transit tries again.
	 */
	override connect(): Promise<void> {
		return (super.connect as (cb: (err: unknown) => void) => Promise<void>).call(this, (err: unknown) => this.lost(err));
	}

	override disconnect(): Promise<void> {
		clearTimeout(this.reconnectTimer);
		this.reconnectTimer = undefined;
		return super.disconnect();
	}

	/** The connection closed without this node asking: fail what waits on it, and open a new one. */
	private lost(err: unknown): void {
		if (this.transit.disconnecting) return;
		this.connected = false;
		void this.broker.broadcastLocal("$transporter.lost", { error: err });
		const attempt = () => {
			this.reconnectTimer = undefined;
			if (this.transit.disconnecting) return;
			this.logger.info("Reconnecting to RabbitMQ...");
			this.connect().catch((e: unknown) => {
				this.logger.warn(`RabbitMQ is not reachable yet: ${(e as Error | undefined)?.message ?? e}`);
				if (!this.transit.disconnecting) this.reconnectTimer = setTimeout(attempt, this.opts.reconnectTimeWait);
			});
		};
		this.reconnectTimer = setTimeout(attempt, this.opts.reconnectTimeWait);
	}

	override _consumeCB(cmd: string, needAck = false): (msg: AmqpMessage) => void | Promise<void> {
		return (msg: AmqpMessage) => {
			// taken: acknowledged before it runs, so it never runs twice (see above)
			if (needAck && this.channel) this.channel.ack(msg);
			return this.receive(cmd, msg.content) as void | Promise<void>;
		};
	}

	override send(topic: string, data: Buffer, meta: { packet: { type: string; payload?: { id?: string } } } & Record<string, unknown>): Promise<void> {
		if (!this.channel && meta.packet.type === "REQ" && meta.packet.payload?.id) {
			const id = meta.packet.payload.id;
			const req = this.transit.pendingRequests.get(id);
			if (req) {
				this.transit.removePendingRequest(id);
				// typed as a name, but the action itself (as in Moleculer's removePendingRequestByNodeID)
				req.reject(new Errors.RequestRejectedError({ action: req.ctx.action?.name ?? String(req.action), nodeID: req.nodeID }));
			}
		}
		return super.send(topic, data, meta);
	}
}
