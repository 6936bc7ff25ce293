import { expect } from "chai";
import type { Transaction } from "sequelize";
import { EVENT_CONTRACTS, EVENT_ROUTES, SUBSCRIPTIONS } from "../../app/services";
import { defineEvents, payloadProblems, redacted, routesFrom, subscriptions, type EventContract, type IncomingEnvelope } from "../../lib/events";
import type { Outbox } from "../../lib/outbox";
import { orderEvents } from "../../services/order/order.events";
import type { OrderEvents } from "../../services/order/order.types";
import { paymentEvents } from "../../services/payment/payment.events";

/**
 * The checkout saga as a typed contract. The first block is checked by the compiler (`tsc --noEmit`, run
 * by `npm test`): each `@ts-expect-error` line must fail to compile, or the build fails. It never runs.
 */
export function compileTimeChecks(outbox: Outbox<OrderEvents>, t: Transaction): void {
	const line = { productId: "p", quantity: 1 };
	void outbox.add(t, "order.created", { orderId: "o", userId: "u", items: [line], totalCents: 1, currency: "EUR" });
	// @ts-expect-error a misnamed event
	void outbox.add(t, "order.creatd", { orderId: "o", userId: "u", items: [line], totalCents: 1, currency: "EUR" });
	// @ts-expect-error another domain's event: the order service does not write it
	void outbox.add(t, "payment.succeeded", { paymentId: "p", orderId: "o", userId: "u", amountCents: 1, currency: "EUR" });
	// @ts-expect-error a payload missing a field (currency)
	void outbox.add(t, "order.created", { orderId: "o", userId: "u", items: [line], totalCents: 1 });
	// @ts-expect-error a field of the wrong type
	void outbox.add(t, "order.paymentRequested", { orderId: "o", userId: "u", amountCents: "1", currency: "EUR", paymentToken: "tok" });

	subscriptions<{ charged: string[] }>("test").on(paymentEvents, {
		async "payment.succeeded"(event) {
			// handlers get the payload's type, and `this` is the service
			this.charged.push(event.data.orderId);
			// @ts-expect-error a field the payload does not have
			void event.data.paymentToken;
		}
	});
	subscriptions("test").on(paymentEvents, {
		// @ts-expect-error subscribing to an event the contract does not have
		async "payment.succeded"() {}
	});

	defineEvents<{ "x.happened": { id: string; n: number } }>("x", {
		"x.happened": {
			summary: "x",
			// @ts-expect-error the correlation id must be a string field
			correlateBy: "n",
			schema: { type: "object", properties: { id: {}, n: {} }, required: ["id", "n"] }
		}
	});
	defineEvents<{ "x.happened": { id: string; n: number } }>("x", {
		"x.happened": {
			summary: "x",
			correlateBy: "id",
			// @ts-expect-error every field of the payload needs a schema (n has none)
			schema: { type: "object", properties: { id: {} }, required: ["id"] }
		}
	});
}

describe("the event contract", () => {
	it("derives who must receive each event from the subscriptions", () => {
		expect(EVENT_ROUTES["order.created"]).to.have.members(["inventory", "cart"]);
		expect(EVENT_ROUTES["order.cancelled"]).to.have.members(["inventory", "payment", "notification"]);
		expect(EVENT_ROUTES["order.paymentRequested"]).to.deep.equal(["payment"]);
		expect(EVENT_ROUTES["inventory.reserved"]).to.deep.equal(["order"]);
		expect(EVENT_ROUTES["identity.passwordResetRequested"]).to.deep.equal(["notification"]);
		expect(routesFrom([subscriptions("a").on(orderEvents, { "order.created": async () => {} })])).to.deep.equal({ "order.created": ["a"] });
	});

	it("has every subscribed event declared by some producer, and every declared event consumed", () => {
		const declared = EVENT_CONTRACTS.flatMap(c => Object.keys(c.events));
		const subscribed = SUBSCRIPTIONS.flatMap(s => s.events);
		expect(subscribed.filter(e => !declared.includes(e))).to.deep.equal([]);
		expect(declared.filter(e => !subscribed.includes(e))).to.deep.equal([]);
	});

	it("refuses at start a subscription to an event its contract lacks (a cast cannot sneak one in)", () => {
		const sneaky = { "order.shipped": async () => {} } as unknown as Parameters<ReturnType<typeof subscriptions>["on"]>[1];
		expect(() => subscriptions("x").on(orderEvents as EventContract<unknown>, sneaky)).to.throw("order has no event order.shipped");
	});

	it("validates payloads against the declared schema, naming fields and never values", () => {
		const good = { orderId: "6f1c2b9e-3d4a-4e5f-8a7b-1c2d3e4f5a6b", expiresAt: "2026-12-05T10:00:00.000Z" };
		const reserved = EVENT_CONTRACTS.find(c => c.producer === "inventory")!.events["inventory.reserved"];
		expect(payloadProblems(reserved, good)).to.deep.equal([]);
		expect(payloadProblems(reserved, { ...good, expiresAt: "tomorrow" })).to.deep.equal([
			"'expiresAt' must match pattern \"^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$\""
		]);
		expect(payloadProblems(reserved, { orderId: good.orderId })).to.deep.equal(["'expiresAt' is required"]);
	});

	it("redacts the secrets each event declares, and only those", () => {
		const secret = orderEvents.events["order.paymentRequested"].secrets;
		expect(secret).to.deep.equal(["paymentToken"]);
		const envelope: IncomingEnvelope = {
			id: "e",
			event: "order.paymentRequested",
			source: "order",
			occurredAt: "",
			data: { orderId: "o", paymentToken: "tok_visa" }
		};
		expect(redacted({ ...envelope, correlationId: "o" }, secret).data).to.deep.equal({ orderId: "o", paymentToken: "[redacted]" });
		expect(redacted({ ...envelope, correlationId: "o" }, orderEvents.events["order.created"].secrets).data).to.deep.include({ paymentToken: "tok_visa" });
	});
});
