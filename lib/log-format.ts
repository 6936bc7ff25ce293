import { Loggers } from "moleculer";
import { traceContext } from "./events";

/** What Moleculer's Console logger tells a formatter about the logging module. */
interface LogBindings {
	nodeID?: string;
	ns?: string;
	mod?: string;
	svc?: string;
}

/**
 * LOG_FORMAT=json: one JSON object per line with time, level, node, service (or module), message, and the
 * request id and trace id of the call or event being handled when there is one (the request id is the
 * trace id: the X-Request-Id the gateway answered). Objects and errors in the message are printed without
 * colour, on one line.
 */
export function jsonLogFormatter(type: string, args: unknown[], bindings: LogBindings, { printArgs }: { printArgs: (args: unknown[]) => string[] }): string[] {
	const trace = traceContext();
	const entry = {
		time: new Date().toISOString(),
		level: type,
		node: bindings.nodeID,
		service: bindings.svc ?? bindings.mod,
		message: printArgs(args).join(" "),
		...(trace ? { requestId: trace.traceId, traceId: trace.traceId, spanId: trace.spanId } : {})
	};
	return [JSON.stringify(entry)];
}

/** Moleculer's own modules: at LOG_LEVEL=info their start-up report (versions, strategies, every registration) is noise. */
const FRAMEWORK_MODULES = new Set(["BROKER", "REGISTRY", "METRICS", "TRANSIT", "TRANSPORTER", "DISCOVERY", "CACHER", "TRACER"]);

/** The lifecycle lines every service logs on every start and stop (Moleculer's and moleculer-web's). */
const ROUTINE_LINES = [
	/^Service '[^']+' (started|stopped)\.$/,
	/^'[^']+' service is registered\.$/,
	/^Waiting for service\(s\) /,
	/^Service\(s\) .* are available\.$/,
	/^API Gateway (server created\.|listening on |stopped!)/
];

/** Whether an info line is routine start-up chatter rather than something a person reading the log needs. */
export function isRoutineInfo(mod: string | undefined, args: unknown[]): boolean {
	if (mod && FRAMEWORK_MODULES.has(mod.toUpperCase())) return true;
	const first = args[0];
	return typeof first === "string" && ROUTINE_LINES.some(re => re.test(first));
}

/**
 * The Console logger of LOG_FORMAT=text: at info, Moleculer's routine start-up and shutdown lines become
 * debug lines, so `npm start` shows what the shop says (listening addresses, migrations, warnings, the ready
 * banner) rather than a hundred lines of framework report. LOG_LEVEL=debug shows everything. Warnings and
 * errors of every module always show. The shop's own lines come from loggers of other modules.
 */
export class QuietConsoleLogger extends Loggers.Console {
	override getLogHandler(bindings: Parameters<Loggers.Console["getLogHandler"]>[0]) {
		const handler = super.getLogHandler(bindings) as ((type: string, args: unknown[]) => void) | null;
		if (!handler) return null;
		return (type: string, args: unknown[]) => handler(type === "info" && isRoutineInfo(bindings.mod, args) ? "debug" : type, args);
	}
}
