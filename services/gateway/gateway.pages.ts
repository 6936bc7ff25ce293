import crypto from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import zlib from "node:zlib";
import { projectRoot } from "../../lib/paths";

/**
 * The shop's pages, served by the gateway from the repository's `web/` folder: the storefront at `/` (and
 * its client-side routes), the admin at `/admin`, their files at `/assets/<folder>/<file>`. Plain HTML, CSS
 * and ES modules: no build step, no framework, nothing from another origin. The pages use the public REST
 * API like any other client; serving them needs no service but the gateway.
 */

/**
 * The pages' policy: their own scripts and styles only, calls to this origin only. Product images may live
 * on an https CDN (a product's `imageUrl`), so images may come from any https origin.
 */
export const PAGES_CSP =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'";

/** The storefront's client-side routes: each answers the storefront's page, which shows what the path names. */
export const STOREFRONT_ROUTES =
	/^\/(?:|products|products\/[^/]+|cart|checkout|orders|orders\/[^/]+|account|notifications|login|register|verify-email|forgot-password|reset-password)\/?$/;
/** The admin's: `/admin` and anything under it. */
export const ADMIN_ROUTES = /^\/admin(?:\/[^.]*)?$/;
/** An asset: a folder of web/ and a file in it (or below), lower-case names, no `..`, a known type. */
const ASSET = /^\/assets\/((?:shared|storefront|admin)(?:\/[a-z0-9][a-z0-9_-]*)*\/[a-z0-9][a-z0-9._-]*\.(js|css|svg|png|ico|webmanifest|json))$/;

const TYPES: Record<string, string> = {
	html: "text/html; charset=utf-8",
	js: "text/javascript; charset=utf-8",
	css: "text/css; charset=utf-8",
	svg: "image/svg+xml",
	png: "image/png",
	ico: "image/x-icon",
	webmanifest: "application/manifest+json",
	json: "application/json; charset=utf-8"
};

interface File {
	body: Buffer;
	/** The body gzipped, when that saves anything worth it. */
	gzip?: Buffer;
	type: string;
	etag: string;
}

function load(file: string, ext: string): File | undefined {
	let body: Buffer;
	try {
		body = fs.readFileSync(file);
	} catch {
		return undefined;
	}
	const gzip = body.length > 1024 ? zlib.gzipSync(body, { level: 9 }) : undefined;
	return {
		body,
		gzip: gzip && gzip.length < body.length * 0.9 ? gzip : undefined,
		type: TYPES[ext],
		etag: `"${crypto.createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`
	};
}

export interface Pages {
	/** Answers a GET or HEAD for a page or asset; false when the path is none of them (the caller goes on). */
	serve(req: IncomingMessage, res: ServerResponse, path: string): boolean;
	/** The metrics label of a page path ("/", "/admin", "/assets/*"), or undefined. */
	label(path: string): string | undefined;
	/** How many files are kept in memory: at most the files under `root` (a path that names none is not kept). */
	kept(): number;
}

/**
 * Serves `root` (web/). With `fresh`, files are read on every request (development: edit a page and
 * reload); otherwise once, then kept with their gzipped form.
 */
export function pages(root: string = path.join(projectRoot(), "web"), fresh = false): Pages {
	// only files found: a miss kept by its path would let anyone grow the map by asking for made-up names
	const cache = new Map<string, File>();
	const file = (rel: string, ext: string): File | undefined => {
		const kept = fresh ? undefined : cache.get(rel);
		if (kept) return kept;
		const f = load(path.join(root, rel), ext);
		if (f && !fresh) cache.set(rel, f);
		return f;
	};
	const resolve = (p: string): { rel: string; ext: string; page: boolean } | undefined => {
		if (STOREFRONT_ROUTES.test(p)) return { rel: "storefront/index.html", ext: "html", page: true };
		if (ADMIN_ROUTES.test(p)) return { rel: "admin/index.html", ext: "html", page: true };
		const m = ASSET.exec(p);
		return m ? { rel: m[1], ext: m[2], page: false } : undefined;
	};
	return {
		serve(req, res, p) {
			if (req.method !== "GET" && req.method !== "HEAD") return false;
			const target = resolve(p);
			if (!target) return false;
			const f = file(target.rel, target.ext);
			if (!f) return false;
			if (target.page) res.setHeader("Content-Security-Policy", PAGES_CSP);
			// always revalidated (cheap, with the ETag): a new release's pages are seen on the next load
			res.setHeader("Cache-Control", "no-cache");
			res.setHeader("ETag", f.etag);
			res.setHeader("Vary", "Accept-Encoding");
			if (req.headers["if-none-match"] === f.etag) {
				res.writeHead(304);
				res.end();
				return true;
			}
			const gzip = f.gzip && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? "")) ? f.gzip : undefined;
			const body = gzip ?? f.body;
			res.writeHead(200, { "Content-Type": f.type, "Content-Length": body.length, ...(gzip ? { "Content-Encoding": "gzip" } : {}) });
			res.end(req.method === "HEAD" ? undefined : body);
			return true;
		},
		label(p) {
			if (STOREFRONT_ROUTES.test(p)) return "/";
			if (ADMIN_ROUTES.test(p)) return "/admin";
			return ASSET.test(p) ? "/assets/*" : undefined;
		},
		kept: () => cache.size
	};
}
