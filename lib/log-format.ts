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
