/**
 * A real n8n 2.41.1 in queue mode for end-to-end tests: one main process (`n8n start`, which
 * receives webhooks and enqueues their executions) and N `n8n worker` processes that take them
 * from a Redis (Bull) queue; PostgreSQL is n8n's database.
 *
 *   const n8n = await startN8nQueue({ packageTgz: packPackage(), workflows, publish, workers: 2 });
 *   await n8n.waitForWebhook('queue-probe');
 *   await fetch(n8n.webhookUrl('queue-probe'), { method: 'POST', ... });
 *   await n8n.executionsByWorker();                  // { worker1: ['3', ...], worker2: [...] }
 *   await n8n.stop();                                // kills every process, drops the database
 *
 * Per call: a fresh database `n8n_q_<token>` (created and dropped with psql), a Bull prefix
 * `bull_q_<token>` (QUEUE_BULL_PREFIX) and a Redis key prefix `n8n_q_<token>`
 * (N8N_REDIS_KEY_PREFIX: n8n's pub/sub channels and cache keys, which QUEUE_BULL_PREFIX does not
 * cover), so parallel runs share neither jobs nor commands; stop() deletes every Redis key with
 * the token. Every process logs JSON (N8N_LOG_FORMAT=json) to its own buffer.
 *
 * Every process has its own N8N_USER_FOLDER: n8n touches `<folder>/.n8n/crash.journal` at
 * startup and, when it is already there, logs "Last session crashed" and sleeps 10 s, so a folder
 * shared by concurrently running processes would make each later process look crashed. The
 * package is installed once, into main's `.n8n/nodes`, and each worker's `.n8n/nodes` is a
 * symlink to it: n8n's community-packages module scans `<folder>/.n8n/nodes/node_modules` in
 * every process type (main and worker alike), so all of them load the same copy.
 *
 * Which process ran an execution: a worker logs `Worker started execution <id> (job <jobId>)` at
 * info level for every job it takes (n8n dist/scaling/job-processor.js), so executionsByWorker()
 * reads that line from each worker's own log. Main logs `Enqueued execution <id> (job <jobId>)`
 * (dist/scaling/scaling.service.js) for every execution it puts on the queue.
 *
 * Needs `psql` and `redis-cli` on PATH and the services at E2E_PG_HOST:E2E_PG_PORT (user
 * E2E_PG_USER, trust auth; default 127.0.0.1:5432, postgres) and E2E_REDIS_HOST:E2E_REDIS_PORT
 * (default 127.0.0.1:6379); queuePrerequisites() says what is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { n8nEnv } from '../../scripts/n8n/env.ts';
import {
	E2E_ENCRYPTION_KEY,
	N8N_BIN,
	N8N_DIR,
	N8N_VERSION,
	freePortPair,
	killGroup,
	n8nInstalled,
	node24,
	node24Path,
	prepareN8n,
	stepTimer,
	stopGroup,
	waitReady,
} from './n8n';

export interface PostgresTarget {
	host: string;
	port: number;
	user: string;
}

export interface RedisTarget {
	host: string;
	port: number;
}

export function postgresTarget(): PostgresTarget {
	return {
		host: process.env.E2E_PG_HOST ?? '127.0.0.1',
		port: Number(process.env.E2E_PG_PORT ?? 5432),
		user: process.env.E2E_PG_USER ?? 'postgres',
	};
}

export function redisTarget(): RedisTarget {
	return {
		host: process.env.E2E_REDIS_HOST ?? '127.0.0.1',
		port: Number(process.env.E2E_REDIS_PORT ?? 6379),
	};
}

/** Why queue mode cannot run here ([] when it can): for describeWithN8n's `missing`. */
export function queuePrerequisites(): string[] {
	const why: string[] = [];
	const pg = postgresTarget();
	const psql = spawnSync(
		'psql',
		['-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'postgres', '-Atc', 'SELECT 1'],
		{ encoding: 'utf8', timeout: 10_000 },
	);
	if (psql.error || psql.status !== 0) {
		why.push(
			`PostgreSQL not reachable with psql at ${pg.host}:${pg.port} as ${pg.user}: ${psql.error?.message ?? psql.stderr.trim()}`,
		);
	}
	const redis = redisTarget();
	const ping = spawnSync('redis-cli', ['-h', redis.host, '-p', String(redis.port), 'PING'], {
		encoding: 'utf8',
		timeout: 10_000,
	});
	if (ping.error || ping.stdout.trim() !== 'PONG') {
		why.push(
			`Redis not reachable with redis-cli at ${redis.host}:${redis.port}: ${ping.error?.message ?? (ping.stderr.trim() || ping.stdout.trim())}`,
		);
	}
	return why;
}

function run(
	command: string,
	args: string[],
	timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
		child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
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

/** One SQL command through psql on `database` (stops at the first error); its unaligned output. */
export async function psql(pg: PostgresTarget, database: string, sql: string): Promise<string> {
	const result = await run('psql', [
		'-h',
		pg.host,
		'-p',
		String(pg.port),
		'-U',
		pg.user,
		'-d',
		database,
		'-X',
		'-v',
		'ON_ERROR_STOP=1',
		'-At',
		'-c',
		sql,
	]);
	if (result.code !== 0) {
		throw new Error(`psql on ${database} failed (${result.code}): ${result.stderr}\n${sql}`);
	}
	return result.stdout;
}

/** The rows of one `SELECT ...` on `database`, through psql and json_agg. */
export async function psqlRows<T>(pg: PostgresTarget, database: string, sql: string): Promise<T[]> {
	const out = await psql(
		pg,
		database,
		`SELECT coalesce(json_agg(q), '[]'::json) FROM (${sql.replace(/;\s*$/, '')}) q`,
	);
	return JSON.parse(out) as T[];
}

async function redisCli(redis: RedisTarget, args: string[]): Promise<string> {
	const result = await run('redis-cli', ['-h', redis.host, '-p', String(redis.port), ...args]);
	if (result.code !== 0) {
		throw new Error(`redis-cli ${args[0]} failed (${result.code}): ${result.stderr}`);
	}
	return result.stdout;
}

/** Every Redis key that contains `token`. */
async function redisKeys(redis: RedisTarget, token: string): Promise<string[]> {
	const out = await redisCli(redis, ['--scan', '--pattern', `*${token}*`]);
	return out.split('\n').filter((key) => key.length > 0);
}

/** One parsed line of a process's JSON log (lines that are not JSON are left out). */
export interface LogEntry {
	level: string;
	message: string;
	metadata: Record<string, unknown>;
}

export function parseLogs(text: string): LogEntry[] {
	const entries: LogEntry[] = [];
	for (const line of text.split('\n')) {
		const start = line.indexOf('{');
		if (start < 0) continue;
		try {
			const parsed = JSON.parse(line.slice(start)) as Partial<LogEntry>;
			if (typeof parsed.message !== 'string' || typeof parsed.level !== 'string') continue;
			entries.push({
				level: parsed.level,
				message: parsed.message,
				metadata: parsed.metadata ?? {},
			});
		} catch {
			// not a log line of n8n's (a task runner's output, a stack trace...)
		}
	}
	return entries;
}

/** `Worker started execution <id> (job <jobId>)`: dist/scaling/job-processor.js, info. */
const WORKER_STARTED = /^Worker started execution (\S+) \(job (\S+)\)/;
/** `Enqueued execution <id> (job <jobId>)`: dist/scaling/scaling.service.js (main), info. */
const ENQUEUED = /^Enqueued execution (\S+) \(job (\S+)\)/;

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface StartN8nQueueOptions {
	/** A package tarball (packPackage()) installed once and loaded by main and every worker. */
	packageTgz?: string;
	/** Workflows for `n8n import:workflow`: each needs `id` and `name`. */
	workflows?: object[];
	/** Plain credentials for `n8n import:credentials` ({id, name, type, data}); n8n encrypts them. */
	credentials?: object[];
	/** Workflow ids to publish (activate) before main starts. */
	publish?: string[];
	/** How many `n8n worker` processes (default 2). */
	workers?: number;
	/** `n8n worker --concurrency`: jobs each worker runs at once (default 2; n8n warns below 5). */
	concurrency?: number;
	/** N8N_LOG_LEVEL of main (default info; E2E_N8N_LOG_LEVEL overrides the default). */
	mainLogLevel?: LogLevel;
	/**
	 * N8N_LOG_LEVEL of the workers (default info, which is enough for executionsByWorker();
	 * debug adds e.g. "Execution added" with the id of every execution a worker creates itself,
	 * such as a sub-workflow's).
	 */
	workerLogLevel?: LogLevel;
	/** More environment for every process (and the CLI commands). */
	env?: NodeJS.ProcessEnv;
	/** How long to wait for each process's /healthz/readiness. Default 120 s. */
	readyTimeoutMs?: number;
	/** Main's port; P + 1 is its task-runner broker. Default: a free pair (freePortPair()). */
	port?: number;
}

export interface RunningN8nQueue {
	/** Main's base URL (webhooks, REST, /healthz). */
	url: string;
	port: number;
	/** The process names: 'main', 'worker1', 'worker2', ... */
	processes: string[];
	/** Each worker's health server: name -> URL (GET <url>/healthz/readiness). */
	workerUrls: Record<string, string>;
	/** n8n's PostgreSQL database of this run (dropped by stop()). */
	database: string;
	/** QUEUE_BULL_PREFIX and N8N_REDIS_KEY_PREFIX of this run. */
	bullPrefix: string;
	redisPrefix: string;
	/** Milliseconds per setup step. */
	timings: Record<string, number>;
	webhookUrl(webhookPath: string): string;
	/**
	 * Waits until main has registered a production webhook. It probes with a CORS preflight
	 * (OPTIONS + Origin), which n8n answers 204 for a registered path (500 "not registered"
	 * otherwise) without starting an execution: a plain POST probe would enqueue a real one.
	 */
	waitForWebhook(webhookPath: string, method?: string, timeoutMs?: number): Promise<void>;
	/** Everything one process printed so far (default 'main'). */
	logs(processName?: string): string;
	/** One process's JSON log lines, parsed. */
	logEntries(processName?: string): LogEntry[];
	/** Rows of a query on n8n's database (through psql and json_agg): `SELECT ...` only. */
	query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
	/** Ids of every execution in n8n's database, ascending. */
	executionIds(): Promise<string[]>;
	/**
	 * Worker name -> ids of the executions it took from the queue, in order, from each worker's
	 * own "Worker started execution <id>" log lines (every worker has an entry, maybe []).
	 */
	executionsByWorker(): Promise<Record<string, string[]>>;
	/** Ids main put on the queue ("Enqueued execution <id>" in main's log), in order. */
	enqueuedExecutions(): string[];
	/** Process name -> pid of its n8n process (its task runner is a child of it). */
	pids(): Record<string, number | undefined>;
	/** Kills every process, drops the database, deletes the run's Redis keys and folders. */
	stop(): Promise<void>;
}

interface ProcessHandle {
	name: string;
	child?: ChildProcess;
	output: string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
	if (exitHookInstalled) return;
	exitHookInstalled = true;
	process.once('exit', () => {
		for (const child of running) killGroup(child, 'SIGKILL');
	});
}

async function stopProcess(handle: ProcessHandle): Promise<void> {
	const proc = handle.child;
	if (!proc) return;
	await stopGroup(proc);
	running.delete(proc);
}

export async function startN8nQueue(options: StartN8nQueueOptions = {}): Promise<RunningN8nQueue> {
	if (!n8nInstalled()) {
		throw new Error(
			`n8n ${N8N_VERSION} is not installed in ${N8N_DIR}: run scripts/n8n/install.sh`,
		);
	}
	const workerCount = options.workers ?? 2;
	const concurrency = options.concurrency ?? 2;
	const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
	const pg = postgresTarget();
	const redis = redisTarget();
	const token = `q_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
	const database = `n8n_${token}`;
	const bullPrefix = `bull_${token}`;
	const redisPrefix = `n8n_${token}`;
	const baseFolder = mkdtempSync(path.join(tmpdir(), 'n8n-data-sync-queue-'));
	const handles: ProcessHandle[] = [
		{ name: 'main', output: '' },
		...Array.from({ length: workerCount }, (_, i) => ({ name: `worker${i + 1}`, output: '' })),
	];
	const handle = (name: string): ProcessHandle => {
		const found = handles.find((h) => h.name === name);
		if (!found) throw new Error(`No n8n process "${name}" (${handles.map((h) => h.name)})`);
		return found;
	};
	let databaseCreated = false;
	let stopped = false;

	const stop = async (): Promise<void> => {
		if (stopped) return;
		stopped = true;
		const problems: string[] = [];
		// Workers first, so none takes a job main re-queues while it shuts down.
		await Promise.all(handles.filter((h) => h.name !== 'main').map(stopProcess));
		await stopProcess(handle('main'));
		if (databaseCreated) {
			try {
				await psql(pg, 'postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
			} catch (error) {
				problems.push((error as Error).message);
			}
		}
		try {
			const keys = await redisKeys(redis, token);
			for (let i = 0; i < keys.length; i += 200) {
				await redisCli(redis, ['UNLINK', ...keys.slice(i, i + 200)]);
			}
		} catch (error) {
			problems.push((error as Error).message);
		}
		rmSync(baseFolder, { recursive: true, force: true });
		if (problems.length) throw new Error(`stop(): ${problems.join('; ')}`);
	};

	try {
		const { timings, timed } = stepTimer();

		await timed('createDatabase', () => psql(pg, 'postgres', `CREATE DATABASE "${database}"`));
		databaseCreated = true;

		const port = options.port ?? (await freePortPair());
		const url = `http://127.0.0.1:${port}`;
		const common: NodeJS.ProcessEnv = {
			PATH: node24Path(),
			N8N_LOG_OUTPUT: 'console',
			N8N_LOG_FORMAT: 'json',
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: pg.host,
			DB_POSTGRESDB_PORT: String(pg.port),
			DB_POSTGRESDB_DATABASE: database,
			DB_POSTGRESDB_USER: pg.user,
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: redis.host,
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			QUEUE_BULL_PREFIX: bullPrefix,
			N8N_REDIS_KEY_PREFIX: redisPrefix,
			// Webhook URLs a worker computes ($execution.resumeUrl...) point at main.
			N8N_WEBHOOK_URL: `${url}/`,
			N8N_EDITOR_BASE_URL: `${url}/`,
		};
		const folder = (name: string) => path.join(baseFolder, name);
		const mainEnv = n8nEnv({
			userFolder: folder('main'),
			port,
			encryptionKey: E2E_ENCRYPTION_KEY,
			extra: {
				...common,
				N8N_LOG_LEVEL: options.mainLogLevel ?? process.env.E2E_N8N_LOG_LEVEL ?? 'info',
				...options.env,
			},
		});
		mkdirSync(folder('main'), { recursive: true });

		const tgz = options.packageTgz;
		await prepareN8n(folder('main'), path.join(baseFolder, 'inputs'), options, mainEnv, timed);

		installExitHook();
		const launch = async (
			h: ProcessHandle,
			args: string[],
			env: NodeJS.ProcessEnv,
			readyUrl: string,
		): Promise<void> => {
			const t0 = Date.now();
			const proc = spawn(node24(), [N8N_BIN, ...args], {
				cwd: env.N8N_USER_FOLDER,
				env,
				stdio: ['ignore', 'pipe', 'pipe'],
				detached: true,
			});
			h.child = proc;
			running.add(proc);
			proc.stdout!.on('data', (chunk: Buffer) => (h.output += chunk.toString()));
			proc.stderr!.on('data', (chunk: Buffer) => (h.output += chunk.toString()));
			try {
				await waitReady(proc, readyUrl, readyTimeoutMs, () => h.output);
			} catch (error) {
				throw new Error(`${h.name} (n8n ${args.join(' ')}): ${(error as Error).message}`);
			}
			timings[`ready:${h.name}`] = Date.now() - t0;
		};

		await launch(handle('main'), ['start'], mainEnv, url);

		const workerUrls: Record<string, string> = {};
		await Promise.all(
			handles
				.filter((h) => h.name !== 'main')
				.map(async (h) => {
					// P: the worker's health server (QUEUE_HEALTH_CHECK_PORT), P + 1: its task broker.
					const workerPort = await freePortPair();
					const userFolder = folder(h.name);
					mkdirSync(path.join(userFolder, '.n8n'), { recursive: true });
					if (tgz) {
						symlinkSync(
							path.join(folder('main'), '.n8n/nodes'),
							path.join(userFolder, '.n8n/nodes'),
							'dir',
						);
					}
					const env = n8nEnv({
						userFolder,
						port: workerPort,
						encryptionKey: E2E_ENCRYPTION_KEY,
						extra: {
							...common,
							N8N_LOG_LEVEL: options.workerLogLevel ?? 'info',
							QUEUE_HEALTH_CHECK_ACTIVE: 'true',
							QUEUE_HEALTH_CHECK_PORT: String(workerPort),
							N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
							...options.env,
						},
					});
					workerUrls[h.name] = `http://127.0.0.1:${workerPort}`;
					await launch(h, ['worker', `--concurrency=${concurrency}`], env, workerUrls[h.name]);
				}),
		);

		const executionsByWorker = async (): Promise<Record<string, string[]>> => {
			const byWorker: Record<string, string[]> = {};
			for (const h of handles) {
				if (h.name === 'main') continue;
				byWorker[h.name] = parseLogs(h.output).flatMap((entry) => {
					const match = WORKER_STARTED.exec(entry.message);
					return match ? [match[1]] : [];
				});
			}
			return byWorker;
		};
		const query = <T>(sql: string) => psqlRows<T>(pg, database, sql);

		return {
			url,
			port,
			processes: handles.map((h) => h.name),
			workerUrls,
			database,
			bullPrefix,
			redisPrefix,
			timings,
			webhookUrl: (webhookPath) => `${url}/webhook/${webhookPath.replace(/^\/+/, '')}`,
			waitForWebhook: async (webhookPath, method = 'POST', timeoutMs = 60_000) => {
				const target = `${url}/webhook/${webhookPath.replace(/^\/+/, '')}`;
				const deadline = Date.now() + timeoutMs;
				for (;;) {
					const res = await fetch(target, {
						method: 'OPTIONS',
						headers: { Origin: url, 'Access-Control-Request-Method': method },
					});
					await res.arrayBuffer();
					if (res.status === 204) return;
					if (Date.now() > deadline) {
						throw new Error(
							`webhook ${method} ${webhookPath} not registered after ${timeoutMs} ms (last ${res.status})`,
						);
					}
					await new Promise((resolve) => setTimeout(resolve, 250));
				}
			},
			logs: (name = 'main') => handle(name).output,
			logEntries: (name = 'main') => parseLogs(handle(name).output),
			query,
			executionIds: async () =>
				(await query<{ id: string | number }>('SELECT id FROM execution_entity ORDER BY id')).map(
					(row) => String(row.id),
				),
			executionsByWorker,
			enqueuedExecutions: () =>
				parseLogs(handle('main').output).flatMap((entry) => {
					const match = ENQUEUED.exec(entry.message);
					return match ? [match[1]] : [];
				}),
			pids: () => Object.fromEntries(handles.map((h) => [h.name, h.child?.pid])),
			stop,
		};
	} catch (error) {
		await stop().catch(() => undefined);
		throw error;
	}
}
