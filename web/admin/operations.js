// @ts-check
/** Operations: the dead letters of every service, and replaying them. */
import { api } from "../shared/api.js";
import { dateTime, h } from "../shared/ui.js";
import { actionButton, busy, can, nav, table } from "./kit.js";

/**
 * @typedef {{ id: string, service: string, eventId: string, event: string, payload: unknown, attempts: number, lastError: string | null, receivedAt: string }} DeadLetter
 * @typedef {import("./kit.js").View} View
 */

/** @param {DeadLetter} d @param {HTMLButtonElement} button */
function replay(d, button) {
	return busy(button, async () => {
		await api("POST", `/admin/dead-letters/${encodeURIComponent(d.id)}/replay`);
		nav.reload(`Replaying ${d.event} in ${d.service}: it is back in line to be handled.`);
	});
}

/** @returns {Promise<View>} */
export async function deadLettersView() {
	const { items } = /** @type {{ items: DeadLetter[] }} */ (await api("GET", "/admin/dead-letters"));
	const rows = items.map(d => [
		h("strong", null, d.service),
		h("code", null, d.event),
		String(d.attempts),
		d.lastError ?? "",
		dateTime(d.receivedAt),
		h("details", null, h("summary", null, "Envelope"), h("pre", { class: "payload" }, JSON.stringify(d.payload, null, 2))),
		can("deadletter.update")
			? actionButton("Replay", `${d.event} in ${d.service}`, e => replay(d, /** @type {HTMLButtonElement} */ (e.currentTarget)))
			: null
	]);
	return {
		title: "Dead letters",
		content: [
			h(
				"p",
				{ class: "muted" },
				"Events a service received but could not handle after every attempt. Fix the cause, then replay: the event gets a fresh set of attempts."
			),
			h("p", null, h("a", { href: "/admin/dead-letters", class: "button secondary" }, "Refresh")),
			table(
				"Dead letters",
				["Service", "Event", "Attempts", "Last error", "Received", "Envelope", "Actions"],
				rows,
				"No dead letters: every event was handled."
			)
		]
	};
}
