import crypto from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";

/**
 * The API reference the gateway serves: the OpenAPI document at /api/openapi.json and Swagger UI at
 * /api/docs, its files read from the swagger-ui-dist package (nothing from a CDN). Both public and
 * cacheable: they are the same for everyone and hold nothing secret.
 */

/** The reference page's policy: its own scripts and styles only (Swagger UI sets inline styles), calls to this origin only. */
export const DOCS_CSP =
	"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Momentum API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body>
</html>
`;

// validatorUrl: null, or Swagger UI would send the document to an outside validator for its badge
const INIT_JS = `window.ui = SwaggerUIBundle({
	url: "/api/openapi.json",
	dom_id: "#swagger-ui",
	deepLinking: true,
	validatorUrl: null,
	presets: [SwaggerUIBundle.presets.apis],
	layout: "BaseLayout"
});
`;

/** The files of swagger-ui-dist the page loads, and their types; nothing else of the package is served. */
const ASSETS: Record<string, string> = {
	"swagger-ui.css": "text/css; charset=utf-8",
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"favicon-32x32.png": "image/png"
};

interface Asset {
	body: Buffer;
	type: string;
	etag: string;
}

function asset(body: Buffer | string, type: string): Asset {
	const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
	return { body: buf, type, etag: `"${crypto.createHash("sha256").update(buf).digest("base64url").slice(0, 27)}"` };
}

/** Where swagger-ui-dist is installed. */
function swaggerUiDir(): string {
	return path.dirname(require.resolve("swagger-ui-dist/package.json"));
}

export interface ApiReference {
	/** GET /api/openapi.json */
	document(req: IncomingMessage, res: ServerResponse): void;
	/** GET /api/docs */
	page(req: IncomingMessage, res: ServerResponse): void;
	/** GET /api/docs/:file; false when there is no such file (the caller answers 404). */
	file(req: IncomingMessage, res: ServerResponse, name: string): boolean;
}

/** Serves `openApi` and the page; the package's files are read on first use and then kept. */
export function apiReference(openApi: unknown): ApiReference {
	const doc = asset(JSON.stringify(openApi), "application/json; charset=utf-8");
	const page = asset(DOCS_HTML, "text/html; charset=utf-8");
	const files = new Map<string, Asset>([["init.js", asset(INIT_JS, "text/javascript; charset=utf-8")]]);
	const send = (req: IncomingMessage, res: ServerResponse, a: Asset, maxAge: number) => {
		// answers to a request carrying a token stay out of caches (securityHeaders); the rest may be kept a while
		if (req.headers.authorization === undefined) res.setHeader("Cache-Control", `public, max-age=${maxAge}`);
		res.setHeader("ETag", a.etag);
		if (req.headers["if-none-match"] === a.etag) {
			res.writeHead(304);
			res.end();
			return;
		}
		res.writeHead(200, { "Content-Type": a.type, "Content-Length": a.body.length });
		res.end(req.method === "HEAD" ? undefined : a.body);
	};
	return {
		document: (req, res) => send(req, res, doc, 300),
		page(req, res) {
			res.setHeader("Content-Security-Policy", DOCS_CSP);
			send(req, res, page, 300);
		},
		file(req, res, name) {
			let a = files.get(name);
			if (!a) {
				const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
				if (!type) return false;
				a = asset(fs.readFileSync(path.join(swaggerUiDir(), name)), type);
				files.set(name, a);
			}
			send(req, res, a, 3600);
			return true;
		}
	};
}
