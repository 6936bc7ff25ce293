import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

/**
 * A real headless Chromium for the page tests: Debian's `chromium` package (`.ci/run` installs it), driven by
 * playwright-core; no browser is ever downloaded. CHROMIUM_PATH overrides where it is.
 */
export function chromiumPath(): string | undefined {
	const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
	return candidates.find((p): p is string => !!p && fs.existsSync(p));
}

export async function launchBrowser(): Promise<Browser> {
	const executablePath = chromiumPath();
	if (!executablePath) throw new Error("No Chromium found: install Debian's chromium package or set CHROMIUM_PATH");
	// the sandbox needs user namespaces, which containers and root often lack
	return chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}
