import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { projectRoot } from "../../lib/paths";
import { pathTemplate, validateAgainstOpenApi, type OpenApiDoc } from "./openapi";

/**
 * Helpers for the page tests (storefront, admin) in a real headless Chromium (test/support/browser.ts).
 * Screenshots go to test-results/screenshots/ (not committed) for people to review.
 */

export const SCREENSHOT_DIR = path.join(projectRoot(), "test-results", "screenshots");

/** The widths the pages are tested at. */
export const VIEWPORTS = {
	phone: { width: 390, height: 844 },
	desktop: { width: 1280, height: 800 }
} as const;

/** Saves a full-page screenshot as `<name>.png` in SCREENSHOT_DIR; answers its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
	fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
	const file = path.join(SCREENSHOT_DIR, `${name}.png`);
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

export interface PageProblems {
	/**
	 * Console errors and uncaught exceptions (a CSP violation is a console error), and every answer of the API
	 * the page received that breaks the OpenAPI document ("OpenAPI: ...").
	 */
	errors: string[];
	/** Requests to any origin but `origin` (data: URLs aside). */
	foreign: string[];
}

const documents = new Map<string, Promise<OpenApiDoc>>();

/**
 * Starts collecting what should never happen on a page: errors, requests leaving `origin`, and answers of the
 * API that its OpenAPI document does not describe. The pages are held to the document as the HTTP tests are
 * (test/support/http.ts): every answer of a documented route they receive is checked, status and body.
 */
export function watchProblems(page: Page, origin: string): PageProblems {
	const found: PageProblems = { errors: [], foreign: [] };
	page.on("console", m => {
		if (m.type() === "error") found.errors.push(m.text());
	});
	page.on("pageerror", err => found.errors.push(err.message));
	page.on("request", r => {
		if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) found.foreign.push(r.url());
	});
	page.on("response", async res => {
		const url = new URL(res.url());
		if (!res.url().startsWith(origin) || !url.pathname.startsWith("/api/") || url.pathname === "/api/openapi.json" || url.pathname.startsWith("/api/docs"))
			return;
		let doc = documents.get(origin);
		if (!doc) {
			doc = fetch(`${origin}/api/openapi.json`).then(r => r.json() as Promise<OpenApiDoc>);
			documents.set(origin, doc);
		}
		const method = res.request().method();
		let text: string;
		try {
			text = await res.text();
		} catch {
			return; // the page went on before the body arrived: nothing to check
		}
		const openApi = await doc;
		const template = pathTemplate(openApi, url.pathname);
		if (!template || !openApi.paths[template][method.toLowerCase()]) return;
		let body: unknown = text;
		try {
			body = text ? JSON.parse(text) : undefined;
		} catch {
			// not JSON: checked as it came
		}
		try {
			validateAgainstOpenApi(openApi, method, url.pathname + url.search, res.status(), body);
		} catch (err) {
			found.errors.push(`OpenAPI: ${(err as Error).message}`);
		}
	});
	return found;
}

export interface AxeViolation {
	id: string;
	impact: string | null;
	help: string;
	/** CSS selectors of the offending elements. */
	targets: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core (WCAG 2 A and AA rules) on the page as it is now and answers the serious and critical
 * violations. The script is evaluated through the DevTools protocol, which the page's CSP does not govern.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
	axeSource ??= fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
	await page.evaluate(axeSource);
	// (a string: the tests are compiled without the DOM's types)
	const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
		.then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => String(n.target)) })))`)) as AxeViolation[];
	return violations.filter(v => v.impact === "serious" || v.impact === "critical");
}

/** One line per violation, for an assertion's message. */
export function describeViolations(violations: AxeViolation[]): string {
	return violations.map(v => `${v.id} (${v.impact}): ${v.help} at ${v.targets.join(", ")}`).join("\n");
}
