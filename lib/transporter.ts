import fs from "node:fs";
import type { TransporterConfig } from "moleculer";
import { credsAuthenticator, nkeyAuthenticator, type Authenticator, type ConnectionOptions } from "nats";
import { AmqpBus, type AmqpBusOptions } from "./amqp-transporter";
import { ConfigError, redactUrl, type TransportConfig } from "./config";

/**
 * How long a node waits between attempts to reach a lost NATS server (nats.js waits 2 s). The bus is on
 * the same network: a restarted server is back in well under a second, and every request the cluster
 * refuses meanwhile is one a client must send again.
 */
export const RECONNECT_WAIT_MS = 250;

/**
 * AMQP deliveries a node may have on their way to it at once, per queue (its requests, its events, the
 * responses it waits for). They are acknowledged on arrival (lib/amqp-transporter.ts), so this is a window,
 * not a limit on the requests a node handles at a time.
 */
export const AMQP_PREFETCH = 100;

/**
 * Seconds between AMQP heartbeats unless the URL says otherwise (`?heartbeat=30`): a connection silently
 * lost (a cable, a firewall) is noticed after two missed beats, within the 10 s after which the other nodes
 * give up on this one. amqplib would take RabbitMQ's 60 s.
 */
export const AMQP_HEARTBEAT_SECONDS = 5;

/** What the node hands to nats.js `connect` (through Moleculer's NATS transporter). */
export type NatsConnectOptions = Pick<ConnectionOptions, "servers" | "user" | "pass" | "token" | "authenticator" | "tls">;

/**
 * Moleculer's `transporter` option for this node. For NATS the options are built here rather than from
 * the URL by Moleculer, which neither percent-decodes the user and password nor knows a lone user name
 * (`nats://TOKEN@host:4222`) is a token; credentials and key files are read once, at start, so a missing
 * or malformed file stops the node with a clear message. Moleculer still sets `maxReconnectAttempts: -1`
 * (reconnect forever); the wait between attempts is RECONNECT_WAIT_MS. amqp:// and amqps:// (RabbitMQ) get
 * Moleculer's AMQP transporter as lib/amqp-transporter.ts adapts it, with `amqpOptions`. Other schemes get
 * the URL as it is.
 */
export function transporterOptions(t: TransportConfig): TransporterConfig | TransporterConfig["type"] | AmqpBus {
	if (t.kind === "amqp" || t.kind === "amqps") return new AmqpBus(amqpOptions(t));
	if (t.kind !== "nats") return t.url as TransporterConfig["type"];
	return { type: "NATS", options: { ...natsOptions(t), reconnectTimeWait: RECONNECT_WAIT_MS } };
}

/**
 * The options of an amqp:// or amqps:// TRANSPORTER: every broker of the list (comma- or semicolon-separated;
 * a node tries them in turn), each with a heartbeat unless its URL sets one. The user and password are
 * percent-decoded here and handed to amqplib as its login (which decodes only single bytes, so `%C3%A9` would
 * not be `é`); as for NATS, the first URL carrying them gives them for every broker. The virtual host is the
 * URL's path (`/shop`; `%2F` is RabbitMQ's default `/`, also what an empty path means).
 */
export function amqpOptions(t: TransportConfig): AmqpBusOptions {
	const url: string[] = [];
	let credentials: { user: string; pass: string } | undefined;
	for (const part of t.url.split(/[,;]/)) {
		const raw = part.trim();
		if (!raw) continue;
		let u: URL;
		try {
			u = new URL(raw);
		} catch {
			throw new ConfigError([`TRANSPORTER: ${redactUrl(raw)} is not a URL`]);
		}
		if (!credentials && u.username) credentials = { user: decode(u.username), pass: decode(u.password) };
		if (!u.searchParams.has("heartbeat")) u.searchParams.set("heartbeat", String(AMQP_HEARTBEAT_SECONDS));
		url.push(u.toString());
	}
	// noDelay: amqplib leaves Nagle's algorithm on, which holds a small frame (a request, an answer) back until
	// the last one is acknowledged: tens of milliseconds per hop of a saga
	const socketOptions: Record<string, unknown> = { noDelay: true };
	if (credentials) socketOptions.credentials = plainLogin(credentials.user, credentials.pass);
	return { url, prefetch: AMQP_PREFETCH, reconnectTimeWait: RECONNECT_WAIT_MS, socketOptions };
}

/** amqplib's `credentials.plain(user, pass)`: SASL PLAIN, `\0user\0password`. */
function plainLogin(username: string, password: string): { mechanism: string; username: string; password: string; response(): Buffer } {
	return { mechanism: "PLAIN", username, password, response: () => Buffer.from(`\0${username}\0${password}`, "utf8") };
}

/** The nats.js connection options of a nats:// TRANSPORTER; throws ConfigError for an unreadable or malformed file. */
export function natsOptions(t: TransportConfig): NatsConnectOptions {
	const servers: string[] = [];
	let user: string | undefined;
	let pass: string | undefined;
	for (const part of t.url.split(",")) {
		const raw = part.trim();
		if (!raw) continue;
		let u: URL;
		try {
			u = new URL(raw);
		} catch {
			throw new ConfigError([`TRANSPORTER: ${redactUrl(raw)} is not a URL`]);
		}
		servers.push(u.host);
		// the first URL carrying credentials gives them, as in Moleculer
		if (user === undefined && u.username) {
			user = decode(u.username);
			pass = u.password ? decode(u.password) : undefined;
		}
	}
	const options: NatsConnectOptions = { servers };
	if (user !== undefined && pass !== undefined) {
		options.user = user;
		options.pass = pass;
	} else if (user !== undefined) {
		options.token = user;
	}

	const authenticator: Authenticator[] = [];
	if (t.natsCredsFile) {
		authenticator.push(checked("NATS_CREDS_FILE", t.natsCredsFile, credsAuthenticator(readFile("NATS_CREDS_FILE", t.natsCredsFile))));
	}
	if (t.natsNkeySeedFile) {
		const seed = readFile("NATS_NKEY_SEED_FILE", t.natsNkeySeedFile).toString("utf8").trim();
		authenticator.push(checked("NATS_NKEY_SEED_FILE", t.natsNkeySeedFile, nkeyAuthenticator(new TextEncoder().encode(seed))));
	}
	if (authenticator.length > 0) options.authenticator = authenticator.length === 1 ? authenticator[0] : authenticator;

	if (t.tls) {
		const { caFile, certFile, keyFile } = t.tls;
		options.tls = {};
		if (caFile) options.tls.caFile = readable("NATS_TLS_CA", caFile);
		if (certFile) options.tls.certFile = readable("NATS_TLS_CERT", certFile);
		if (keyFile) options.tls.keyFile = readable("NATS_TLS_KEY", keyFile);
	}
	return options;
}

/** A user or password from a URL: `p%40ss` is `p@ss`. */
function decode(part: string): string {
	try {
		return decodeURIComponent(part);
	} catch {
		throw new ConfigError(["TRANSPORTER: the user or password in the URL has a malformed %-escape"]);
	}
}

function readFile(variable: string, file: string): Buffer {
	try {
		return fs.readFileSync(file);
	} catch (err) {
		throw new ConfigError([`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
	}
}

function readable(variable: string, file: string): string {
	readFile(variable, file);
	return file;
}

/** Signs a dummy nonce once, so a malformed file fails the start instead of every connection attempt. */
function checked(variable: string, file: string, auth: Authenticator): Authenticator {
	let signed = false;
	try {
		signed = !!(auth("momentum-start-check") as { nkey?: string }).nkey;
	} catch {
		// reported below
	}
	if (!signed) {
		const what = variable === "NATS_CREDS_FILE" ? "a NATS credentials file (a user JWT and an nkey seed)" : "an nkey seed (SU...)";
		throw new ConfigError([`${variable}: ${file} is not ${what}`]);
	}
	return auth;
}
