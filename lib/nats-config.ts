import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A nats-server config that admits one random user, as `npm run cluster`, the tests and the benchmark start NATS. */
export interface PrivateNatsConfig {
	/** The config file (`nats-server -c <file>`), mode 0600 in a fresh private folder. */
	file: string;
	/** The folder: remove it when the server is gone. */
	dir: string;
	port: number;
	user: string;
	password: string;
	/** What the nodes get as TRANSPORTER: the credentials percent-encoded into the URL. */
	url: string;
	/** The same server with other credentials (or none): what a stranger would try. */
	urlWith(user?: string, password?: string): string;
}

/**
 * Writes a config for a nats-server on 127.0.0.1:`port` that requires a random user and password. They are
 * in a file only its owner can read, never on a command line where `ps` would show them.
 */
export function privateNatsConfig(port: number, opts: { jetStream?: boolean; prefix?: string } = {}): PrivateNatsConfig {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? "momentum-nats-"));
	const user = `momentum-${crypto.randomBytes(4).toString("hex")}`;
	const password = crypto.randomBytes(24).toString("hex");
	const file = path.join(dir, "nats.conf");
	const lines = [`listen: "127.0.0.1:${port}"`, `authorization { user: "${user}", password: "${password}" }`];
	if (opts.jetStream) lines.push(`jetstream { store_dir: ${JSON.stringify(path.join(dir, "store"))} }`);
	fs.writeFileSync(file, lines.join("\n") + "\n", { mode: 0o600 });
	const urlWith = (u?: string, p?: string) =>
		u === undefined ? `nats://127.0.0.1:${port}` : `nats://${encodeURIComponent(u)}${p === undefined ? "" : `:${encodeURIComponent(p)}`}@127.0.0.1:${port}`;
	return { file, dir, port, user, password, url: urlWith(user, password), urlWith };
}
