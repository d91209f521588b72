/**
 * n8n's editor in headless Chromium, as a person meets it: signed in, nothing reachable but the
 * n8n under test. Used by scripts/screenshot-workflow.ts and the browser tests (test/editor).
 *
 * Signing in: a fresh n8n has no owner, and the editor needs a signed-in user. If
 * GET /rest/settings says `userManagement.showSetupOnFirstLoad`, the owner is created with
 * POST /rest/owner/setup; then POST /rest/login gives the `n8n-auth` cookie, which goes into the
 * browser with the same browser id (n8n ties a session to the browser-id header).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { BrowserContext, BrowserType, Page } from 'playwright-core';

/** The little of the page's DOM that code run in the browser here touches (no DOM lib in Node). */
export interface PageElement {
	offsetParent: unknown;
	innerText: string;
	getAttribute(name: string): string | null;
	click(): void;
	querySelectorAll(selector: string): ArrayLike<PageElement>;
}
interface PageGlobals {
	document: PageElement;
	localStorage: { setItem(key: string, value: string): void };
}

export interface Login {
	email: string;
	password: string;
}

export interface Editor {
	page: Page;
	context: BrowserContext;
	/** Uncaught errors of the page, in order. */
	pageErrors: Error[];
	/** Requests that tried to leave the n8n under test (all aborted). */
	blocked: string[];
	/** Closes the browser and removes its profile. */
	close(): Promise<void>;
}

/** A `fetch` to n8n's REST API that fails with the answer's message. */
export async function rest(
	url: string,
	method: string,
	endpoint: string,
	body?: unknown,
	headers: Record<string, string> = {},
): Promise<Response> {
	const response = await fetch(`${url}/rest/${endpoint}`, {
		method,
		headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(30_000),
	});
	if (!response.ok) {
		let text = await response.text();
		try {
			text = (JSON.parse(text) as { message?: string }).message ?? text;
		} catch {
			// not JSON: the text as it came
		}
		throw new Error(`${method} ${url}/rest/${endpoint}: ${response.status} ${text.slice(0, 500)}`);
	}
	return response;
}

/**
 * Creates the owner if the instance has none, signs in and returns the n8n-auth cookie value
 * and the browser id it is bound to.
 */
export async function signIn(
	url: string,
	login: Login,
	log: (line: string) => void = () => undefined,
): Promise<{ cookie: string; browserId: string }> {
	const browserId = randomUUID();
	let settings: { data?: { userManagement?: { showSetupOnFirstLoad?: boolean } } };
	try {
		settings = (await (await rest(url, 'GET', 'settings')).json()) as typeof settings;
	} catch (error) {
		throw new Error(`No n8n answering at ${url} (${(error as Error).message})`);
	}
	if (settings.data?.userManagement?.showSetupOnFirstLoad) {
		await rest(url, 'POST', 'owner/setup', {
			email: login.email,
			firstName: 'Demo',
			lastName: 'Owner',
			password: login.password,
		});
		log(`created the owner account ${login.email} / password ${login.password}`);
	}
	let response: Response;
	try {
		response = await rest(
			url,
			'POST',
			'login',
			{ emailOrLdapLoginId: login.email, password: login.password },
			{ 'browser-id': browserId },
		);
	} catch (error) {
		throw new Error(`${(error as Error).message}\nSign in with a login of this n8n.`);
	}
	for (const cookie of response.headers.getSetCookie()) {
		const match = /^n8n-auth=([^;]+)/.exec(cookie);
		if (match) return { cookie: match[1], browserId };
	}
	throw new Error('POST /rest/login set no n8n-auth cookie');
}

export interface OpenEditorOptions {
	chromium: BrowserType;
	executablePath?: string;
	url: string;
	login: Login;
	width?: number;
	height?: number;
	scale?: number;
	timeoutMs?: number;
	log?: (line: string) => void;
}

/** A signed-in browser on the n8n at `url`, one blank page open. */
export async function openEditor(options: OpenEditorOptions): Promise<Editor> {
	const log = options.log ?? (() => undefined);
	const { cookie, browserId } = await signIn(options.url, options.login, log);
	const userDataDir = mkdtempSync(path.join(tmpdir(), 'n8n-editor-chromium-'));
	const pageErrors: Error[] = [];
	const blocked: string[] = [];
	let context: BrowserContext | undefined;
	try {
		// launchPersistentContext: the only way to give Chromium our own --user-data-dir.
		context = await options.chromium.launchPersistentContext(userDataDir, {
			executablePath: options.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
			headless: true,
			// Without the background-networking switches Chromium keeps calling out of a closed network.
			args: [
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
			],
			viewport: { width: options.width ?? 1600, height: options.height ?? 900 },
			deviceScaleFactor: options.scale ?? 1,
			colorScheme: 'light',
			locale: 'en-US',
			timezoneId: 'UTC',
			serviceWorkers: 'block',
		});
		context.setDefaultTimeout(options.timeoutMs ?? 30_000);
		const origin = new URL(options.url).origin;
		// Only requests that leave the n8n origin are routed (and aborted): routing every request
		// through this process would slow the editor's load down.
		const escaped = origin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
		await context.route(new RegExp(`^(?!${escaped}/|data:|blob:)`), async (route) => {
			blocked.push(`${route.request().method()} ${route.request().url()}`);
			await route.abort('blockedbyclient');
		});
		await context.addCookies([
			{ name: 'n8n-auth', value: cookie, url: origin, httpOnly: true, sameSite: 'Lax' },
		]);
		await context.addInitScript((id: string) => {
			(globalThis as unknown as PageGlobals).localStorage.setItem('n8n-browserId', id);
		}, browserId);
		const page = context.pages()[0] ?? (await context.newPage());
		page.on('pageerror', (error) => pageErrors.push(error));
		const opened = context;
		return {
			page,
			context: opened,
			pageErrors,
			blocked,
			close: async () => {
				await opened.close().catch(() => undefined);
				rmSync(userDataDir, { recursive: true, force: true });
			},
		};
	} catch (error) {
		await context?.close().catch(() => undefined);
		rmSync(userDataDir, { recursive: true, force: true });
		throw error;
	}
}

/** Closes whatever overlays the canvas: modals, dialogs, toasts, callouts, banners. */
export async function clearOverlays(page: Page): Promise<void> {
	for (let round = 0; round < 3; round++) {
		await page.keyboard.press('Escape');
		await page.evaluate(() => {
			const selectors = [
				'.el-overlay .el-dialog__headerbtn',
				'.el-message-box__headerbtn',
				'.el-notification__closeBtn',
				'[data-test-id="banners-close"]',
				'[data-test-id="banner-close"]',
				'[role="dialog"] button[aria-label="Close"]',
				'[role="dialog"] [data-test-id="close-button"]',
			];
			const { document } = globalThis as unknown as PageGlobals;
			for (const selector of selectors) {
				for (const el of Array.from(document.querySelectorAll(selector))) {
					if (el.offsetParent !== null) el.click();
				}
			}
		});
		await page.waitForTimeout(300);
	}
}
