import { expect } from "chai";
import { Errors } from "moleculer";
import { InvalidInputError, NotFoundError, TooManyRequestsError } from "../../../lib/errors";
import { toErrorBody } from "../../../services/gateway/gateway.service";

/** What body-parser throws: a plain Error with `type`, `status` and `statusCode`. */
function bodyParserError(type: string, status: number, message: string): Error {
	return Object.assign(new Error(message), { type, status, statusCode: status, expose: true });
}

describe("toErrorBody", () => {
	it("answers 400 INVALID_JSON for a body that is not JSON", () => {
		const body = toErrorBody(bodyParserError("entity.parse.failed", 400, "Unexpected token } in JSON at position 12"));
		expect(body.code).to.equal(400);
		expect(body.type).to.equal("INVALID_JSON");
		expect(body.message).to.not.include("position");
	});

	it("answers 413 PAYLOAD_TOO_LARGE for an oversized body", () => {
		const body = toErrorBody(bodyParserError("entity.too.large", 413, "request entity too large"));
		expect(body.code).to.equal(413);
		expect(body.type).to.equal("PAYLOAD_TOO_LARGE");
	});

	it("keeps code, type, message and data of a client error", () => {
		const err = new Errors.MoleculerClientError("An account with this e-mail already exists", 409, "EMAIL_TAKEN", { email: "ana@example.com" });
		const body = toErrorBody(err);
		expect(body).to.include({ code: 409, type: "EMAIL_TAKEN", message: "An account with this e-mail already exists" });
		expect(body.data).to.deep.equal({ email: "ana@example.com" });
	});

	it("keeps our own typed errors as they are", () => {
		expect(toErrorBody(new NotFoundError("Product", "p-1"))).to.deep.include({ code: 404, type: "NOT_FOUND", data: { entity: "Product", id: "p-1" } });
		expect(toErrorBody(new TooManyRequestsError("slow down", 30))).to.deep.include({ code: 429, type: "TOO_MANY_REQUESTS", data: { retryAfter: 30 } });
	});

	it("shows a validation problem's field, message and type but not the value sent or internal names", () => {
		const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
			{
				type: "stringMin",
				field: "password",
				message: "The 'password' field length must be greater than or equal to 8 characters long.",
				expected: 8,
				actual: "hunter2",
				nodeID: "node-secret-host",
				action: "identity.register"
			}
		]);
		const body = toErrorBody(err);
		expect(body.code).to.equal(422);
		expect(body.type).to.equal("VALIDATION_ERROR");
		expect(body.data).to.deep.equal([
			{ field: "password", message: "The 'password' field length must be greater than or equal to 8 characters long.", type: "stringMin" }
		]);
		const json = JSON.stringify(body);
		expect(json).to.not.include("hunter2");
		expect(json).to.not.include("node-secret-host");
	});

	it("shows our own InvalidInputError problems unchanged", () => {
		const body = toErrorBody(new InvalidInputError([{ field: "phone", message: "bad phone", type: "stringPattern" }]));
		expect(body.code).to.equal(422);
		expect(body.data).to.deep.equal([{ field: "phone", message: "bad phone", type: "stringPattern" }]);
	});

	it("hides a real fault behind a generic 500", () => {
		const body = toErrorBody(new Error("db password is x"));
		expect(body.code).to.equal(500);
		expect(body.type).to.equal("INTERNAL_ERROR");
		expect(JSON.stringify(body)).to.not.include("db password is x");
		expect(body.message).to.not.include("password");
	});

	it("hides a 500 MoleculerError's message and data too", () => {
		const err = new Errors.MoleculerError("connect ECONNREFUSED 10.0.0.5:5432", 500, "DB_DOWN", { host: "10.0.0.5" });
		const body = toErrorBody(err);
		expect(body.code).to.equal(500);
		expect(body.type).to.equal("INTERNAL_ERROR");
		expect(JSON.stringify(body)).to.not.include("10.0.0.5");
	});

	it("treats something that is not an error at all as a 500", () => {
		expect(toErrorBody(undefined)).to.include({ code: 500, type: "INTERNAL_ERROR" });
		expect(toErrorBody("boom")).to.include({ code: 500, type: "INTERNAL_ERROR" });
	});

	it("passes on that a call timed out as 504", () => {
		const body = toErrorBody(new Errors.RequestTimeoutError({ action: "catalog.list", nodeID: "n1" }));
		expect(body).to.include({ code: 504, type: "REQUEST_TIMEOUT" });
	});

	it("answers 503 when no instance of a needed service is running, without node names", () => {
		const body = toErrorBody(new Errors.ServiceNotAvailableError({ action: "identity.resolveToken", nodeID: "node-7" }));
		expect(body).to.include({ code: 503, type: "SERVICE_UNAVAILABLE" });
		expect(JSON.stringify(body)).not.to.contain("node-7");
	});

	it("passes on when to try again with a 503, and nothing else of its data", () => {
		const body = toErrorBody(new Errors.MoleculerError("Too many orders in flight", 503, "ORDERS_BUSY", { retryAfter: 2, inFlight: 1000 }));
		expect(body).to.deep.equal({ name: "MoleculerError", message: "Too many orders in flight", code: 503, type: "ORDERS_BUSY", data: { retryAfter: 2 } });
		const timeout = toErrorBody(new Errors.RequestTimeoutError({ action: "catalog.list", nodeID: "n1" }));
		expect(timeout).not.to.have.property("data");
	});

	it("answers a plain 404 for an action that exists but is not published, without node names", () => {
		const body = toErrorBody(new Errors.ServiceNotFoundError({ action: "identity.resolveToken", nodeID: "node-7" }));
		expect(body).to.include({ code: 404, type: "NOT_FOUND" });
		expect(JSON.stringify(body)).not.to.contain("node-7");
	});
});
