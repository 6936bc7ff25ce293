/**
 * The toolkit's settings: what its database, events, caches, rate limits and transport take, and the error
 * a configuration problem raises. The application (app/config.ts) reads the environment and fills them.
 */

export type Env = Record<string, string | undefined>;

export interface DatabaseConfig {
	/** A PostgreSQL server shared by every service without a URL of its own; unset means embedded. */
	url?: string;
	/** `<SERVICE>_DATABASE_URL` overrides, by service name. */
	serviceUrls: Partial<Record<string, string>>;
	/** Where the embedded server keeps its data (under `DATA_DIR`). */
	embeddedDir: string;
	poolMax: number;
}

/** A rate limit: at most `limit` requests per `windowSeconds` per client address (sliding window). */
export interface RateRule {
	limit: number;
	windowSeconds: number;
}

/** Bounds of every in-memory cache (CACHE_MAX_ENTRIES, CACHE_MAX_MB): least recently used entries go first. */
export interface CacheConfig {
	maxEntries: number;
	maxBytes: number;
}

/**
 * How this node joins a cluster (TRANSPORTER and the NATS_* variables). `url` may hold credentials: never
 * log it (`redactUrl`).
 */
export interface TransportConfig {
	url: string;
	/** The URL's scheme: nats, amqp, redis, tcp, ... */
	kind: string;
	/** Credentials in the URL (user:password or a token) or in a file below. */
	authenticated: boolean;
	/** A NATS credentials file (NATS_CREDS_FILE) or nkey seed file (NATS_NKEY_SEED_FILE). */
	natsCredsFile?: string;
	natsNkeySeedFile?: string;
	/** TLS to NATS: a CA to verify the server, and a client certificate and key (NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY). */
	tls?: { caFile?: string; certFile?: string; keyFile?: string };
	/** TRANSPORTER_INSECURE=true: a production node may join without credentials (private network); warned at every start. */
	insecure: boolean;
}

export interface EventsConfig {
	/** How often outboxes and inboxes look for due work (they are also woken on every change). */
	pollMs: number;
	/** Handling attempts before an event is dead-lettered. */
	maxAttempts: number;
	/**
	 * Events one service instance handles at once. Handlers lock what they change (the order, the
	 * reservation, the payment of one order), so events about different orders run side by side.
	 */
	concurrency: number;
	retryBaseMs: number;
	retryMaxMs: number;
	/** Delivered outbox rows and handled inbox rows older than this many days are deleted (EVENT_RETENTION_DAYS). */
	retentionDays: number;
	/** How often that purge runs, in seconds (EVENT_RETENTION_INTERVAL). */
	retentionIntervalSeconds: number;
}

export class ConfigError extends Error {
	constructor(public readonly problems: string[]) {
		super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
		this.name = "ConfigError";
	}
}

/** A URL with its user and password replaced, for logs and messages. */
export function redactUrl(raw: string): string {
	try {
		const u = new URL(raw);
		if (u.username || u.password) {
			u.username = "***";
			u.password = "";
		}
		return u.toString().replace(/\/$/, "");
	} catch {
		return "(unparseable URL)";
	}
}

/** The connection URL a service uses: its own, else the shared server, else none (embedded). */
export function databaseUrlFor(db: DatabaseConfig, service: string): string | undefined {
	return db.serviceUrls[service] ?? db.url;
}
