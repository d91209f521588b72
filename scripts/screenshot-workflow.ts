/**
 * Screenshots a workflow open in the editor of an already running n8n, in headless Chromium,
 * canvas zoomed to fit: how docs/day66-workflow.png is made.
 *
 *   node scripts/screenshot-workflow.ts [--url http://127.0.0.1:5678]
 *     [--out docs/day66-workflow.png] [--workflow-id day66DataSync01]
 *     [--width 1600] [--height 900] [--scale 1] [--timeout 60000]
 *
 * --out defaults to docs/day66-workflow.png in this project; a relative --out is taken from the
 * working directory. --scale is the device pixel ratio (2 gives a 3200x1800 picture).
 *
 * Needs Node 24 (`source scripts/node24.sh`), a Chromium (Debian: `apt-get install chromium`;
 * CHROMIUM_PATH overrides /usr/bin/chromium) and playwright-core, found in this project's
 * node_modules or at PLAYWRIGHT_CORE_PATH (the package folder, or a node_modules or prefix
 * folder holding it). Playwright never downloads a browser here.
 *
 * Signing in (scripts/n8n/editor.ts): a fresh n8n gets an owner first. The account is
 * SCREENSHOT_EMAIL / SCREENSHOT_PASSWORD (demo defaults below, printed); on an n8n whose owner
 * already exists they must be that owner's (or another member's) login.
 *
 * The browser reaches nothing but the n8n it screenshots: every other request is aborted.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

import type { Page } from 'playwright-core';

import { clearOverlays, openEditor } from './n8n/editor.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const DEMO_EMAIL = 'demo@n8n-nodes-data-sync.dev';
const DEMO_PASSWORD = 'DemoScreenshot1';

interface Options {
	url: string;
	out: string;
	workflowId: string;
	width: number;
	height: number;
	scale: number;
	chromium: string;
	email: string;
	password: string;
	timeoutMs: number;
}

function options(): Options {
	const { values } = parseArgs({
		options: {
			url: { type: 'string', default: process.env.N8N_URL ?? 'http://127.0.0.1:5678' },
			out: { type: 'string', default: path.join(ROOT, 'docs/day66-workflow.png') },
			'workflow-id': { type: 'string', default: 'day66DataSync01' },
			width: { type: 'string', default: '1600' },
			height: { type: 'string', default: '900' },
			scale: { type: 'string', default: '1' },
			timeout: { type: 'string', default: '60000' },
			help: { type: 'boolean', short: 'h', default: false },
		},
	});
	if (values.help) {
		console.log(
			'usage: node scripts/screenshot-workflow.ts [--url http://127.0.0.1:5678] [--out docs/day66-workflow.png]\n' +
				'         [--workflow-id day66DataSync01] [--width 1600] [--height 900] [--scale 1] [--timeout 60000]\n' +
				'env: N8N_URL (default of --url), SCREENSHOT_EMAIL, SCREENSHOT_PASSWORD, CHROMIUM_PATH, PLAYWRIGHT_CORE_PATH',
		);
		process.exit(0);
	}
	const number = (name: string, value: string): number => {
		const n = Number(value);
		if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
		return n;
	};
	return {
		url: values.url.replace(/\/+$/, ''),
		out: path.resolve(values.out),
		workflowId: values['workflow-id'],
		width: Math.round(number('width', values.width)),
		height: Math.round(number('height', values.height)),
		scale: number('scale', values.scale),
		timeoutMs: number('timeout', values.timeout),
		chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
		email: process.env.SCREENSHOT_EMAIL || DEMO_EMAIL,
		password: process.env.SCREENSHOT_PASSWORD || DEMO_PASSWORD,
	};
}

/** playwright-core from PLAYWRIGHT_CORE_PATH if set (and only there), else this project's. */
function loadPlaywright(): typeof import('playwright-core') {
	const require = createRequire(path.join(ROOT, 'package.json'));
	const fromEnv = process.env.PLAYWRIGHT_CORE_PATH;
	if (!fromEnv) {
		try {
			return require('playwright-core') as typeof import('playwright-core');
		} catch (error) {
			throw new Error(
				`playwright-core is not in this project's node_modules (${(error as Error).message.split('\n')[0]}): ` +
					'add it as a devDependency, or install it elsewhere and set PLAYWRIGHT_CORE_PATH ' +
					'(npm install --prefix /tmp/shot playwright-core; PLAYWRIGHT_CORE_PATH=/tmp/shot)',
			);
		}
	}
	// The package folder itself, a node_modules folder holding it, or an npm --prefix folder.
	const dir = path.resolve(fromEnv);
	const packages = [
		dir,
		path.join(dir, 'playwright-core'),
		path.join(dir, 'node_modules/playwright-core'),
	];
	const found = packages.find((candidate) => {
		const manifest = path.join(candidate, 'package.json');
		return (
			existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'playwright-core'
		);
	});
	if (!found) {
		throw new Error(
			`PLAYWRIGHT_CORE_PATH=${fromEnv}: no playwright-core in ${packages.join(', ')}`,
		);
	}
	return require(found) as typeof import('playwright-core');
}

interface NodeBox {
	name: string;
	disabled: boolean;
	x: number;
	y: number;
	width: number;
	height: number;
}

/** Where each node was drawn, in screen pixels. */
async function nodeBoxes(page: Page): Promise<NodeBox[]> {
	return await page.evaluate(() =>
		Array.from(document.querySelectorAll<HTMLElement>('[data-test-id="canvas-node"]')).map((el) => {
			const r = el.getBoundingClientRect();
			return {
				name: el.dataset.nodeName ?? '?',
				disabled: /\(Deactivated\)/.test(el.innerText),
				x: r.x,
				y: r.y,
				width: r.width,
				height: r.height,
			};
		}),
	);
}

/** Nodes cut off by the picture's edge, and nodes drawn on or against each other. */
function layoutWarnings(nodes: NodeBox[], opts: Options): string[] {
	const warnings: string[] = [];
	for (const n of nodes) {
		if (n.x < 0 || n.y < 0 || n.x + n.width > opts.width || n.y + n.height > opts.height) {
			warnings.push(`node "${n.name}" is not wholly in the picture`);
		}
	}
	for (let i = 0; i < nodes.length; i++) {
		for (let j = i + 1; j < nodes.length; j++) {
			const a = nodes[i];
			const b = nodes[j];
			// Closer than a quarter of a node's height: no room left for the connection between.
			const margin = Math.min(a.height, b.height) / 4;
			const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) + margin;
			const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) + margin;
			if (w > 0 && h > 0) warnings.push(`nodes "${a.name}" and "${b.name}" touch or overlap`);
		}
	}
	return warnings;
}

async function main(): Promise<void> {
	const opts = options();
	if (!existsSync(opts.chromium)) {
		throw new Error(
			`No Chromium at ${opts.chromium}: apt-get install -y chromium, or set CHROMIUM_PATH`,
		);
	}
	const { chromium } = loadPlaywright();
	const editor = await openEditor({
		chromium,
		executablePath: opts.chromium,
		url: opts.url,
		login: { email: opts.email, password: opts.password },
		width: opts.width,
		height: opts.height,
		scale: opts.scale,
		timeoutMs: opts.timeoutMs,
		log: console.log,
	});
	try {
		const { page } = editor;
		page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
		const target = `${opts.url}/workflow/${encodeURIComponent(opts.workflowId)}`;
		console.log(`opening ${target}`);
		await page.goto(target, { waitUntil: 'domcontentloaded' });
		try {
			await page.waitForSelector('[data-test-id="canvas-node"]', { state: 'visible' });
		} catch (error) {
			const shot = opts.out.replace(/\.png$/i, '') + '.failed.png';
			await page.screenshot({ path: shot });
			const why = /\/(signin|setup)\b/.test(new URL(page.url()).pathname)
				? 'n8n sent the browser to sign in: the session cookie was not accepted'
				: `the canvas showed no node (${(error as Error).message.split('\n')[0]})`;
			throw new Error(`${target}: ${why}; the page as it was: ${shot}`);
		}
		// Node icons and fonts arrive after the first nodes: let the network settle.
		await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
		await page.evaluate(async () => await document.fonts.ready);
		await clearOverlays(page);

		// Zoom to fit: the canvas button, else its shortcut "1" on the canvas.
		const fit = page.locator('[data-test-id="zoom-to-fit"]');
		if (await fit.isVisible()) {
			await fit.click();
		} else {
			await page.locator('[data-test-id="canvas"]').click({ position: { x: 5, y: 5 } });
			await page.keyboard.press('1');
		}
		await page.waitForTimeout(800); // the fit animates (200 ms); then tooltips fade
		// No focus ring on the button, no hover highlight or tooltip in the picture.
		await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
		await page.mouse.move(opts.width / 2, 2);
		await clearOverlays(page);
		await page.waitForTimeout(500);

		const nodes = await nodeBoxes(page);
		mkdirSync(path.dirname(opts.out), { recursive: true });
		await page.screenshot({ path: opts.out });
		const disabled = nodes.filter((n) => n.disabled).map((n) => n.name);
		console.log(
			`wrote ${path.relative(process.cwd(), opts.out) || opts.out}: ${nodes.length} nodes` +
				(disabled.length ? `, disabled: ${disabled.join(', ')}` : ''),
		);
		for (const warning of layoutWarnings(nodes, opts)) console.warn(`warning: ${warning}`);
		for (const request of editor.blocked) console.log(`blocked ${request}`);
	} finally {
		await editor.close();
	}
}

main().catch((error: unknown) => {
	console.error(error instanceof Error ? error.message : error);
	process.exit(1);
});
