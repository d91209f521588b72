/**
 * Shared set-up of the reliability suite (issue 6): the three demo systems as real processes, a
 * real n8n 2.41.1 with the packed package and the bundled Day 66 workflow (its Data Sync Trigger
 * checks the header secret X-Sync-Secret), and the measurements
 * every test prints: what the systems applied (their write logs), what they hold (their SQLite
 * stores, read directly so no injected fault gets in the way), and what n8n saved.
 *
 * Sizes: RELIABILITY_FULL=1 (npm run reliability) runs the full sizes, `npm test` the small ones,
 * with the same generators.
 */
import type { WriteLogEntry } from '../../demo/systems/store.ts';
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import { startSystems, type StartedSystems, type SystemStats } from '../systems/helpers';
import { describeWithN8n } from '../e2e/describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from '../e2e/n8n';

export type Json = Record<string, unknown>;

export const FULL = process.env.RELIABILITY_FULL === '1';
/** The regular size in `npm test`, the full size with RELIABILITY_FULL=1. */
export const size = (regular: number, full: number): number => (FULL ? full : regular);

export const SYSTEMS = ['system_a', 'system_b', 'system_c'] as const;
/** The webhook credential's secret (sent as X-Sync-Secret; searched for in the leak scan). */
export const WEBHOOK_SECRET =
	process.env.RELIABILITY_WEBHOOK_SECRET ?? 'reliability-webhook-header-value-5d1c07';

export const describeE2e = describeWithN8n('reliability');

export const TRIGGER_TYPE = 'n8n-nodes-data-sync.dataSyncTrigger';

export const WORKFLOW = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-data-sync.json'), 'utf8'),
) as Json & { id: string; nodes: Json[] };

/** Where the demo systems keep a record: its client fields, version and tombstone flag. */
export interface StoredRow {
	id: string;
	fields: Json;
	version: number;
	deleted: boolean;
	updatedMs: number;
}

export interface SyncAnswer {
	status: number;
	body: Json;
	text: string;
	ms: number;
}

export interface Env {
	systems: StartedSystems;
	n8n: RunningN8n;
	/** Every answer the webhook gave, for the secret scan. */
	answers: string[];
	/** POSTs a JSON body to the Day 66 webhook (or `webhookPath`) with the secret (or `secret`). */
	sync(body: unknown, secret?: string | null, webhookPath?: string): Promise<SyncAnswer>;
	/** POSTs raw bytes with any content type. */
	post(
		body: string | Buffer,
		contentType: string,
		secret?: string | null,
		webhookPath?: string,
	): Promise<SyncAnswer>;
	store(name: string): Map<string, StoredRow>;
	writeLog(name: string): Promise<WriteLogEntry[]>;
	stats(name: string): Promise<SystemStats>;
	allStats(): Promise<Record<string, SystemStats>>;
	seed(name: string, records: Json[]): Promise<void>;
	/** The payload system_a would post: its records (tombstones included), or those of `prefix`. */
	sourcePayload(name?: string, extra?: Json, prefix?: string): Json;
	syncLog(): Json[];
	staticData(workflowId?: string): Json;
	/** Executions n8n holds (a refused request starts none). */
	executionCount(): number;
	stop(): Promise<void>;
}

export function systemSecrets(systems: StartedSystems): string[] {
	return Object.values(systems.systems).flatMap((s) => {
		const a = s.auth;
		if (a.type === 'apiKey') return [a.value];
		if (a.type === 'bearer') return [a.token];
		if (a.type === 'basic')
			return [a.password, Buffer.from(`${a.username}:${a.password}`).toString('base64')];
		return [];
	});
}

/** The Day 66 workflow, with `change` applied to a deep copy (ids, paths and node wiring kept). */
export function day66Workflow(change?: (wf: Json & { nodes: Json[] }) => void): Json {
	const wf = JSON.parse(JSON.stringify(WORKFLOW)) as Json & { nodes: Json[] };
	change?.(wf);
	return wf;
}

export async function startEnv(options: { workflows?: Json[] } = {}): Promise<Env> {
	const systems = await startSystems();
	const workflows = options.workflows ?? [WORKFLOW];
	let n8n: RunningN8n;
	try {
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows,
			credentials: [
				...demoCredentials(Object.values(systems.systems)),
				{
					id: 'dsWebhookTrigger',
					name: 'Data sync webhook',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'headerSecret', secret: WEBHOOK_SECRET, headerName: 'X-Sync-Secret' },
				},
			],
			publish: workflows.map((w) => String(w.id)),
		});
		for (const w of workflows) await n8n.waitForWebhook(webhookPathOf(w));
	} catch (error) {
		await systems.stop();
		throw error;
	}
	const answers: string[] = [];

	const post = async (
		body: string | Buffer,
		contentType: string,
		secret: string | null = WEBHOOK_SECRET,
		webhookPath = 'data-sync',
	): Promise<SyncAnswer> => {
		const t0 = Date.now();
		const headers: Record<string, string> = { 'Content-Type': contentType };
		if (secret !== null) headers['X-Sync-Secret'] = secret;
		const res = await fetch(n8n.webhookUrl(webhookPath), {
			method: 'POST',
			headers,
			body,
			signal: AbortSignal.timeout(30 * 60_000),
		});
		const text = await res.text();
		answers.push(text);
		let parsed: Json;
		try {
			parsed = JSON.parse(text) as Json;
		} catch {
			parsed = { text };
		}
		return { status: res.status, body: parsed, text, ms: Date.now() - t0 };
	};

	const store = (name: string): Map<string, StoredRow> => {
		const db = new DatabaseSync(systems.systems[name].dbFile, { readOnly: true });
		try {
			const rows = db
				.prepare('SELECT id, fields, version, deleted, updated_ms FROM records')
				.all() as Array<{
				id: string;
				fields: string;
				version: number;
				deleted: number;
				updated_ms: number;
			}>;
			return new Map(
				rows.map((r) => [
					r.id,
					{
						id: r.id,
						fields: JSON.parse(r.fields) as Json,
						version: Number(r.version),
						deleted: Number(r.deleted) === 1,
						updatedMs: Number(r.updated_ms),
					},
				]),
			);
		} finally {
			db.close();
		}
	};

	const n8nDb = <T>(read: (db: DatabaseSync) => T): T => n8n.db(read);

	return {
		systems,
		n8n,
		answers,
		sync: async (body, secret, webhookPath) =>
			await post(JSON.stringify(body), 'application/json', secret, webhookPath),
		post,
		store,
		writeLog: async (name) =>
			(await (await fetch(`${systems.systems[name].url}/_admin/writes`)).json()) as WriteLogEntry[],
		stats: async (name) => await systems.stats(name),
		allStats: async () =>
			Object.fromEntries(
				await Promise.all(SYSTEMS.map(async (n) => [n, await systems.stats(n)] as const)),
			),
		seed: async (name, records) => {
			const res = await fetch(`${systems.systems[name].url}/_admin/seed`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ records }),
			});
			if (!res.ok) throw new Error(`seed ${name}: ${res.status} ${await res.text()}`);
		},
		sourcePayload: (name = 'system_a', extra = {}, prefix = '') => ({
			source_system: name,
			target_systems: SYSTEMS.filter((s) => s !== name),
			sync_type: 'bidirectional',
			sync_data: [...store(name).values()]
				.filter((r) => r.id.startsWith(prefix))
				.sort((x, y) => (x.id < y.id ? -1 : 1))
				.map((r) => asRecord(r)),
			...extra,
		}),
		syncLog: () => n8n.dataTableRows('sync_log') as Json[],
		staticData: (workflowId = String(WORKFLOW.id)) =>
			n8nDb((db) => {
				const row = db
					.prepare('SELECT staticData FROM workflow_entity WHERE id = ?')
					.get(workflowId) as { staticData: string | null } | undefined;
				return (row?.staticData ? JSON.parse(row.staticData) : {}) as Json;
			}),
		executionCount: () =>
			n8nDb((db) =>
				Number((db.prepare('SELECT COUNT(*) AS n FROM execution_entity').get() as Json).n),
			),
		stop: async () => {
			await n8n.stop();
			await systems.stop();
		},
	};
}

/** The workflow's Data Sync Trigger: where its requests arrive. */
export function triggerOf(workflow: Json): Json {
	const trigger = (workflow.nodes as Json[]).find((n) => n.type === TRIGGER_TYPE);
	if (!trigger) throw new Error(`workflow ${String(workflow.id)} has no Data Sync Trigger`);
	return trigger;
}

export function webhookPathOf(workflow: Json): string {
	return String((triggerOf(workflow).parameters as Json).path);
}

/** A stored row as the system's API shows it (what the source posts as its record). */
export function asRecord(r: StoredRow): Json {
	return {
		id: r.id,
		...r.fields,
		version: r.version,
		updated_at: new Date(r.updatedMs).toISOString(),
		...(r.deleted ? { _deleted: true } : {}),
	};
}

/** A stored row's content as the sync compares it: client fields, or "deleted". */
export function content(r: StoredRow | undefined): string {
	if (!r) return 'absent';
	if (r.deleted) return 'deleted';
	return canonical(r.fields);
}

export function canonical(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	const o = value as Json;
	return `{${Object.keys(o)
		.filter((k) => o[k] !== undefined)
		.sort()
		.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
		.join(',')}}`;
}

/**
 * Duplicates in a system's write log: an idempotency key applied more than once, a write
 * without an idempotency key, and a key written more than once (`rewritten`: in a suite where
 * nothing changes between syncs but the syncs themselves, each system needs each key once).
 */
export function duplicates(log: WriteLogEntry[]): {
	applied: number;
	replayedTwice: number;
	unkeyed: number;
	rewritten: number;
	keysWritten: number;
} {
	const byKey = new Map<string, number>();
	const byRecord = new Map<string, number>();
	let unkeyed = 0;
	for (const w of log) {
		if (w.idempotency_key === null) unkeyed++;
		else byKey.set(w.idempotency_key, (byKey.get(w.idempotency_key) ?? 0) + 1);
		byRecord.set(w.id, (byRecord.get(w.id) ?? 0) + 1);
	}
	const over = (m: Map<string, number>) => [...m.values()].reduce((n, c) => n + (c - 1), 0);
	return {
		applied: log.length,
		replayedTwice: over(byKey),
		unkeyed,
		rewritten: over(byRecord),
		keysWritten: byRecord.size,
	};
}

export interface LeakCounts {
	/** Occurrences of any system credential's secret in n8n's folder, its log, the answers. */
	systemSecret: number;
	/** Occurrences of the webhook credential's secret in the same places. */
	webhookSecret: number;
	/** Saved executions whose data holds the webhook credential's secret. */
	webhookSecretInSavedExecutions: number;
	executionsScanned: number;
}

const count = (text: string, needle: string) => (needle ? text.split(needle).length - 1 : 0);

function filesUnder(dir: string, skip: (p: string) => boolean): string[] {
	const out: string[] = [];
	for (const name of readdirSync(dir)) {
		const p = path.join(dir, name);
		if (skip(p)) continue;
		const st = statSync(p);
		if (st.isDirectory()) out.push(...filesUnder(p, skip));
		else if (st.isFile()) out.push(p);
	}
	return out;
}

/**
 * Item 6: every secret, searched in every place n8n keeps or shows anything: the raw bytes of
 * every file in n8n's folder (database with saved executions and node errors, the sync log data
 * table, static data, the WAL), the server log, and every answer the webhook gave; and the saved
 * executions one by one. No secret may appear anywhere: not the system credentials', and not the
 * webhook's (the Data Sync Trigger passes on the typed request, no header).
 */
export function scanForLeaks(env: Env): LeakCounts {
	const secrets = systemSecrets(env.systems);
	// The installed package and n8n's caches hold no data; the test's own import file does hold
	// the plain credentials (written by the test to import them), so it is not n8n's.
	const files = filesUnder(path.join(env.n8n.userFolder, '.n8n'), (p) =>
		/\/(nodes|node_modules|\.cache|binaryData)$/.test(p),
	);
	const blobs = files.map((f) => readFileSync(f).toString('latin1'));
	blobs.push(env.n8n.logs(), ...env.answers);
	let systemSecret = 0;
	let webhookSecret = 0;
	for (const text of blobs) {
		for (const s of secrets) systemSecret += count(text, s);
		webhookSecret += count(text, WEBHOOK_SECRET);
	}
	webhookSecret += count(JSON.stringify(env.syncLog()), WEBHOOK_SECRET);

	const db = new DatabaseSync(path.join(env.n8n.userFolder, '.n8n/database.sqlite'), {
		readOnly: true,
	});
	let saved: string[];
	try {
		saved = (db.prepare('SELECT data FROM execution_data').all() as Array<{ data: string }>).map(
			(r) => r.data,
		);
	} finally {
		db.close();
	}
	const webhookSecretInSavedExecutions = saved.filter((data) =>
		data.includes(WEBHOOK_SECRET),
	).length;
	return {
		systemSecret,
		webhookSecret,
		webhookSecretInSavedExecutions,
		executionsScanned: saved.length,
	};
}

/** Prints one clear line (also when jest hides console output of passing tests, it stays). */
export function printCounts(label: string, counts: Record<string, unknown>): void {
	const line = `[reliability${FULL ? ' full' : ''}] ${label}: ${Object.entries(counts)
		.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
		.join(' ')}`;
	process.stdout.write(`${line}\n`);
	console.log(line);
}

/** An HTTP server that records every request: where a payload must never send anything. */
export async function startTrap(): Promise<{
	url: string;
	hits: string[];
	close(): Promise<void>;
}> {
	const hits: string[] = [];
	const server: Server = createServer((req, res) => {
		hits.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end('{"data":[]}');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `http://127.0.0.1:${port}`,
		hits,
		close: async () =>
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns true; false on timeout. */
export async function waitFor(
	probe: () => Promise<boolean> | boolean,
	timeoutMs: number,
	everyMs = 20,
): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await probe()) return true;
		await sleep(everyMs);
	}
	return false;
}

/** Total of a numeric field over rounds or systems. */
export const sum = (values: Array<number | undefined | null>) =>
	values.reduce<number>((n, v) => n + (Number(v) || 0), 0);

/** What the systems counted between two stats snapshots. */
export function statsDelta(
	before: Record<string, SystemStats>,
	after: Record<string, SystemStats>,
): Record<string, SystemStats> {
	return Object.fromEntries(
		Object.entries(after).map(([name, a]) => {
			const b = before[name];
			return [
				name,
				{
					...a,
					requests: a.requests - b.requests,
					applied_writes: a.applied_writes - b.applied_writes,
					idempotent_replays: a.idempotent_replays - b.idempotent_replays,
					faults: {
						errors: a.faults.errors - b.faults.errors,
						throttled: a.faults.throttled - b.faults.throttled,
						resets: a.faults.resets - b.faults.resets,
						slow: a.faults.slow - b.faults.slow,
						failed_after_commit: a.faults.failed_after_commit - b.faults.failed_after_commit,
					},
				},
			];
		}),
	);
}
