import { expect } from "chai";
import { readyBanner, READY_LINE, type ReadyInfo } from "../../app/banner";
import { isRoutineInfo } from "../../lib/log-format";

const node: ReadyInfo = {
	env: "development",
	services: 8,
	apiBase: "http://127.0.0.1:3000",
	catalog: true,
	pages: true,
	reference: true,
	healthBase: "http://127.0.0.1:3001",
	metrics: true,
	grpc: { address: "127.0.0.1:50051", tls: false },
	repl: false
};

describe("the ready banner", () => {
	it("names the storefront, the admin, a REST URL, the API docs, the health port, gRPC and how to sign in as the admin", () => {
		const text = readyBanner({ ...node, adminEmail: "boss@example.com" }).join("\n");
		expect(text.startsWith(READY_LINE)).to.equal(true);
		expect(text).to.match(/Storefront +http:\/\/127\.0\.0\.1:3000\/\n/);
		expect(text).to.match(/Admin +http:\/\/127\.0\.0\.1:3000\/admin\n/);
		expect(text).to.contain("http://127.0.0.1:3000/api/docs");
		expect(text).to.contain("http://127.0.0.1:3000/api/products");
		expect(text).to.contain("http://127.0.0.1:3001/health/ready");
		expect(text).to.contain("127.0.0.1:50051");
		expect(text).to.contain("as boss@example.com with ADMIN_PASSWORD");
	});

	it("tells a development user without an admin how to get one; production gets no such hint", () => {
		expect(readyBanner(node).join("\n")).to.match(/ADMIN_EMAIL=.*ADMIN_PASSWORD=/);
		const production = readyBanner({ ...node, env: "production" }).join("\n");
		expect(production).to.not.contain("ADMIN_");
		expect(production).to.not.contain("npm run repl");
	});

	it("points at /api when this node runs no catalog, and leaves out what the node does not run", () => {
		const text = readyBanner({ ...node, catalog: false, pages: false, grpc: undefined, healthBase: undefined }).join("\n");
		expect(text).to.not.match(/Storefront|\/admin/);
		expect(text).to.contain("http://127.0.0.1:3000/api ");
		expect(text).to.not.contain("products");
		expect(text).to.not.match(/gRPC|Health/);
	});
});

describe("the quiet text log", () => {
	it("leaves Moleculer's routine start-up lines for LOG_LEVEL=debug, and keeps the shop's", () => {
		expect(isRoutineInfo("broker", ["Moleculer v0.15.2 is starting..."])).to.equal(true);
		expect(isRoutineInfo("registry", ["'catalog' service is registered."])).to.equal(true);
		expect(isRoutineInfo("catalog", ["Service 'catalog' started."])).to.equal(true);
		expect(isRoutineInfo("gateway", ["API Gateway listening on http://127.0.0.1:3000"])).to.equal(true);
		expect(isRoutineInfo("gateway", ["REST gateway listening on http://127.0.0.1:3000/api"])).to.equal(false);
		expect(isRoutineInfo("momentum", ["SIGTERM received: finishing the work in flight, then stopping"])).to.equal(false);
		expect(isRoutineInfo("catalog", ['Schema "catalog": applied 0001-products'])).to.equal(false);
	});
});
