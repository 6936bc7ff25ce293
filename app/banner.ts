/** What a node prints once it is ready: where to reach it and how to sign in as the admin. */

export interface ReadyInfo {
	env: "development" | "production" | "test";
	services: number;
	/** The REST gateway's base, e.g. http://127.0.0.1:3000 (this node runs the gateway). */
	apiBase?: string;
	/** Whether this node runs catalog: then `/api/products` answers 200 here. */
	catalog: boolean;
	/** The gateway serves the storefront at `/` and the admin at `/admin` (PAGES). */
	pages: boolean;
	/** The gateway serves the API reference (/api/docs). */
	reference: boolean;
	/** http://127.0.0.1:3001 when the node serves /health and /metrics. */
	healthBase?: string;
	metrics: boolean;
	/** host:port of identity's gRPC when this node runs it. */
	grpc?: { address: string; tls: boolean };
	/** ADMIN_EMAIL, when set (never the password). */
	adminEmail?: string;
	/** The REPL is open on this node. */
	repl: boolean;
}

export const READY_LINE = "Momentum is ready";

/** The banner's lines (no colours: it goes to logs as well as terminals). */
export function readyBanner(r: ReadyInfo): string[] {
	const lines = [`${READY_LINE} (${r.env}, ${r.services} service(s))`];
	const row = (label: string, text: string) => lines.push(`  ${label.padEnd(12)}${text}`);
	if (r.apiBase && r.pages) {
		row("Storefront", `${r.apiBase}/`);
		row("Admin", `${r.apiBase}/admin`);
	}
	if (r.apiBase) {
		row("REST API", r.catalog ? `${r.apiBase}/api/products   (every route: README "HTTP API")` : `${r.apiBase}/api   (README "HTTP API")`);
		if (r.reference) row("API docs", `${r.apiBase}/api/docs   (OpenAPI: ${r.apiBase}/api/openapi.json)`);
	}
	if (r.healthBase) row("Health", `${r.healthBase}/health/ready${r.metrics ? `   metrics: ${r.healthBase}/metrics` : ""}`);
	if (r.grpc) row("gRPC", `${r.grpc.address}   momentum.identity.v1.IdentityService${r.grpc.tls ? " (TLS)" : " (plaintext)"}`);
	if (r.apiBase) {
		const login = `POST ${r.apiBase}/api/auth/login`;
		const where = r.pages ? `sign in at ${r.apiBase}/admin, or ${login}` : login;
		if (r.adminEmail) row("Sign in", `${where} as ${r.adminEmail} with ADMIN_PASSWORD`);
		else if (r.env !== "production")
			row("Sign in", `no admin configured: put ADMIN_EMAIL=you@example.com and ADMIN_PASSWORD=<8+ characters> in .env and restart, then ${where}`);
	}
	if (!r.repl && r.env !== "production") row("REPL", "npm run repl (stop this node first, or give the REPL its own PORT and IDENTITY_GRPC_PORT)");
	return lines;
}
