import fs from "node:fs";
import http from "node:http";

/**
 * Baseline for the catalog reads: a bare Node `http` server that answers the same JSON bodies the shop
 * answers (captured from it before the run), serialising the object on every request as a minimal JSON
 * handler would. `GET /api/products/<id>` answers the product body, any other path the listing body.
 *
 * Usage: node bare-http.ts <port> <bodies.json>   (bodies.json: { "list": {...}, "product": {...} })
 */
const [port, file] = process.argv.slice(2);
const bodies = JSON.parse(fs.readFileSync(file, "utf8")) as { list: unknown; product: unknown };

const server = http.createServer((req, res) => {
	const body = JSON.stringify(req.url?.startsWith("/api/products/") ? bodies.product : bodies.list);
	res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(port), "127.0.0.1", () => console.log(`listening on ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
