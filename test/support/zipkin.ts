import http from "node:http";
import type { AddressInfo } from "node:net";

/** A span as Zipkin v2 JSON has it (what Moleculer's Zipkin exporter POSTs). */
export interface ZipkinSpan {
	traceId: string;
	id: string;
	parentId?: string | null;
	name: string;
	localEndpoint: { serviceName: string | null };
	tags: Record<string, string>;
}

/** A stand-in for the Zipkin collector (the tracing backend cannot run here): it keeps what it is sent. */
export async function startCollector(): Promise<{ url: string; spans: ZipkinSpan[]; bodies: string[]; close(): Promise<void> }> {
	const spans: ZipkinSpan[] = [];
	const bodies: string[] = [];
	const server = http.createServer((req, res) => {
		let body = "";
		req.on("data", chunk => (body += chunk));
		req.on("end", () => {
			if (req.method === "POST" && req.url === "/api/v2/spans") {
				bodies.push(body);
				spans.push(...(JSON.parse(body) as ZipkinSpan[]));
				res.writeHead(202).end();
			} else res.writeHead(404).end();
		});
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		spans,
		bodies,
		close: () => new Promise<void>(resolve => server.close(() => resolve()))
	};
}
