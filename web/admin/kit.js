// @ts-check
/**
 * What every admin screen shares: who is signed in and what they may do, moving between screens, and the
 * building blocks of a screen (fields, tables, pages of a listing, a confirmation dialog, errors in words).
 */
import { ApiError } from "../shared/api.js";
import { announce, h } from "../shared/ui.js";

/**
 * @typedef {{ id: string, email: string, name: string, role: string, permissions: string[] }} Staff
 * @typedef {{ params: string[], query: URLSearchParams }} RouteContext
 * @typedef {{ title: string, content: unknown[] }} View
 */

/** The signed-in user (set by app.js before any screen renders). */
export const session = { user: /** @type {Staff | null} */ (null) };

/** True when the signed-in user's role holds any of `names`. @param {...string} names */
export function can(...names) {
	const held = session.user?.permissions ?? [];
	return names.some(n => held.includes(n));
}

/** The router's hooks, set by app.js: shows a path (pushing it to the history) or the current one again. */
export const nav = {
	/** @type {(path: string, flash?: string) => void} */
	go: () => undefined,
	/** @type {(flash?: string) => void} */
	reload: () => undefined
};

let ids = 0;
/** A fresh element id. @param {string} [prefix] */
export function uid(prefix = "f") {
	return `${prefix}-${++ids}`;
}

/**
 * A labelled field: `field("Name", input, "hint")`. The input gets an id when it has none; a hint is tied to
 * it with aria-describedby.
 * @param {string} label
 * @param {HTMLElement} input
 * @param {string} [hint]
 */
export function field(label, input, hint) {
	if (!input.id) input.id = uid();
	const hintEl = hint ? h("span", { class: "hint", id: `${input.id}-hint` }, hint) : undefined;
	if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
	return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hintEl);
}

/**
 * A table that scrolls sideways on a narrow screen, focusable so the keyboard can scroll it too.
 * @param {string} caption what the table lists (read by screen readers, not shown)
 * @param {string[]} headers
 * @param {unknown[][]} rows cells (nodes or text)
 * @param {string} [empty] shown instead of an empty table
 */
export function table(caption, headers, rows, empty = "Nothing to show.") {
	if (rows.length === 0) return h("p", { class: "muted empty" }, empty);
	const id = uid("t");
	return h(
		"div",
		{ class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": id },
		h(
			"table",
			null,
			h("caption", { id, class: "visually-hidden" }, caption),
			h(
				"thead",
				null,
				h(
					"tr",
					null,
					headers.map(t => h("th", { scope: "col" }, t))
				)
			),
			h(
				"tbody",
				null,
				rows.map(cells =>
					h(
						"tr",
						null,
						cells.map(c => h("td", null, c))
					)
				)
			)
		)
	);
}

/**
 * Links to the previous and next pages of a listing, keeping the rest of the query.
 * @param {{ page: number, pageSize: number, total: number }} page
 * @param {URLSearchParams} query
 */
export function pager(page, query) {
	const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
	if (pages <= 1) return h("p", { class: "muted" }, `${page.total} in all.`);
	/** @param {number} n */
	const href = n => {
		const q = new URLSearchParams(query);
		q.set("page", String(n));
		return `${location.pathname}?${q}`;
	};
	return h(
		"nav",
		{ class: "pager row", "aria-label": "Pages" },
		page.page > 1 ? h("a", { href: href(page.page - 1), class: "button secondary", rel: "prev" }, "Previous page") : null,
		h("span", null, `Page ${page.page} of ${pages} (${page.total} in all)`),
		page.page < pages ? h("a", { href: href(page.page + 1), class: "button secondary", rel: "next" }, "Next page") : null
	);
}

/** The page number a listing's query asks for. @param {URLSearchParams} query */
export function pageOf(query) {
	const n = Number(query.get("page"));
	return Number.isInteger(n) && n >= 1 ? n : 1;
}

/**
 * Asks before something that cannot be undone, in a modal <dialog>: answers true when the person confirms.
 * Focus starts on the safe choice; Escape cancels.
 * @param {{ title: string, body: string, confirm: string }} opts
 * @returns {Promise<boolean>}
 */
export function confirmAction({ title, body, confirm }) {
	return new Promise(resolve => {
		const titleId = uid("d");
		const bodyId = uid("d");
		/** @type {HTMLDialogElement} */
		const dialog = /** @type {HTMLDialogElement} */ (
			h(
				"dialog",
				{ class: "confirm", "aria-labelledby": titleId, "aria-describedby": bodyId },
				h("h2", { id: titleId }, title),
				h("p", { id: bodyId }, body),
				h(
					"div",
					{ class: "row" },
					h("button", { type: "button", class: "secondary", onclick: () => dialog.close("cancel") }, "Keep it"),
					h("button", { type: "button", class: "danger", onclick: () => dialog.close("confirm") }, confirm)
				)
			)
		);
		dialog.addEventListener("close", () => {
			dialog.remove();
			resolve(dialog.returnValue === "confirm");
		});
		document.body.append(dialog);
		dialog.showModal();
	});
}

/**
 * Shows an error in words in the screen's alert line (under its heading) and says it to screen readers.
 * @param {unknown} err
 */
export function showError(err) {
	const box = document.getElementById("view-alert");
	const message = describeError(err);
	if (box) {
		box.replaceChildren(h("p", { class: "notice-error", role: "alert" }, message));
	} else announce(message);
}

/** Words for a failure: the API's, or the error's own message. @param {unknown} err */
export function describeError(err) {
	if (err instanceof ApiError) return err.message;
	return err instanceof Error ? err.message : String(err);
}

/**
 * Runs a button's action: the button disabled meanwhile, an error shown in words.
 * @param {HTMLButtonElement} button
 * @param {() => Promise<void>} action
 */
export async function busy(button, action) {
	button.disabled = true;
	try {
		await action();
	} catch (err) {
		showError(err);
	} finally {
		button.disabled = false;
	}
}

/**
 * A button whose accessible name says what it acts on ("Archive Mug") while it shows the verb only.
 * @param {string} verb
 * @param {string} target
 * @param {(event: Event) => void} onclick
 * @param {string} [cls]
 */
export function actionButton(verb, target, onclick, cls = "secondary small") {
	return h("button", { type: "button", class: cls, onclick }, verb, h("span", { class: "visually-hidden" }, ` ${target}`));
}

/** A link that shows the verb and names its target for screen readers. @param {string} href @param {string} verb @param {string} target */
export function actionLink(href, verb, target) {
	return h("a", { href, class: "button secondary small" }, verb, h("span", { class: "visually-hidden" }, ` ${target}`));
}

/** The first 8 characters of a UUID, as people quote them. @param {string} id */
export function shortId(id) {
	return id.slice(0, 8);
}

/** A status badge (base.css colours it by status). @param {string | null | undefined} status */
export function badge(status) {
	return status ? h("span", { class: `badge ${status}` }, status.replaceAll("_", " ").toLowerCase()) : h("span", { class: "muted" }, "none");
}

/** A definition list of label → value pairs. @param {[string, unknown][]} pairs */
export function facts(pairs) {
	return h(
		"dl",
		{ class: "facts" },
		pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])
	);
}

/**
 * Money typed by a person ("12.50", "12,5", "12") as integer cents, or an ApiError naming the field.
 * @param {string} text
 * @param {string} fieldName
 */
export function parseCents(text, fieldName) {
	const m = /^(\d{1,8})(?:[.,](\d{1,2}))?$/.exec(text.trim());
	if (!m) {
		throw new ApiError(422, {
			type: "VALIDATION_ERROR",
			data: [{ field: fieldName, message: "Enter the price as a number, like 12.50." }]
		});
	}
	return Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
}
