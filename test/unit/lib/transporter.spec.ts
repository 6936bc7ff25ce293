import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Transporters } from "moleculer";
import { nkeys } from "nats";
import { loadClusterConfig, loadConfig } from "../../../app/config";
import { ConfigError, type Env, type TransportConfig } from "../../../lib/config";
import { AmqpBus } from "../../../lib/amqp-transporter";
import { AMQP_HEARTBEAT_SECONDS, AMQP_PREFETCH, amqpOptions, natsOptions, transporterOptions, type NatsConnectOptions } from "../../../lib/transporter";

function transportOf(env: Env): TransportConfig {
	const config = loadConfig({ NODE_ENV: "test", ...env }, { cwd: os.tmpdir(), devJwtSecret: crypto.randomBytes(32).toString("hex") });
	return config.transport!;
}

const optionsFor = (env: Env): NatsConnectOptions => natsOptions(transportOf(env));

/** What a NATS server would get back from the node's authenticator for a nonce it sent. */
function answer(options: NatsConnectOptions, nonce = "server-nonce"): { nkey?: string; sig?: string; jwt?: string } {
	const auth = options.authenticator;
	expect(auth).to.be.a("function");
	return (auth as (nonce?: string) => { nkey?: string; sig?: string; jwt?: string })(nonce);
}

function verifies(publicKey: string, nonce: string, sig: string): boolean {
	const kp = nkeys.fromPublic(publicKey);
	return kp.verify(new TextEncoder().encode(nonce), nkeys.decode(sig));
}

describe("transporter options (lib/transporter.ts)", () => {
	let dir: string;
	before(() => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), "momentum-transporter-"));
	});
	after(() => fs.rmSync(dir, { recursive: true, force: true }));

	it("gives NATS the user and password of the URL, and the server without them", () => {
		const t = transportOf({ TRANSPORTER: "nats://momentum:s3cret@10.0.0.5:4222" });
		expect(transporterOptions(t)).to.deep.equal({
			type: "NATS",
			options: { servers: ["10.0.0.5:4222"], user: "momentum", pass: "s3cret", reconnectTimeWait: 250 }
		});
	});

	it("takes a user name without a password for a token, as NATS means it", () => {
		const options = optionsFor({ TRANSPORTER: "nats://a1b2c3token@nats:4222" });
		expect(options).to.deep.equal({ servers: ["nats:4222"], token: "a1b2c3token" });
	});

	it("percent-decodes the user, the password and the token", () => {
		expect(optionsFor({ TRANSPORTER: "nats://shop%40east:p%40ss%3Aw%2Fo%25rd%20x@127.0.0.1:4222" })).to.include({
			user: "shop@east",
			pass: "p@ss:w/o%rd x"
		});
		expect(optionsFor({ TRANSPORTER: "nats://t%2Bk%3D@127.0.0.1:4222" }).token).to.equal("t+k=");
	});

	it("lists every server of a comma-separated TRANSPORTER, with the credentials given once", () => {
		const options = optionsFor({ TRANSPORTER: "nats://u:p@n1:4222, nats://n2:4223,nats://n3" });
		expect(options).to.deep.equal({ servers: ["n1:4222", "n2:4223", "n3"], user: "u", pass: "p" });
	});

	it("passes no credentials at all for an open bus", () => {
		expect(optionsFor({ TRANSPORTER: "nats://127.0.0.1:4222" })).to.deep.equal({ servers: ["127.0.0.1:4222"] });
	});

	it("signs the server's nonce with the user of a credentials file and sends its JWT", () => {
		const user = nkeys.createUser();
		const seed = new TextDecoder().decode(user.getSeed());
		const jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVVEVTVCJ9.c2ln";
		const file = path.join(dir, "user.creds");
		fs.writeFileSync(
			file,
			`-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
				`************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n` +
				`-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`
		);
		const options = optionsFor({ TRANSPORTER: "nats://nats:4222", NATS_CREDS_FILE: file });
		expect(options.servers).to.deep.equal(["nats:4222"]);
		const auth = answer(options, "nonce-1");
		expect(auth.jwt).to.equal(jwt);
		expect(auth.nkey).to.equal(user.getPublicKey());
		expect(verifies(user.getPublicKey(), "nonce-1", auth.sig!)).to.equal(true);
	});

	it("signs the server's nonce with an nkey seed file, ignoring the newline at its end", () => {
		const user = nkeys.createUser();
		const file = path.join(dir, "user.nk");
		fs.writeFileSync(file, `${new TextDecoder().decode(user.getSeed())}\n`);
		const options = optionsFor({ TRANSPORTER: "nats://nats:4222", NATS_NKEY_SEED_FILE: file });
		const auth = answer(options, "nonce-2");
		expect(auth.nkey).to.equal(user.getPublicKey());
		expect(auth.jwt).to.equal(undefined);
		expect(verifies(user.getPublicKey(), "nonce-2", auth.sig!)).to.equal(true);
	});

	it("refuses to start with a missing or malformed key file, naming the variable", () => {
		const garbage = path.join(dir, "garbage");
		fs.writeFileSync(garbage, "not a key\n");
		const problems = (env: Env): string[] => {
			try {
				optionsFor(env);
			} catch (err) {
				expect(err).to.be.instanceOf(ConfigError);
				return (err as ConfigError).problems;
			}
			return expect.fail("expected a ConfigError");
		};
		expect(problems({ TRANSPORTER: "nats://n:4222", NATS_CREDS_FILE: path.join(dir, "absent.creds") })[0]).to.match(
			/^NATS_CREDS_FILE: cannot read .*absent\.creds \(ENOENT\)/
		);
		expect(problems({ TRANSPORTER: "nats://n:4222", NATS_CREDS_FILE: garbage })[0]).to.match(/^NATS_CREDS_FILE: .* is not a NATS credentials file/);
		expect(problems({ TRANSPORTER: "nats://n:4222", NATS_NKEY_SEED_FILE: garbage })[0]).to.match(/^NATS_NKEY_SEED_FILE: .* is not an nkey seed/);
		expect(problems({ TRANSPORTER: "nats://n:4222", NATS_TLS_CA: path.join(dir, "absent-ca.pem") })[0]).to.match(/^NATS_TLS_CA: cannot read/);
	});

	it("hands nats.js the TLS files by name", () => {
		const files = Object.fromEntries(["ca", "cert", "key"].map(name => [name, path.join(dir, `${name}.pem`)]));
		for (const file of Object.values(files)) fs.writeFileSync(file, "-----BEGIN CERTIFICATE-----\n");
		const options = optionsFor({ TRANSPORTER: "nats://nats:4222", NATS_TLS_CA: files.ca, NATS_TLS_CERT: files.cert, NATS_TLS_KEY: files.key });
		expect(options.tls).to.deep.equal({ caFile: files.ca, certFile: files.cert, keyFile: files.key });
		expect(optionsFor({ TRANSPORTER: "nats://u:p@nats:4222", NATS_TLS_CA: files.ca }).tls).to.deep.equal({ caFile: files.ca });
	});

	it("leaves another scheme's URL to Moleculer as it is", () => {
		expect(transporterOptions(transportOf({ TRANSPORTER: "redis://:pw@redis:6379" }))).to.equal("redis://:pw@redis:6379");
	});

	it("keeps Moleculer's NATS transporter reconnecting forever, and never lets it parse the URL again", () => {
		const config = transporterOptions(transportOf({ TRANSPORTER: "nats://u:p%40ss@127.0.0.1:4222" }));
		const tx = new Transporters.NATS((config as { options: NatsConnectOptions }).options);
		expect(tx.opts).to.include({ maxReconnectAttempts: -1, reconnectTimeWait: 250, user: "u", pass: "p@ss" });
		expect(tx.opts.url).to.equal(undefined);
	});
});

describe("a RabbitMQ TRANSPORTER (amqp://, amqps://)", () => {
	const production = (env: Env): Env => ({ NODE_ENV: "production", JWT_SECRET: crypto.randomBytes(32).toString("hex"), ...env });
	const load = (env: Env) => loadConfig(env, { cwd: os.tmpdir(), devJwtSecret: crypto.randomBytes(32).toString("hex") });
	const problemsOf = (env: Env): string[] => {
		try {
			load(env);
		} catch (err) {
			expect(err).to.be.instanceOf(ConfigError);
			return (err as ConfigError).problems;
		}
		return expect.fail(`expected ${JSON.stringify(env.TRANSPORTER)} to be refused`);
	};

	it("is accepted in production with a user and password in every URL", () => {
		for (const url of [
			"amqp://momentum:s3cret@rabbitmq:5672",
			"amqps://momentum:s3cret@mq.internal:5671/shop",
			"amqp://u:p@mq1:5672/shop;amqp://u:p@mq2:5672/shop",
			"amqp://u:p@mq1, amqp://u:p@mq2"
		]) {
			const t = load(production({ TRANSPORTER: url })).transport!;
			expect(t, url).to.include({ kind: url.slice(0, url.indexOf(":")), authenticated: true, insecure: false });
		}
	});

	it("is refused in production without credentials, with guest/guest, or with a URL of the list lacking them", () => {
		for (const url of [
			"amqp://rabbitmq:5672",
			"amqp://guest:guest@rabbitmq:5672",
			"amqp://momentum@rabbitmq:5672",
			"amqp://u:p@mq1:5672;amqp://mq2:5672"
		]) {
			const problems = problemsOf(production({ TRANSPORTER: url }));
			expect(problems, url).to.have.length(1);
			expect(problems[0], url).to.match(/^TRANSPORTER has no credentials: .*amqp:\/\/user:password@host:5672\/vhost/);
			expect(problems[0], url).to.not.match(/nats:\/\/|NATS_CREDS_FILE/);
		}
	});

	it("is allowed without credentials in production with TRANSPORTER_INSECURE=true, and outside production (both warned at start)", () => {
		expect(load(production({ TRANSPORTER: "amqp://rabbitmq:5672", TRANSPORTER_INSECURE: "true" })).transport).to.include({
			authenticated: false,
			insecure: true
		});
		expect(load({ NODE_ENV: "test", TRANSPORTER: "amqp://rabbitmq:5672" }).transport).to.include({ kind: "amqp", authenticated: false });
	});

	it("refuses the NATS-only options, a malformed URL and a list mixing schemes, never echoing a password", () => {
		const secret = "hunter2secret";
		const cases: [Env, RegExp][] = [
			[{ NATS_CREDS_FILE: "/etc/momentum/nats.creds" }, /apply to a nats:\/\/ TRANSPORTER only/],
			[{ NATS_NKEY_SEED_FILE: "/etc/momentum/user.nk" }, /apply to a nats:\/\/ TRANSPORTER only/],
			[{ NATS_TLS_CA: "/etc/momentum/ca.pem" }, /apply to a nats:\/\/ TRANSPORTER only/],
			[{ TRANSPORTER: `amqp://u:${secret}@mq1:5672;nats://u:${secret}@n:4222` }, /every URL of the list must be amqp:\/\/ or amqps:\/\//],
			[{ TRANSPORTER: `amqp://u:${secret}@mq1:5672;amqp://u:${secret}@[mq2` }, /^TRANSPORTER must be a URL .*\(got \(unparseable URL\)\)/]
		];
		for (const [env, pattern] of cases) {
			const problems = problemsOf(production({ TRANSPORTER: `amqp://momentum:${secret}@rabbitmq:5672`, ...env }));
			expect(
				problems.some(p => pattern.test(p)),
				`${pattern} in ${JSON.stringify(problems)}`
			).to.equal(true);
			expect(problems.join("\n")).to.not.include(secret);
		}
	});

	it("gives amqplib every broker with a heartbeat, the percent-decoded login, and the virtual host as it is", () => {
		const options = amqpOptions(transportOf({ TRANSPORTER: "amqp://sh%40p:p%C3%A9%3Aw%2Fd@mq1:5672/shop%2Feu ; amqp://mq2/%2F?heartbeat=30,amqps://mq3" }));
		expect(options.url).to.deep.equal([
			`amqp://sh%40p:p%C3%A9%3Aw%2Fd@mq1:5672/shop%2Feu?heartbeat=${AMQP_HEARTBEAT_SECONDS}`,
			"amqp://mq2/%2F?heartbeat=30",
			`amqps://mq3?heartbeat=${AMQP_HEARTBEAT_SECONDS}`
		]);
		expect(options.prefetch).to.equal(AMQP_PREFETCH);
		const login = options.socketOptions!.credentials as { mechanism: string; username: string; password: string; response(): Buffer };
		expect(login).to.include({ mechanism: "PLAIN", username: "sh@p", password: "pé:w/d" });
		expect(login.response().toString("utf8")).to.equal("\0sh@p\0pé:w/d");
		expect(options.socketOptions!.noDelay, "Nagle's algorithm off").to.equal(true);
		expect(amqpOptions(transportOf({ TRANSPORTER: "amqp://127.0.0.1" })).socketOptions).to.deep.equal({ noDelay: true });
	});

	it("hands Moleculer its AMQP transporter, reconnecting itself and acknowledging requests on arrival", () => {
		const tx = transporterOptions(transportOf({ TRANSPORTER: "amqp://u:p@127.0.0.1:5672/shop" }));
		expect(tx).to.be.instanceOf(AmqpBus);
		expect(tx).to.be.instanceOf(Transporters.AMQP);
		expect((tx as AmqpBus).opts).to.include({ prefetch: AMQP_PREFETCH, reconnectTimeWait: 250 });
		expect((tx as AmqpBus).opts.url).to.deep.equal([`amqp://u:p@127.0.0.1:5672/shop?heartbeat=${AMQP_HEARTBEAT_SECONDS}`]);

		// a request is acknowledged before its action runs: a node killed mid-action never has it redelivered
		const bus = tx as AmqpBus;
		const acked: unknown[] = [];
		const received: string[] = [];
		bus.channel = { ack: (msg: unknown) => acked.push(msg) };
		bus.receive = (cmd: string) => {
			received.push(cmd);
			expect(acked, "acknowledged before it is handled").to.have.length(1);
			return new Promise<void>(() => undefined); // an action that never finishes
		};
		const msg = { content: Buffer.from("{}") };
		void bus._consumeCB("REQ", true)(msg);
		expect(acked).to.deep.equal([msg]);
		expect(received).to.deep.equal(["REQ"]);
		void bus._consumeCB("EVENT", false)(msg);
		expect(acked, "no acknowledgement where the consumer takes none").to.have.length(1);
	});
});

describe("NATS_URL of npm run cluster (loadClusterConfig)", () => {
	it("takes a NATS URL with or without credentials, and leaves it unset for the launcher's own nats-server", () => {
		for (const url of ["nats://127.0.0.1:4222", "nats://momentum:0a1b2c@nats.internal:4222", "nats://TOKEN@10.0.0.5", "nats://u:p%40ss@[::1]:4222"]) {
			expect(loadClusterConfig({ NATS_URL: url }).natsUrl, url).to.equal(url);
		}
		expect(loadClusterConfig({}).natsUrl).to.equal(undefined);
		expect(loadClusterConfig({ NATS_URL: " " }).natsUrl).to.equal(undefined);
	});

	it("takes a NATS or RabbitMQ TRANSPORTER for the nodes when NATS_URL is unset, and refuses another scheme without echoing a password", () => {
		for (const url of ["amqp://u:p@127.0.0.1:5672/shop", "amqps://u:p@mq1;amqps://u:p@mq2", "nats://u:p@n1:4222,nats://n2:4222"]) {
			expect(loadClusterConfig({ TRANSPORTER: url }).transporter, url).to.equal(url);
		}
		expect(loadClusterConfig({ TRANSPORTER: "amqp://u:p@h", NATS_URL: "nats://n:4222" })).to.include({ natsUrl: "nats://n:4222", transporter: undefined });
		for (const url of ["redis://u:s3cret@h:6379", "amqp://u:s3cret@h;tcp://h2", "Fake"]) {
			let problems: string[] = [];
			try {
				loadClusterConfig({ TRANSPORTER: url });
			} catch (err) {
				problems = (err as ConfigError).problems;
			}
			expect(problems, url).to.have.length(1);
			expect(problems[0]).to.match(/^TRANSPORTER for npm run cluster must be nats:\/\/, amqp:\/\/ or amqps:\/\/ URLs/);
			expect(problems[0]).to.not.include("s3cret");
		}
	});

	it("refuses anything else without echoing a password", () => {
		for (const url of ["http://127.0.0.1:4222", "nats://u:pa ss@h:4222", "nats://u:p@x@h:4222", "nats://h:4222/path"]) {
			let problems: string[] = [];
			try {
				loadClusterConfig({ NATS_URL: url });
			} catch (err) {
				problems = (err as ConfigError).problems;
			}
			expect(problems, url).to.have.length(1);
			expect(problems[0]).to.match(/^NATS_URL must look like/);
			expect(problems[0]).to.not.match(/pa ss|p@x/);
		}
	});
});
