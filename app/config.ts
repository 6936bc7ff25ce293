import net from "node:net";
import path from "node:path";
import { ConfigError, redactUrl, type CacheConfig, type DatabaseConfig, type Env, type EventsConfig, type RateRule, type TransportConfig } from "../lib/config";

/**
 * The one place that reads the environment. Everything else receives a typed, validated
 * `AppConfig` (or the slice of it a service needs) and never touches `process.env`.
 */

export const SERVICE_NAMES = ["gateway", "identity", "catalog", "inventory", "cart", "order", "payment", "notification"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface IdentityConfig {
	jwtSecret: string;
	jwtIssuer: string;
	jwtAudience: string;
	accessTokenTtlSeconds: number;
	refreshTokenTtlSeconds: number;
	bcryptRounds: number;
	admin?: { email: string; password: string };
	/** Failed logins for one account from one client address within the window, then 429 (LOGIN_MAX_FAILURES). */
	loginMaxFailures: number;
	loginWindowSeconds: number;
	/** Failed logins from one client address across all accounts within the window (LOGIN_ADDRESS_MAX_FAILURES). */
	loginAddressMaxFailures: number;
	/**
	 * Failed logins for one account across all addresses within the window before attempts from addresses the
	 * account never signed in from are slowed down progressively (LOGIN_ACCOUNT_MAX_FAILURES).
	 */
	loginAccountMaxFailures: number;
	/** bcrypt hashes and comparisons one node runs at once (BCRYPT_MAX_IN_FLIGHT) and may queue (BCRYPT_MAX_QUEUE). */
	bcryptMaxInFlight: number;
	bcryptMaxQueue: number;
	/** How often expired login counters and dead refresh tokens are deleted (IDENTITY_PURGE_INTERVAL). */
	purgeIntervalSeconds: number;
	/** How long the link mailed to verify an e-mail address works, in seconds (EMAIL_VERIFICATION_TTL). */
	emailVerificationTtlSeconds: number;
	/** How long the link mailed to reset a password works, in seconds (PASSWORD_RESET_TTL). */
	passwordResetTtlSeconds: number;
	grpcPort: number;
	grpcHost: string;
	/** PEM files for gRPC over TLS (IDENTITY_GRPC_TLS_CERT, IDENTITY_GRPC_TLS_KEY); unset: plaintext. */
	grpcTls?: { certFile: string; keyFile: string };
}

export interface GatewayConfig {
	port: number;
	host: string;
	bodyLimit: string;
	/**
	 * Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (TRUSTED_PROXIES: addresses or CIDRs).
	 * Empty: the client address is the socket's.
	 */
	trustedProxies: string[];
	/** Origins allowed to call the API from a browser (CORS_ORIGINS); empty: no CORS headers at all. */
	corsOrigins: string[];
	/** Per client address, shared by every gateway: every /api request (RATE_LIMIT_API) and /api/auth/* (RATE_LIMIT_AUTH). */
	rateLimits: { api?: RateRule; auth?: RateRule };
	/** Serve the storefront at `/` and the admin at `/admin` (PAGES=on|off, default on); off: the API only. */
	pages: boolean;
	/**
	 * How long an idle keep-alive connection stays open, in seconds (HTTP_KEEP_ALIVE_SECONDS, default 65): above a
	 * load balancer's idle timeout (60 s at the common ones), so the balancer, not the gateway, closes idle
	 * connections and never sends a request on one the gateway is closing.
	 */
	keepAliveSeconds: number;
}

export interface StoreConfig {
	/** ISO 4217 code of the one currency the store sells in; money is integer minor units. */
	currency: string;
}

export interface CatalogConfig {
	/** Seed the demo catalog (with stock) at start when the catalog is empty. */
	seedDemoData: boolean;
}

export interface InventoryConfig {
	/** A reservation neither committed nor released within this many seconds is released by the sweep. */
	reservationTtlSeconds: number;
	sweepIntervalSeconds: number;
}

export interface OrderConfig {
	/** An order in a non-terminal state for this long has its pending step asked again (SAGA_TIMEOUT). */
	sagaTimeoutSeconds: number;
	/** An order still not CONFIRMED or CANCELLED this long after it was placed is cancelled with `timeout` (SAGA_GIVE_UP). */
	sagaGiveUpSeconds: number;
	/** How often the saga watchdog looks for such orders. */
	watchdogIntervalSeconds: number;
	/**
	 * Orders the saga may have in flight (PENDING or STOCK_RESERVED) before new ones are refused with 503
	 * ORDERS_BUSY and Retry-After, rather than queued for minutes (ORDER_MAX_IN_FLIGHT; 0: no limit).
	 */
	maxInFlight: number;
	/** Only a customer whose e-mail address is verified may place an order (REQUIRE_EMAIL_VERIFICATION; default: in production). */
	requireEmailVerification: boolean;
}

export interface CartConfig {
	maxQuantityPerLine: number;
}

export interface PaymentConfig {
	/** Only the simulated provider exists so far; a real gateway is added behind the same interface. */
	provider: "simulated";
	/** Latency the simulated provider adds to every request, in milliseconds. */
	latencyMs: number;
	/** Share of simulated provider requests (0 to 1) that fail with a transient error, to exercise retries. */
	failureRate: number;
}

export interface TwilioConfig {
	accountSid: string;
	authToken: string;
	/** The sending number (E.164). */
	from: string;
}

export interface NotificationConfig {
	/**
	 * smtp:// or smtps:// URL with credentials. Unset: outside production messages are logged, not sent; in
	 * production e-mail notifications are recorded as SKIPPED (message bodies never go to production logs).
	 */
	smtpUrl?: string;
	mailFrom: string;
	/** SMS through Twilio; unset: SMS notifications are recorded as SKIPPED. */
	twilio?: TwilioConfig;
	/** Delivery attempts of one notification before it is FAILED. */
	maxAttempts: number;
	/** Delay before the first retry; each further retry waits twice as long (capped at an hour). */
	retryBaseSeconds: number;
	/** How often the retry pass looks for due notifications. */
	retryIntervalSeconds: number;
	/** Where the shop's pages live (PUBLIC_URL, no trailing slash): links in e-mails point there. */
	publicUrl: string;
}

/** Where spans go (TRACING_EXPORTER, TRACING_ENDPOINT, TRACING_SAMPLE_RATE); "off" by default. */
export interface TracingConfig {
	exporter: "off" | "zipkin" | "console";
	/** The collector's base URL: spans are POSTed to `<endpoint>/api/v2/spans` (Zipkin v2 JSON). */
	endpoint?: string;
	/** Share of requests traced, 0 to 1. */
	sampleRate: number;
}

export interface AppConfig {
	env: "development" | "production" | "test";
	nodeId?: string;
	/** Unset: a single process, no cluster bus. */
	transport?: TransportConfig;
	/** How long a call may take when its action names no `timeout` of its own (REQUEST_TIMEOUT, seconds). */
	requestTimeoutMs: number;
	/** Services this process runs; all of them when `SERVICES` is unset. */
	services: ServiceName[];
	/**
	 * Port of the probe and metrics server every node can run (`/health/live`, `/health/ready`, `/metrics`);
	 * undefined: none. HEALTH_PORT; unset in development: 3001; unset in production or tests, or `off`: none.
	 */
	healthPort?: number;
	/** Moleculer's and the shop's metrics, served at `/metrics` on the health port (METRICS=on|off, default on). */
	metrics: boolean;
	logLevel: LogLevel;
	/** LOG_FORMAT: "json" (one object per line; the production default) or "text" (the development default). */
	logFormat: "text" | "json";
	tracing: TracingConfig;
	dataDir: string;
	cache: CacheConfig;
	database: DatabaseConfig;
	identity: IdentityConfig;
	gateway: GatewayConfig;
	store: StoreConfig;
	catalog: CatalogConfig;
	inventory: InventoryConfig;
	cart: CartConfig;
	order: OrderConfig;
	payment: PaymentConfig;
	events: EventsConfig;
	notification: NotificationConfig;
}

/** Secrets that appear in tutorials and example files; a production start with one of them must refuse. */
const KNOWN_WEAK_SECRETS = new Set([
	"secret",
	"changeme",
	"change-me",
	"jwt-secret",
	"jwt_secret",
	"supersecret",
	"password",
	"momentum",
	"dev-secret",
	"please-change-this-secret-in-production"
]);
export const MIN_SECRET_LENGTH = 32;

/** The health and metrics port of `npm start` in development when HEALTH_PORT is unset. */
export const DEV_HEALTH_PORT = 3001;

/**
 * Reads and validates the configuration. Pure: the environment comes in as an argument, and every
 * problem found is reported at once in a `ConfigError`.
 * `devJwtSecret` is used outside production when `JWT_SECRET` is unset (see `app/dev-secret.ts`).
 */
export function loadConfig(env: Env, opts: { cwd?: string; devJwtSecret?: string } = {}): AppConfig {
	const problems: string[] = [];
	const cwd = opts.cwd ?? process.cwd();

	const nodeEnv = (env.NODE_ENV ?? "development").trim();
	if (nodeEnv !== "development" && nodeEnv !== "production" && nodeEnv !== "test") {
		problems.push(`NODE_ENV must be development, production or test (got "${nodeEnv}")`);
	}
	const production = nodeEnv === "production";

	const int = (name: string, def: number, min: number, max: number): number => {
		const raw = env[name];
		if (raw === undefined || raw.trim() === "") return def;
		if (!/^\d+$/.test(raw.trim())) {
			problems.push(`${name} must be a whole number (got "${raw}")`);
			return def;
		}
		const n = Number(raw);
		if (n < min || n > max) {
			problems.push(`${name} must be between ${min} and ${max} (got ${n})`);
			return def;
		}
		return n;
	};
	const url = (name: string): string | undefined => {
		const raw = env[name]?.trim();
		if (!raw) return undefined;
		try {
			const u = new URL(raw);
			if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
				problems.push(`${name} must be a postgres:// URL`);
			}
		} catch {
			problems.push(`${name} is not a valid URL`);
		}
		return raw;
	};

	const port = int("PORT", 3000, 0, 65535);
	const healthPortRaw = env.HEALTH_PORT?.trim().toLowerCase();
	const healthPort =
		healthPortRaw === "off" ? undefined : healthPortRaw ? int("HEALTH_PORT", 0, 0, 65535) : nodeEnv === "development" ? DEV_HEALTH_PORT : undefined;
	const metricsRaw = (env.METRICS?.trim() || "on").toLowerCase();
	if (!["on", "off", "true", "false", "1", "0"].includes(metricsRaw)) problems.push(`METRICS must be on or off (got "${env.METRICS}")`);
	const metrics = !["off", "false", "0"].includes(metricsRaw);
	const grpcPort = int("IDENTITY_GRPC_PORT", 50051, 0, 65535);

	const dataDir = path.resolve(cwd, env.DATA_DIR?.trim() || ".data");

	const serviceUrls: Partial<Record<ServiceName, string>> = {};
	for (const name of SERVICE_NAMES) {
		const value = url(`${name.toUpperCase()}_DATABASE_URL`);
		if (value) serviceUrls[name] = value;
	}

	let services: ServiceName[] = [...SERVICE_NAMES];
	if (env.SERVICES !== undefined) {
		const wanted = env.SERVICES.split(",")
			.map(s => s.trim())
			.filter(Boolean);
		const unknown = wanted.filter(s => !(SERVICE_NAMES as readonly string[]).includes(s));
		if (unknown.length > 0) {
			problems.push(`SERVICES names unknown services: ${unknown.join(", ")} (known: ${SERVICE_NAMES.join(", ")})`);
		}
		services = SERVICE_NAMES.filter(s => wanted.includes(s));
	}

	const logLevel = (env.LOG_LEVEL?.trim() || "info") as LogLevel;
	if (!LOG_LEVELS.includes(logLevel)) {
		problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got "${logLevel}")`);
	}

	const logFormat = (env.LOG_FORMAT?.trim().toLowerCase() || (production ? "json" : "text")) as AppConfig["logFormat"];
	if (logFormat !== "text" && logFormat !== "json") problems.push(`LOG_FORMAT must be text or json (got "${env.LOG_FORMAT}")`);

	const tracing = tracingOf(env, problems);

	const transport = transportOf(env, production, problems);
	const host = env.HOST?.trim() || "127.0.0.1";

	const rate = (name: string, def: string): RateRule | undefined => {
		const raw = (env[name]?.trim() || def).toLowerCase();
		if (raw === "off" || raw === "0") return undefined;
		const m = /^(\d+)\/(\d+)$/.exec(raw);
		if (!m || Number(m[1]) < 1 || Number(m[2]) < 1 || Number(m[2]) > 86400) {
			problems.push(`${name} must be <requests>/<seconds> such as ${def}, or off (got "${env[name]}")`);
			return undefined;
		}
		return { limit: Number(m[1]), windowSeconds: Number(m[2]) };
	};
	const list = (name: string): string[] =>
		(env[name] ?? "")
			.split(",")
			.map(s => s.trim())
			.filter(Boolean);
	const trustedProxies = list("TRUSTED_PROXIES");
	for (const p of trustedProxies) if (!isAddressOrCidr(p)) problems.push(`TRUSTED_PROXIES: "${p}" is not an IP address or CIDR`);
	const corsOrigins = list("CORS_ORIGINS");
	for (const o of corsOrigins) {
		if (!/^https?:\/\/[^/\s]+$/.test(o))
			problems.push(`CORS_ORIGINS: "${o}" must be an origin such as https://shop.example.com (scheme, host, optional port)`);
	}

	const pagesRaw = (env.PAGES?.trim() || "on").toLowerCase();
	if (!["on", "off", "true", "false", "1", "0"].includes(pagesRaw)) problems.push(`PAGES must be on or off (got "${env.PAGES}")`);
	const pages = !["off", "false", "0"].includes(pagesRaw);

	const grpcTlsCert = env.IDENTITY_GRPC_TLS_CERT?.trim() || undefined;
	const grpcTlsKey = env.IDENTITY_GRPC_TLS_KEY?.trim() || undefined;
	if (!!grpcTlsCert !== !!grpcTlsKey) problems.push("IDENTITY_GRPC_TLS_CERT and IDENTITY_GRPC_TLS_KEY must be set together");

	const currency = (env.STORE_CURRENCY?.trim() || "BRL").toUpperCase();
	if (!/^[A-Z]{3}$/.test(currency)) problems.push(`STORE_CURRENCY must be a three-letter ISO 4217 code (got "${env.STORE_CURRENCY}")`);

	const fraction = (name: string, def: number): number => {
		const raw = env[name]?.trim();
		if (raw === undefined || raw === "") return def;
		const n = Number(raw);
		if (!/^\d+(\.\d+)?$/.test(raw) || n < 0 || n > 1) {
			problems.push(`${name} must be a number from 0 to 1 (got "${env[name]}")`);
			return def;
		}
		return n;
	};

	const bool = (name: string, def: boolean): boolean => {
		const raw = env[name]?.trim().toLowerCase();
		if (raw === undefined || raw === "") return def;
		if (["true", "1", "yes"].includes(raw)) return true;
		if (["false", "0", "no"].includes(raw)) return false;
		problems.push(`${name} must be true or false (got "${env[name]}")`);
		return def;
	};

	let jwtSecret = env.JWT_SECRET ?? "";
	if (production) {
		for (const p of checkSecret(jwtSecret)) problems.push(p);
	} else if (!jwtSecret) {
		jwtSecret = opts.devJwtSecret ?? "";
		if (!jwtSecret) problems.push("JWT_SECRET is not set");
	}

	let admin: IdentityConfig["admin"];
	const adminEmail = env.ADMIN_EMAIL?.trim();
	const adminPassword = env.ADMIN_PASSWORD;
	if (adminEmail || adminPassword) {
		if (!adminEmail || !adminPassword) {
			problems.push("ADMIN_EMAIL and ADMIN_PASSWORD must be set together");
		} else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail)) {
			problems.push("ADMIN_EMAIL is not an e-mail address");
		} else if (adminPassword.length < 8) {
			problems.push("ADMIN_PASSWORD must be at least 8 characters");
		} else {
			admin = { email: adminEmail.toLowerCase(), password: adminPassword };
		}
	}

	const smtpUrl = env.SMTP_URL?.trim() || undefined;
	if (smtpUrl) {
		let protocol = "";
		try {
			protocol = new URL(smtpUrl).protocol;
		} catch {
			// reported below; the URL may hold a password, so it is never echoed
		}
		if (protocol !== "smtp:" && protocol !== "smtps:") problems.push("SMTP_URL must be an smtp:// or smtps:// URL");
	}
	const mailFrom = env.MAIL_FROM?.trim() || "Momentum <no-reply@momentum.local>";
	if (!/^[^\r\n]*<?[^\s@<>]+@[^\s@<>]+>?$/.test(mailFrom)) problems.push(`MAIL_FROM must be an address such as "Shop <no-reply@example.com>"`);

	// links in e-mails (verify an address, reset a password) lead to the shop's pages under this URL
	let publicUrl = env.PUBLIC_URL?.trim() || "http://localhost:3000";
	try {
		const u = new URL(publicUrl);
		if ((u.protocol !== "http:" && u.protocol !== "https:") || u.search || u.hash || u.username || u.password) throw new Error("not a base URL");
		publicUrl = u.toString().replace(/\/+$/, "");
	} catch {
		problems.push(`PUBLIC_URL must be an http(s) URL without query or credentials, such as https://shop.example.com (got "${env.PUBLIC_URL}")`);
	}

	let twilio: TwilioConfig | undefined;
	const twilioVars = { accountSid: env.TWILIO_ACCOUNT_SID?.trim(), authToken: env.TWILIO_AUTH_TOKEN?.trim(), from: env.TWILIO_FROM?.trim() };
	const twilioSet = Object.values(twilioVars).filter(Boolean).length;
	if (twilioSet === 3) {
		if (!/^AC[0-9a-fA-F]{32}$/.test(twilioVars.accountSid!)) problems.push("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits");
		if (!/^\+[1-9]\d{6,14}$/.test(twilioVars.from!)) problems.push("TWILIO_FROM must be an E.164 number such as +15005550006");
		twilio = twilioVars as TwilioConfig;
	} else if (twilioSet > 0) {
		problems.push("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM must be set together");
	}

	const config: AppConfig = {
		env: nodeEnv as AppConfig["env"],
		nodeId: env.NODE_ID?.trim() || undefined,
		transport,
		requestTimeoutMs: int("REQUEST_TIMEOUT", 10, 1, 300) * 1000,
		services,
		healthPort,
		metrics,
		logLevel,
		logFormat,
		tracing,
		dataDir,
		cache: { maxEntries: int("CACHE_MAX_ENTRIES", 1000, 1, 1_000_000), maxBytes: int("CACHE_MAX_MB", 64, 1, 65536) * 1024 * 1024 },
		database: {
			url: url("DATABASE_URL"),
			serviceUrls,
			embeddedDir: path.join(dataDir, "postgres"),
			poolMax: int("DATABASE_POOL_MAX", 10, 1, 1000)
		},
		identity: {
			jwtSecret,
			jwtIssuer: "momentum",
			jwtAudience: "momentum-api",
			accessTokenTtlSeconds: int("ACCESS_TOKEN_TTL", 900, 10, 86400),
			refreshTokenTtlSeconds: int("REFRESH_TOKEN_TTL", 30 * 86400, 60, 365 * 86400),
			bcryptRounds: int("BCRYPT_ROUNDS", 10, 4, 15),
			admin,
			loginMaxFailures: int("LOGIN_MAX_FAILURES", 5, 1, 1000),
			loginWindowSeconds: int("LOGIN_WINDOW", 900, 1, 86400),
			loginAddressMaxFailures: int("LOGIN_ADDRESS_MAX_FAILURES", 50, 1, 100_000),
			loginAccountMaxFailures: int("LOGIN_ACCOUNT_MAX_FAILURES", 20, 1, 100_000),
			bcryptMaxInFlight: int("BCRYPT_MAX_IN_FLIGHT", 4, 1, 256),
			bcryptMaxQueue: int("BCRYPT_MAX_QUEUE", 32, 0, 10_000),
			purgeIntervalSeconds: int("IDENTITY_PURGE_INTERVAL", 3600, 1, 86400),
			emailVerificationTtlSeconds: int("EMAIL_VERIFICATION_TTL", 86400, 60, 30 * 86400),
			passwordResetTtlSeconds: int("PASSWORD_RESET_TTL", 1800, 60, 86400),
			grpcPort,
			grpcHost: env.IDENTITY_GRPC_HOST?.trim() || host,
			grpcTls: grpcTlsCert && grpcTlsKey ? { certFile: grpcTlsCert, keyFile: grpcTlsKey } : undefined
		},
		store: { currency },
		catalog: { seedDemoData: bool("SEED_DEMO_DATA", nodeEnv === "development") },
		inventory: {
			reservationTtlSeconds: int("RESERVATION_TTL", 900, 1, 7 * 86400),
			sweepIntervalSeconds: int("RESERVATION_SWEEP_INTERVAL", 30, 1, 3600)
		},
		cart: { maxQuantityPerLine: int("CART_MAX_QUANTITY", 99, 1, 10000) },
		order: {
			sagaTimeoutSeconds: int("SAGA_TIMEOUT", 120, 1, 86400),
			sagaGiveUpSeconds: int("SAGA_GIVE_UP", 600, 2, 7 * 86400),
			watchdogIntervalSeconds: int("SAGA_WATCHDOG_INTERVAL", 10, 1, 3600),
			maxInFlight: int("ORDER_MAX_IN_FLIGHT", 1000, 0, 1_000_000),
			// off in development and tests, so `npm start` is one step; on in production
			requireEmailVerification: bool("REQUIRE_EMAIL_VERIFICATION", production)
		},
		notification: {
			smtpUrl,
			mailFrom,
			twilio,
			maxAttempts: int("NOTIFICATION_MAX_ATTEMPTS", 5, 1, 100),
			retryBaseSeconds: int("NOTIFICATION_RETRY_BASE", 30, 0, 3600),
			retryIntervalSeconds: int("NOTIFICATION_RETRY_INTERVAL", 10, 1, 3600),
			publicUrl
		},
		payment: {
			provider: "simulated",
			latencyMs: int("PAYMENT_SIM_LATENCY_MS", 0, 0, 60_000),
			failureRate: fraction("PAYMENT_SIM_FAILURE_RATE", 0)
		},
		events: {
			pollMs: int("EVENT_POLL_MS", 1000, 10, 60_000),
			maxAttempts: int("EVENT_MAX_ATTEMPTS", 5, 1, 100),
			concurrency: int("EVENT_CONCURRENCY", 4, 1, 64),
			retryBaseMs: int("EVENT_RETRY_BASE_MS", 500, 1, 60_000),
			retryMaxMs: int("EVENT_RETRY_MAX_MS", 30_000, 1, 3_600_000),
			retentionDays: int("EVENT_RETENTION_DAYS", 7, 1, 3650),
			retentionIntervalSeconds: int("EVENT_RETENTION_INTERVAL", 3600, 1, 86400)
		},
		gateway: {
			port,
			host,
			bodyLimit: "100kb",
			trustedProxies,
			corsOrigins,
			rateLimits: { api: rate("RATE_LIMIT_API", "1200/60"), auth: rate("RATE_LIMIT_AUTH", "20/60") },
			pages,
			keepAliveSeconds: int("HTTP_KEEP_ALIVE_SECONDS", 65, 1, 600)
		}
	};

	if (config.order.sagaGiveUpSeconds <= config.order.sagaTimeoutSeconds) problems.push("SAGA_GIVE_UP must be longer than SAGA_TIMEOUT");
	if (problems.length > 0) throw new ConfigError(problems);
	return config;
}

/** True for an IPv4/IPv6 address or a CIDR block of one. */
export function isAddressOrCidr(value: string): boolean {
	const [address, bits, extra] = value.split("/");
	const family = net.isIP(address);
	if (family === 0 || extra !== undefined) return false;
	if (bits === undefined) return true;
	return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * TRANSPORTER and the NATS_* variables. In production a node refuses to join a bus without credentials:
 * anyone who reaches an open bus can call every action of every service (TRANSPORTER_INSECURE=true allows
 * it on a private network). NATS takes a user and password, a token, a credentials or nkey file, or a client
 * certificate; RabbitMQ (amqp://, amqps://) a user and password in every URL of the list, and RabbitMQ's
 * well-known guest/guest counts as none.
 */
function transportOf(env: Env, production: boolean, problems: string[]): TransportConfig | undefined {
	const url = env.TRANSPORTER?.trim();
	if (!url) return undefined;
	let kind = "";
	let inUrl = false;
	const insecure = ["true", "1", "yes"].includes(env.TRANSPORTER_INSECURE?.trim().toLowerCase() ?? "");
	// Moleculer also takes a transporter by name; "Fake" stays inside the process (tests), so it needs no credentials
	if (/^[a-z]+$/i.test(url)) {
		kind = url.toLowerCase();
		const inProcess = kind === "fake";
		if (production && !inProcess && !insecure) {
			problems.push(`TRANSPORTER=${url} has no credentials; use a URL with them (TRANSPORTER_INSECURE=true allows an open bus on a private network)`);
		}
		return { url, kind, authenticated: inProcess, insecure: false };
	}
	// a list of servers: comma-separated (NATS, RabbitMQ) or semicolon-separated (RabbitMQ, as Moleculer writes it)
	const parts = url
		.split(/[,;]/)
		.map(p => p.trim())
		.filter(Boolean);
	const parsed: URL[] = [];
	for (const part of parts) {
		try {
			parsed.push(new URL(part));
		} catch {
			problems.push(`TRANSPORTER must be a URL such as nats://user:password@127.0.0.1:4222 (got ${redactUrl(part)})`);
			return undefined;
		}
	}
	kind = parsed[0].protocol.replace(/:$/, "");
	const amqp = kind === "amqp" || kind === "amqps";
	if (amqp) {
		if (parsed.some(u => u.protocol !== "amqp:" && u.protocol !== "amqps:")) {
			problems.push("TRANSPORTER: every URL of the list must be amqp:// or amqps://");
		}
		// amqplib logs in as guest/guest when the URL has no user: RabbitMQ's default, known to everyone
		const login = (u: URL) => u.username !== "" && u.password !== "" && !(u.username === "guest" && u.password === "guest");
		inUrl = parsed.every(login);
	} else {
		inUrl = parsed[0].username !== "" || parsed[0].password !== "";
	}
	const file = (name: string) => env[name]?.trim() || undefined;
	const natsCredsFile = file("NATS_CREDS_FILE");
	const natsNkeySeedFile = file("NATS_NKEY_SEED_FILE");
	const tlsFiles = { caFile: file("NATS_TLS_CA"), certFile: file("NATS_TLS_CERT"), keyFile: file("NATS_TLS_KEY") };
	if (!!tlsFiles.certFile !== !!tlsFiles.keyFile) problems.push("NATS_TLS_CERT and NATS_TLS_KEY must be set together");
	const natsOnly = natsCredsFile || natsNkeySeedFile || tlsFiles.caFile || tlsFiles.certFile;
	if (natsOnly && kind !== "nats") problems.push("NATS_CREDS_FILE, NATS_NKEY_SEED_FILE and NATS_TLS_* apply to a nats:// TRANSPORTER only");
	if (natsCredsFile && natsNkeySeedFile) problems.push("Set NATS_CREDS_FILE or NATS_NKEY_SEED_FILE, not both");
	const clientCert = !!(tlsFiles.certFile && tlsFiles.keyFile);
	const authenticated = amqp ? inUrl : inUrl || !!natsCredsFile || !!natsNkeySeedFile || clientCert;
	if (production && !authenticated && !insecure) {
		problems.push(
			amqp
				? "TRANSPORTER has no credentials: anyone who reaches RabbitMQ could call every action. Put a user and password " +
						"in every URL (amqp://user:password@host:5672/vhost), not RabbitMQ's guest/guest " +
						"(TRANSPORTER_INSECURE=true allows an open bus on a private network)"
				: "TRANSPORTER has no credentials: anyone who reaches the bus could call every action. Put them in the URL " +
						"(nats://user:password@host:4222 or nats://token@host:4222) or set NATS_CREDS_FILE or NATS_NKEY_SEED_FILE " +
						"(TRANSPORTER_INSECURE=true allows an open bus on a private network)"
		);
	}
	const tls = tlsFiles.caFile || tlsFiles.certFile ? tlsFiles : undefined;
	return { url, kind, authenticated, natsCredsFile, natsNkeySeedFile, tls, insecure };
}

/** TRACING_EXPORTER, TRACING_ENDPOINT and TRACING_SAMPLE_RATE. */
function tracingOf(env: Env, problems: string[]): TracingConfig {
	const exporter = (env.TRACING_EXPORTER?.trim().toLowerCase() || "off") as TracingConfig["exporter"];
	if (!["off", "zipkin", "console"].includes(exporter)) problems.push(`TRACING_EXPORTER must be off, zipkin or console (got "${env.TRACING_EXPORTER}")`);
	const rawRate = env.TRACING_SAMPLE_RATE?.trim() || "1";
	const sampleRate = Number(rawRate);
	if (!/^\d*\.?\d+$/.test(rawRate) || sampleRate > 1) problems.push(`TRACING_SAMPLE_RATE must be a number from 0 to 1 (got "${rawRate}")`);
	let endpoint = env.TRACING_ENDPOINT?.trim() || undefined;
	if (endpoint) {
		try {
			const u = new URL(endpoint);
			if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("not http");
			endpoint = endpoint.replace(/\/+$/, "");
		} catch {
			problems.push(`TRACING_ENDPOINT must be an http(s) URL such as http://zipkin:9411 (got ${redactUrl(endpoint)})`);
		}
	}
	if (exporter === "zipkin" && !endpoint) problems.push("TRACING_EXPORTER=zipkin needs TRACING_ENDPOINT, the collector's base URL (http://zipkin:9411)");
	return { exporter, endpoint, sampleRate: Math.min(1, Math.max(0, sampleRate || 0)) };
}

/** Why a JWT secret is unfit for production; empty when it is fine. */
export function checkSecret(secret: string): string[] {
	if (!secret) return ["JWT_SECRET is required in production"];
	if (KNOWN_WEAK_SECRETS.has(secret.toLowerCase())) return ["JWT_SECRET is a well-known default; generate one (openssl rand -hex 32)"];
	if (secret.length < MIN_SECRET_LENGTH) return [`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters in production`];
	if (new Set(secret).size < 8) return ["JWT_SECRET has too little variety to be a real secret"];
	return [];
}

/**
 * What `npm run cluster` needs: where the bus is (NATS_URL, or TRANSPORTER for NATS or RabbitMQ; unset: the
 * launcher starts its own nats-server with a random user and password), and the shared database (unset: the
 * launcher starts the embedded one).
 */
export interface ClusterConfig {
	natsUrl?: string;
	/** TRANSPORTER: a nats:// or amqp(s):// URL (or list) the nodes join as it is; NATS_URL wins when both are set. */
	transporter?: string;
	databaseUrl?: string;
	dataDir: string;
	/** The first node's health and metrics port; the others take the next ones (HEALTH_PORT, default 3001; off: none). */
	healthPortBase?: number;
}

/** nats://[user[:password]@]host[:port]; user and password percent-encoded where they need it. */
const NATS_URL = /^nats:\/\/(?:[^\s/?#@:]+(?::[^\s/?#@]*)?@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?\/?$/;

export function loadClusterConfig(env: Env, cwd = process.cwd()): ClusterConfig {
	const natsUrl = env.NATS_URL?.trim() || undefined;
	if (natsUrl !== undefined && !NATS_URL.test(natsUrl)) {
		// the URL may carry a password: never echo it whole
		throw new ConfigError([`NATS_URL must look like nats://host:4222 or nats://user:password@host:4222 (got ${redactUrl(natsUrl)})`]);
	}
	const transporter = env.TRANSPORTER?.trim() || undefined;
	if (transporter !== undefined && natsUrl === undefined) {
		for (const part of transporter.split(/[,;]/).map(p => p.trim())) {
			let scheme = "";
			try {
				scheme = new URL(part).protocol;
			} catch {
				// reported below
			}
			if (!["nats:", "amqp:", "amqps:"].includes(scheme)) {
				throw new ConfigError([
					`TRANSPORTER for npm run cluster must be nats://, amqp:// or amqps:// URLs, e.g. amqp://user:password@127.0.0.1:5672 (got ${redactUrl(part)})`
				]);
			}
		}
	}
	const health = env.HEALTH_PORT?.trim().toLowerCase() || String(DEV_HEALTH_PORT);
	if (health !== "off" && !/^\d{1,5}$/.test(health)) throw new ConfigError([`HEALTH_PORT must be a port number or off (got "${env.HEALTH_PORT}")`]);
	return {
		natsUrl,
		transporter: natsUrl === undefined ? transporter : undefined,
		databaseUrl: env.DATABASE_URL?.trim() || undefined,
		dataDir: path.resolve(cwd, env.DATA_DIR?.trim() || ".data"),
		healthPortBase: health === "off" ? undefined : Number(health)
	};
}
