import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** A real SMTP server for the tests (the `smtp-server` package) on a port from the OS, keeping what it receives. */

export interface ReceivedMail {
	from: string;
	to: string[];
	subject: string;
	/** The text/plain part, decoded. */
	text: string;
	/** The text/html part, decoded. */
	html: string;
	raw: string;
}

export interface TestSmtpServer {
	/** smtp://127.0.0.1:<port>, for SMTP_URL. */
	url: string;
	received: ReceivedMail[];
	/** Mail received for one recipient. */
	to(address: string): ReceivedMail[];
	/** Refuses the next `times` deliveries to `address` (Infinity: always) with a temporary error. */
	reject(address: string, times: number): void;
	/** Deliveries to `address` refused so far. */
	rejections(address: string): number;
	stop(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
	const received: ReceivedMail[] = [];
	const toReject = new Map<string, number>();
	const rejected = new Map<string, number>();
	const server = new SMTPServer({
		secure: false,
		authOptional: true,
		disabledCommands: ["STARTTLS"],
		logger: false,
		onRcptTo(address, _session, callback) {
			const key = address.address.toLowerCase();
			const left = toReject.get(key) ?? 0;
			if (left > 0) {
				toReject.set(key, left - 1);
				rejected.set(key, (rejected.get(key) ?? 0) + 1);
				return callback(Object.assign(new Error("Mailbox busy, try again later"), { responseCode: 451 }));
			}
			callback();
		},
		onData(stream, session, callback) {
			const chunks: Buffer[] = [];
			stream.on("data", (c: Buffer) => chunks.push(c));
			stream.on("end", () => {
				const raw = Buffer.concat(chunks).toString("utf8");
				const envelope = session.envelope;
				received.push({
					from: envelope.mailFrom ? envelope.mailFrom.address : "",
					to: envelope.rcptTo.map(r => r.address.toLowerCase()),
					...parseMessage(raw),
					raw
				});
				callback();
			});
		}
	});
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve());
	});
	const port = (server.server.address() as AddressInfo).port;
	return {
		url: `smtp://127.0.0.1:${port}`,
		received,
		to: address => received.filter(m => m.to.includes(address.toLowerCase())),
		reject: (address, times) => void toReject.set(address.toLowerCase(), times),
		rejections: address => rejected.get(address.toLowerCase()) ?? 0,
		stop: () => new Promise<void>(resolve => server.close(() => resolve()))
	};
}

/** Just enough MIME for the messages nodemailer writes: headers, one level of multipart, QP and base64. */
function parseMessage(raw: string): { subject: string; text: string; html: string } {
	const { headers, body } = splitPart(raw);
	const subject = decodeWords(headers.get("subject") ?? "");
	const parts: { headers: Map<string, string>; body: string }[] = [];
	const boundary = /boundary="?([^";]+)"?/i.exec(headers.get("content-type") ?? "")?.[1];
	if (boundary) {
		for (const chunk of body.split(`--${boundary}`).slice(1)) {
			if (chunk.startsWith("--")) break;
			parts.push(splitPart(chunk.replace(/^\r?\n/, "")));
		}
	} else {
		parts.push({ headers, body });
	}
	const decoded = (type: string) => {
		const part = parts.find(p => (p.headers.get("content-type") ?? "text/plain").startsWith(type));
		return part ? decodeBody(part.body, part.headers.get("content-transfer-encoding") ?? "7bit") : "";
	};
	return { subject, text: decoded("text/plain"), html: decoded("text/html") };
}

function splitPart(raw: string): { headers: Map<string, string>; body: string } {
	const end = raw.indexOf("\r\n\r\n");
	const head = end < 0 ? raw : raw.slice(0, end);
	const body = end < 0 ? "" : raw.slice(end + 4);
	const headers = new Map<string, string>();
	for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
		const colon = line.indexOf(":");
		if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
	}
	return { headers, body };
}

function decodeBody(body: string, encoding: string): string {
	switch (encoding.toLowerCase()) {
		case "quoted-printable":
			return decodeQuotedPrintable(body);
		case "base64":
			return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
		default:
			return body;
	}
}

function decodeQuotedPrintable(text: string): string {
	const soft = text.replace(/=\r?\n/g, "");
	const bytes: number[] = [];
	for (let i = 0; i < soft.length; i++) {
		if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
			bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
			i += 2;
		} else {
			bytes.push(...Buffer.from(soft[i], "utf8"));
		}
	}
	return Buffer.from(bytes).toString("utf8");
}

/** RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=), as nodemailer writes non-ASCII headers. */
function decodeWords(value: string): string {
	return value.replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=\s*/gi, (_m, _charset: string, enc: string, data: string) =>
		enc.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : decodeQuotedPrintable(data.replace(/_/g, " "))
	);
}
