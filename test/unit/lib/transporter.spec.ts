import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Transporters } from "moleculer";
import { nkeys } from "nats";
import { loadClusterConfig, loadConfig } from "../../../app/config";
import { ConfigError, type Env, type TransportConfig } from "../../../lib/config";
import { natsOptions, transporterOptions, type NatsConnectOptions } from "../../../lib/transporter";

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

describe("NATS_URL of npm run cluster (loadClusterConfig)", () => {
	it("takes a NATS URL with or without credentials, and leaves it unset for the launcher's own nats-server", () => {
		for (const url of ["nats://127.0.0.1:4222", "nats://momentum:0a1b2c@nats.internal:4222", "nats://TOKEN@10.0.0.5", "nats://u:p%40ss@[::1]:4222"]) {
			expect(loadClusterConfig({ NATS_URL: url }).natsUrl, url).to.equal(url);
		}
		expect(loadClusterConfig({}).natsUrl).to.equal(undefined);
		expect(loadClusterConfig({ NATS_URL: " " }).natsUrl).to.equal(undefined);
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
