// @ts-check
/**
 * Small DOM helpers shared by the storefront and the admin. Elements are built with `h` from text and
 * properties, never from HTML strings: nothing the API answers (a product name, an error) can become markup.
 */

/**
 * An element: `h("a", { href: "/cart", class: "button" }, "Cart (", count, ")")`. Properties starting with
 * `on` are listeners; `class`, `for`, `aria-*`, `data-*` and anything else become attributes; children are
 * nodes, strings or numbers (false, null and undefined are skipped; arrays are flattened).
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(props ?? {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), /** @type {EventListener} */ (v));
		else if (k === "value" && "value" in el) /** @type {HTMLInputElement} */ (el).value = String(v);
		else el.setAttribute(k, v === true ? "" : String(v));
	}
	append(el, children);
	return el;
}

/** @param {Node} el @param {unknown[]} children */
function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

/** Replaces what `el` holds with `children`. @param {Element} el @param {...unknown} children */
export function render(el, ...children) {
	el.replaceChildren();
	append(el, children);
}

/** @type {Map<string, Intl.NumberFormat>} */
const moneyFormats = new Map();
/**
 * Integer minor units as money: `money(12990, "BRL")` is "R$ 129.90" (in the browser's language).
 * @param {number} cents
 * @param {string} currency ISO 4217
 */
export function money(cents, currency) {
	let f = moneyFormats.get(currency);
	if (!f) {
		f = new Intl.NumberFormat(undefined, { style: "currency", currency });
		moneyFormats.set(currency, f);
	}
	return f.format(cents / 100);
}

/** A date and time in the browser's language. @param {string} iso */
export function dateTime(iso) {
	return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * Says `message` to screen readers (and shows it in the page's status line, `#status`, when there is one).
 * @param {string} message
 */
export function announce(message) {
	const live = document.getElementById("live");
	if (live) {
		live.textContent = "";
		// a change the screen reader notices even when the same words come twice
		setTimeout(() => (live.textContent = message), 50);
	}
}

/** The form's fields as strings, trimmed (passwords kept as typed). @param {HTMLFormElement} form */
export function formValues(form) {
	/** @type {Record<string, string>} */
	const out = {};
	for (const [k, v] of new FormData(form)) {
		if (typeof v !== "string") continue;
		out[k] = k.toLowerCase().includes("password") ? v : v.trim();
	}
	return out;
}

/**
 * Shows an API error on a form: the message in the form's `.form-error` box (role=alert), and each field the
 * API named marked invalid with its own message under it.
 * @param {HTMLFormElement} form
 * @param {unknown} err an ApiError or any Error
 */
export function showFormError(form, err) {
	clearFormError(form);
	const message = err instanceof Error ? err.message : String(err);
	let box = form.querySelector(".form-error");
	if (!box) {
		box = h("p", { class: "form-error", role: "alert" });
		form.prepend(box);
	}
	box.textContent = message;
	const fields = /** @type {{ fields?: Record<string, string> }} */ (err).fields ?? {};
	for (const [name, text] of Object.entries(fields)) {
		const input = form.elements.namedItem(name.split(".")[0]);
		if (!(input instanceof HTMLElement)) continue;
		input.setAttribute("aria-invalid", "true");
		const id = `${input.id || name}-error`;
		input.setAttribute("aria-describedby", id);
		input.after(h("span", { class: "field-error", id }, text));
	}
}

/** @param {HTMLFormElement} form */
export function clearFormError(form) {
	form.querySelector(".form-error")?.remove();
	for (const el of form.querySelectorAll(".field-error")) el.remove();
	for (const el of form.querySelectorAll("[aria-invalid]")) {
		el.removeAttribute("aria-invalid");
		el.removeAttribute("aria-describedby");
	}
}

/**
 * Runs `action` for a submitted form: the submit button disabled meanwhile, the API's error shown on the form.
 * @param {HTMLFormElement} form
 * @param {(values: Record<string, string>) => Promise<void>} action
 */
export function onSubmit(form, action) {
	form.addEventListener("submit", async event => {
		event.preventDefault();
		const buttons = form.querySelectorAll("button[type=submit], button:not([type])");
		for (const b of buttons) b.setAttribute("disabled", "");
		form.setAttribute("aria-busy", "true");
		clearFormError(form);
		try {
			await action(formValues(form));
		} catch (err) {
			showFormError(form, err);
		} finally {
			for (const b of buttons) b.removeAttribute("disabled");
			form.removeAttribute("aria-busy");
		}
	});
}
