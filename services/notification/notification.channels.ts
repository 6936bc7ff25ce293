import nodemailer from "nodemailer";
import twilio from "twilio";
import type { NotificationConfig, TwilioConfig } from "../../app/config";

/** The ways out of the shop: e-mail and SMS, each behind a small interface the service depends on. */

export interface OutgoingEmail {
	to: string;
	subject: string;
	text: string;
	html: string;
	/** Values in the text never to be written to a log (a link's token): the log transport hides them. */
	secrets?: string[];
}

export interface Mailer {
	/** Resolves once the message was accepted for delivery; rejects with the reason otherwise. */
	send(mail: OutgoingEmail): Promise<void>;
	close(): void;
}

export interface OutgoingSms {
	to: string;
	body: string;
}

export interface SmsSender {
	/** Resolves once the provider accepted the message; rejects with the reason otherwise. */
	send(sms: OutgoingSms): Promise<void>;
}

/**
 * The HTTP layer of the twilio client: what `twilio(sid, token, { httpClient })` calls. The library only
 * ever calls `request`, so tests can hand in a stand-in and see the request it would send.
 */
export type TwilioHttpClient = Pick<twilio.RequestClient, "request">;

/** The SMTP server named by the URL, with credentials hidden, for the logs. */
export function describeSmtpUrl(url: string): string {
	const u = new URL(url);
	return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ""}`;
}

/**
 * Over SMTP when `smtpUrl` is set; otherwise nodemailer's JSON transport, which delivers nothing and hands
 * the message to `log`, so a development shop shows what it would have sent.
 */
export function createMailer(config: Pick<NotificationConfig, "smtpUrl" | "mailFrom">, log: (msg: string) => void): Mailer {
	if (config.smtpUrl) {
		const transport = nodemailer.createTransport(
			{ url: config.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 },
			{ from: config.mailFrom }
		);
		return {
			async send({ secrets: _secrets, ...mail }) {
				await transport.sendMail(mail);
			},
			close: () => transport.close()
		};
	}
	const transport = nodemailer.createTransport({ jsonTransport: true }, { from: config.mailFrom });
	return {
		async send(mail) {
			const { secrets = [], ...message } = mail;
			const info = await transport.sendMail(message);
			const logged = JSON.parse(info.message) as { subject?: string; text?: string };
			// tokens are never logged: a link shows up with its token hidden
			const text = secrets.reduce((t, secret) => t.split(secret).join("[hidden]"), logged.text ?? "");
			log(`E-mail (not sent: SMTP_URL is unset) to ${mail.to}: ${logged.subject}\n${text}`);
		},
		close: () => transport.close()
	};
}

/** SMS through Twilio's Messages API. `httpClient` replaces the library's own HTTP layer (tests). */
export function createSmsSender(config: TwilioConfig, httpClient?: TwilioHttpClient): SmsSender {
	// the library calls nothing but `request` on it (see BaseTwilio.request)
	const client = twilio(config.accountSid, config.authToken, { httpClient: httpClient as twilio.RequestClient | undefined });
	return {
		async send(sms) {
			await client.messages.create({ to: sms.to, from: config.from, body: sms.body });
		}
	};
}
