import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ServiceBroker } from "moleculer";
import type { HealthCheckable } from "./mixins/db.mixin";
import { renderMetrics } from "./metrics";

export type ServiceHealth = "up" | "down" | "starting" | "stopping";

const warmingUp = new WeakSet<ServiceBroker>();

/**
 * Marks a node as still preparing what it serves (the demo catalog being seeded at a development start):
 * meanwhile it is not ready, and its gateway answers 503 with Retry-After rather than a half-filled catalog.
 */
export function setWarmingUp(broker: ServiceBroker, on: boolean): void {
	if (on) warmingUp.add(broker);
	else warmingUp.delete(broker);
}

export function isWarmingUp(broker: ServiceBroker): boolean {
	return warmingUp.has(broker);
}

export interface Readiness {
	ready: boolean;
	nodeId: string;
	services: Record<string, ServiceHealth>;
}

/**
 * Whether this node can take work: its broker has started and is not stopping, and every local service
 * that owns data reaches its database. A node without such services is ready once started.
 */
export async function readiness(broker: ServiceBroker, stopping = false): Promise<Readiness> {
	const started = (broker as unknown as { started: boolean }).started;
	const services: Record<string, ServiceHealth> = {};
	await Promise.all(
		broker.services.map(async svc => {
			const check = (svc as Partial<HealthCheckable>).checkHealth;
			if (typeof check !== "function") return;
			services[svc.name] = stopping ? "stopping" : !started ? "starting" : (await check.call(svc).catch(() => false)) ? "up" : "down";
		})
	);
	// on a cluster, not before the other nodes know this one (AnnouncedMiddleware, lib/middlewares.ts)
	const announced = (broker as unknown as { $announced?: boolean }).$announced !== false;
	return {
		ready: started && announced && !stopping && !isWarmingUp(broker) && Object.values(services).every(s => s === "up"),
		nodeId: broker.nodeID,
		services
	};
}

export interface HealthServer {
	port: number;
	/** From now on /health/ready answers 503: the node is leaving (load balancers and orchestrators stop sending). */
	markStopping(): void;
	close(): Promise<void>;
}

/**
 * A tiny HTTP server for probes on nodes without the gateway (HEALTH_PORT): `GET /health/live` answers 200
 * while the process runs, `GET /health/ready` 200 or 503 with `{ status, nodeId, services }`, and
 * `GET /metrics` the node's metrics in Prometheus' text format (404 with METRICS=off). Operators keep this
 * port off the internet: it is for probes and Prometheus.
 */
export function startHealthServer(broker: ServiceBroker, port: number, host: string): Promise<HealthServer> {
	let stopping = false;
	const server = http.createServer((req, res) => {
		const send = (status: number, body: object) => {
			const payload = JSON.stringify(body);
			res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(payload) });
			res.end(payload);
		};
		if (req.method !== "GET") return send(405, { status: "method not allowed" });
		if (req.url === "/health/live") return send(200, { status: "ok", nodeId: broker.nodeID });
		if (req.url === "/metrics") {
			renderMetrics(broker).then(
				text => {
					if (text === undefined) return send(404, { status: "metrics are off (METRICS=off)" });
					res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
					res.end(text);
				},
				() => send(503, { status: "metrics unavailable" })
			);
			return;
		}
		if (req.url === "/health/ready") {
			readiness(broker, stopping).then(
				r => send(r.ready ? 200 : 503, { status: r.ready ? "ready" : "not ready", nodeId: r.nodeId, services: r.services }),
				() => send(503, { status: "not ready" })
			);
			return;
		}
		send(404, { status: "not found" });
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => {
			server.off("error", reject);
			resolve({
				port: (server.address() as AddressInfo).port,
				markStopping: () => (stopping = true),
				close: () => new Promise<void>(done => server.close(() => done()))
			});
		});
	});
}
