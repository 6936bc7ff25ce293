import crypto from "node:crypto";
import path from "node:path";
import { expect } from "chai";
import { SERVICE_NAMES, loadConfig, type AppConfig } from "../../app/config";
import { ConfigError, databaseUrlFor, type Env } from "../../lib/config";

const CWD = path.resolve("/srv/momentum");
const DEV_SECRET = "dev-" + crypto.randomBytes(16).toString("hex");

function load(env: Env): AppConfig {
	return loadConfig(env, { cwd: CWD, devJwtSecret: DEV_SECRET });
}

/** The problems loadConfig reports for this environment (fails the test when it accepts it). */
function problemsOf(env: Env): string[] {
	try {
		load(env);
	} catch (err) {
		expect(err).to.be.instanceOf(ConfigError);
		return (err as ConfigError).problems;
	}
	expect.fail("expected the configuration to be refused");
}

function expectProblem(env: Env, pattern: RegExp): void {
	const problems = problemsOf(env);
	expect(
		problems.some(p => pattern.test(p)),
		`no problem matching ${pattern} in ${JSON.stringify(problems)}`
	).to.equal(true);
}

const strongSecret = () => crypto.randomBytes(32).toString("hex");

describe("loadConfig", () => {
	describe("defaults", () => {
		it("listens on port 3000 and serves gRPC on 50051 when nothing is set", () => {
			const config = load({});
			expect(config.gateway.port).to.equal(3000);
			expect(config.identity.grpcPort).to.equal(50051);
		});

		it("runs every service when SERVICES is unset", () => {
			expect(load({}).services).to.deep.equal([...SERVICE_NAMES]);
		});

		it("keeps data in .data under the working directory", () => {
			expect(load({}).dataDir).to.equal(path.join(CWD, ".data"));
		});

		it("resolves a relative DATA_DIR against the working directory", () => {
			expect(load({ DATA_DIR: "var/shop" }).dataDir).to.equal(path.join(CWD, "var", "shop"));
		});
	});

	describe("logs and tracing", () => {
		it("logs text in development and JSON in production unless LOG_FORMAT says otherwise", () => {
			expect(load({}).logFormat).to.equal("text");
			expect(load({ NODE_ENV: "production", JWT_SECRET: strongSecret() }).logFormat).to.equal("json");
			expect(load({ LOG_FORMAT: "JSON" }).logFormat).to.equal("json");
			expectProblem({ LOG_FORMAT: "xml" }, /LOG_FORMAT must be text or json/);
		});

		it("traces nothing by default, and sends Zipkin v2 JSON to TRACING_ENDPOINT when asked", () => {
			expect(load({}).tracing).to.deep.equal({ exporter: "off", endpoint: undefined, sampleRate: 1 });
			expect(load({ TRACING_EXPORTER: "zipkin", TRACING_ENDPOINT: "http://zipkin:9411/", TRACING_SAMPLE_RATE: "0.25" }).tracing).to.deep.equal({
				exporter: "zipkin",
				endpoint: "http://zipkin:9411",
				sampleRate: 0.25
			});
		});

		it("refuses an unknown exporter, Zipkin without an endpoint, a bad endpoint or rate, never echoing credentials", () => {
			expectProblem({ TRACING_EXPORTER: "jaegerx" }, /TRACING_EXPORTER must be off, zipkin or console/);
			expectProblem({ TRACING_EXPORTER: "zipkin" }, /needs TRACING_ENDPOINT/);
			for (const rate of ["1.5", "-1", "half"]) expectProblem({ TRACING_SAMPLE_RATE: rate }, /TRACING_SAMPLE_RATE must be a number from 0 to 1/);
			const problems = problemsOf({ TRACING_EXPORTER: "zipkin", TRACING_ENDPOINT: "ftp://user:hunter2@collector" });
			expect(problems.join(" "))
				.to.match(/TRACING_ENDPOINT must be an http/)
				.and.not.include("hunter2");
		});
	});

	describe("JWT_SECRET", () => {
		it("refuses to start in production without a JWT_SECRET", () => {
			expectProblem({ NODE_ENV: "production" }, /JWT_SECRET/);
		});

		it("refuses a short JWT_SECRET in production", () => {
			expectProblem({ NODE_ENV: "production", JWT_SECRET: crypto.randomBytes(8).toString("hex") }, /JWT_SECRET.*at least/);
		});

		for (const weak of ["changeme", "secret", "CHANGEME"]) {
			it(`refuses the well-known secret "${weak}" in production`, () => {
				expectProblem({ NODE_ENV: "production", JWT_SECRET: weak }, /JWT_SECRET.*well-known/);
			});
		}

		it("refuses a long secret with too little variety in production", () => {
			expectProblem({ NODE_ENV: "production", JWT_SECRET: "a".repeat(40) }, /JWT_SECRET.*variety/);
		});

		it("accepts a random 32-byte secret in production and uses it", () => {
			const secret = strongSecret();
			const config = load({ NODE_ENV: "production", JWT_SECRET: secret });
			expect(config.env).to.equal("production");
			expect(config.identity.jwtSecret).to.equal(secret);
		});

		it("falls back to the development secret outside production when JWT_SECRET is unset", () => {
			expect(load({ NODE_ENV: "development" }).identity.jwtSecret).to.equal(DEV_SECRET);
		});

		it("never uses the development secret in production", () => {
			const problems = problemsOf({ NODE_ENV: "production" });
			expect(problems.join("\n")).to.not.include(DEV_SECRET);
		});

		it("prefers an explicit JWT_SECRET over the development secret", () => {
			const secret = strongSecret();
			expect(load({ JWT_SECRET: secret }).identity.jwtSecret).to.equal(secret);
		});
	});

	describe("ports", () => {
		it("reports a PORT that is not a number", () => {
			expectProblem({ PORT: "abc" }, /^PORT\b.*abc/);
		});

		it("reports a PORT above 65535", () => {
			expectProblem({ PORT: "70000" }, /^PORT\b.*70000/);
		});

		it("reports an invalid IDENTITY_GRPC_PORT", () => {
			expectProblem({ IDENTITY_GRPC_PORT: "-1" }, /IDENTITY_GRPC_PORT/);
		});

		it("accepts PORT=0 so the OS can pick a free port", () => {
			expect(load({ PORT: "0" }).gateway.port).to.equal(0);
		});
	});

	describe("SERVICES", () => {
		it("runs exactly the named services, in the canonical order", () => {
			const config = load({ SERVICES: "identity,gateway" });
			expect(config.services).to.deep.equal(["gateway", "identity"]);
			expect(SERVICE_NAMES.indexOf("gateway")).to.be.lessThan(SERVICE_NAMES.indexOf("identity"));
		});

		it("tolerates spaces around the names", () => {
			expect(load({ SERVICES: " catalog , cart " }).services).to.deep.equal(["catalog", "cart"]);
		});

		it("reports an unknown service name", () => {
			expectProblem({ SERVICES: "identity,shipping" }, /SERVICES.*shipping/);
		});
	});

	describe("admin account", () => {
		it("reports ADMIN_EMAIL without ADMIN_PASSWORD", () => {
			expectProblem({ ADMIN_EMAIL: "admin@example.com" }, /ADMIN_PASSWORD/);
		});

		it("reports ADMIN_PASSWORD without ADMIN_EMAIL", () => {
			expectProblem({ ADMIN_PASSWORD: "long-enough-password" }, /ADMIN_EMAIL/);
		});

		it("reports an ADMIN_PASSWORD shorter than 8 characters", () => {
			expectProblem({ ADMIN_EMAIL: "admin@example.com", ADMIN_PASSWORD: "short" }, /ADMIN_PASSWORD.*8/);
		});

		it("takes a valid admin with the e-mail lower-cased", () => {
			const config = load({ ADMIN_EMAIL: "Admin@Example.COM", ADMIN_PASSWORD: "long-enough-password" });
			expect(config.identity.admin).to.deep.equal({ email: "admin@example.com", password: "long-enough-password" });
		});

		it("has no admin when neither is set", () => {
			expect(load({}).identity.admin).to.equal(undefined);
		});
	});

	describe("database URLs", () => {
		it("reports a DATABASE_URL that is not postgres://", () => {
			expectProblem({ DATABASE_URL: "mysql://user:pw@localhost/shop" }, /DATABASE_URL.*postgres/);
		});

		it("reports a DATABASE_URL that is not a URL at all", () => {
			expectProblem({ DATABASE_URL: "not a url" }, /DATABASE_URL/);
		});

		it("uses the embedded server when no URL is set", () => {
			const config = load({});
			expect(config.database.url).to.equal(undefined);
			expect(databaseUrlFor(config.database, "identity")).to.equal(undefined);
		});

		it("gives a service its own IDENTITY_DATABASE_URL and prefers it over the shared one", () => {
			const shared = "postgres://shop@db.internal:5432/shop";
			const own = "postgresql://identity@id-db.internal:5432/identity";
			const config = load({ DATABASE_URL: shared, IDENTITY_DATABASE_URL: own });
			expect(config.database.serviceUrls.identity).to.equal(own);
			expect(databaseUrlFor(config.database, "identity")).to.equal(own);
			expect(databaseUrlFor(config.database, "catalog")).to.equal(shared);
		});

		it("reports an invalid per-service URL", () => {
			expectProblem({ CATALOG_DATABASE_URL: "http://catalog.internal" }, /CATALOG_DATABASE_URL/);
		});
	});

	describe("account lifecycle", () => {
		it("asks for a verified e-mail before orders in production only, unless told otherwise", () => {
			expect(load({}).order.requireEmailVerification).to.equal(false);
			expect(load({ NODE_ENV: "test" }).order.requireEmailVerification).to.equal(false);
			expect(load({ NODE_ENV: "production", JWT_SECRET: strongSecret() }).order.requireEmailVerification).to.equal(true);
			expect(load({ NODE_ENV: "production", JWT_SECRET: strongSecret(), REQUIRE_EMAIL_VERIFICATION: "false" }).order.requireEmailVerification).to.equal(
				false
			);
			expect(load({ REQUIRE_EMAIL_VERIFICATION: "true" }).order.requireEmailVerification).to.equal(true);
			expectProblem({ REQUIRE_EMAIL_VERIFICATION: "maybe" }, /REQUIRE_EMAIL_VERIFICATION/);
		});

		it("keeps verification links a day and reset links half an hour by default", () => {
			expect(load({}).identity).to.include({ emailVerificationTtlSeconds: 86400, passwordResetTtlSeconds: 1800 });
			expect(load({ EMAIL_VERIFICATION_TTL: "3600", PASSWORD_RESET_TTL: "600" }).identity).to.include({
				emailVerificationTtlSeconds: 3600,
				passwordResetTtlSeconds: 600
			});
			expectProblem({ PASSWORD_RESET_TTL: "5" }, /PASSWORD_RESET_TTL/);
			expectProblem({ EMAIL_VERIFICATION_TTL: "forever" }, /EMAIL_VERIFICATION_TTL/);
		});
	});

	it("reports every problem at once", () => {
		const problems = problemsOf({
			NODE_ENV: "production",
			PORT: "abc",
			SERVICES: "identity,nope",
			ADMIN_EMAIL: "admin@example.com",
			DATABASE_URL: "mysql://localhost/shop"
		});
		expect(problems).to.have.length(5);
		for (const name of [/JWT_SECRET/, /^PORT\b/, /SERVICES/, /ADMIN_PASSWORD/, /DATABASE_URL/]) {
			expect(
				problems.some(p => name.test(p)),
				`missing ${name}`
			).to.equal(true);
		}
	});

	it("lists the problems in the error message", () => {
		try {
			load({ PORT: "abc", LOG_LEVEL: "loud" });
			expect.fail("expected a ConfigError");
		} catch (err) {
			expect(err).to.be.instanceOf(ConfigError);
			expect((err as Error).message)
				.to.include("PORT")
				.and.to.include("LOG_LEVEL");
		}
	});
});

describe("config: HEALTH_PORT and METRICS", () => {
	const prod = { NODE_ENV: "production", JWT_SECRET: crypto.randomBytes(32).toString("hex") };

	it("serves health and metrics on 3001 in development when HEALTH_PORT is unset, and on none in production or tests", () => {
		expect(load({}).healthPort).to.equal(3001);
		expect(load(prod).healthPort).to.equal(undefined);
		expect(load({ NODE_ENV: "test" }).healthPort).to.equal(undefined);
		expect(load({ ...prod, HEALTH_PORT: "9464" }).healthPort).to.equal(9464);
		expect(load({ HEALTH_PORT: "off" }).healthPort).to.equal(undefined);
	});

	it("has metrics on unless METRICS=off, and refuses anything but on or off", () => {
		expect(load({}).metrics).to.equal(true);
		expect(load({ METRICS: "off" }).metrics).to.equal(false);
		expect(load({ METRICS: "on" }).metrics).to.equal(true);
		expectProblem({ METRICS: "sometimes" }, /METRICS must be on or off/);
		expectProblem({ HEALTH_PORT: "http" }, /HEALTH_PORT must be a whole number/);
	});

	it("serves the storefront and the admin unless PAGES=off, and refuses anything but on or off", () => {
		expect(load({}).gateway.pages).to.equal(true);
		expect(load({ PAGES: "off" }).gateway.pages).to.equal(false);
		expectProblem({ PAGES: "maybe" }, /PAGES must be on or off/);
	});

	it("keeps idle HTTP connections 65 s unless HTTP_KEEP_ALIVE_SECONDS says otherwise, from 1 s to 10 minutes", () => {
		expect(load({}).gateway.keepAliveSeconds).to.equal(65);
		expect(load({ HTTP_KEEP_ALIVE_SECONDS: "120" }).gateway.keepAliveSeconds).to.equal(120);
		expectProblem({ HTTP_KEEP_ALIVE_SECONDS: "0" }, /HTTP_KEEP_ALIVE_SECONDS/);
		expectProblem({ HTTP_KEEP_ALIVE_SECONDS: "601" }, /HTTP_KEEP_ALIVE_SECONDS/);
		expectProblem({ HTTP_KEEP_ALIVE_SECONDS: "1m" }, /HTTP_KEEP_ALIVE_SECONDS must be a whole number/);
	});
});
