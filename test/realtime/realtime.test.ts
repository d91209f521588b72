/**
 * The real-time suite: the bundled real-time workflow in a real n8n 2.41.1, the three demo
 * systems subscribed to it, and a driver editing records on all three as people would, at a
 * steady rate: single field edits, two systems editing one record at the same moment (different
 * fields, and the same field), creates and deletes. Then it prints and asserts:
 * - convergence: the sync monitor's Every Record validation passes within CONVERGE_MS;
 * - lost edits = 0: every edit is in the final state, superseded by a later edit of the same
 *   field (or a later delete), or recorded as a losing value in an audit of the sync log;
 * - loops = 0: after the systems agree, nothing is written for QUIET_MS; writes per edit bounded;
 * - syncs run, echo events dropped, writes, retries, edit-to-everywhere latency p50 / p95 / max.
 *
 * Small in `npm test` (5 edits/s for 10 s); full size with `npm run realtime` (REALTIME_FULL=1:
 * 20 edits/s for 60 s). Skips itself, saying why, when n8n is not installed, unless E2E_REQUIRED=1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import { describeWithN8n } from '../e2e/describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from '../e2e/n8n';
import {
	customer,
	startReceiver,
	startSystems,
	type EventReceiver,
	type StartedSystems,
} from '../systems/helpers';
import { Driver, latencies, percentile, SYSTEMS, type Edit } from './driver';

type Json = Record<string, unknown>;

/** n8n's saved run data is flatted: every object and string is an index into one array. */
function unflatten(text: string): unknown {
	const values = JSON.parse(text) as unknown[];
	const done = new Map<number, unknown>();
	const at = (i: number): unknown => {
		const value = values[i];
		if (typeof value !== 'object' || value === null) return value;
		if (done.has(i)) return done.get(i);
		const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
		done.set(i, out);
		for (const [k, v] of Object.entries(value))
			(out as Record<string, unknown>)[k] = typeof v === 'string' ? at(Number(v)) : v;
		return out;
	};
	return at(0);
}

const FULL = process.env.REALTIME_FULL === '1';
const RATE = FULL ? 20 : 5;
const SECONDS = FULL ? 60 : 10;
const KEYS = FULL ? 200 : 40;
const CONVERGE_MS = 60_000;
const QUIET_MS = 5_000;
const SIGNING_VALUE = 'realtime-suite-signing-secret';
const MONITOR_HEADER_VALUE = 'realtime-suite-monitor-secret';

const load = (file: string) =>
	JSON.parse(readFileSync(path.join(ROOT, 'workflows', file), 'utf8')) as Json;
const workflow = load('day66-realtime-sync.json');
const monitorWorkflow = load('day66-sync-monitor.json');

const describeSuite = describeWithN8n('real-time suite');

describeSuite('real-time sync under a steady stream of edits on all three systems', () => {
	let systems: StartedSystems;
	let receiver: EventReceiver;
	let n8n: RunningN8n;

	const table = (name: string) => n8n.dataTableRows(name) as Json[];
	const executions = () =>
		n8n.db(
			(d) =>
				d
					.prepare('SELECT status FROM execution_entity WHERE workflowId = ?')
					.all(String(workflow.id)) as Array<{ status: string }>,
		);
	async function liveRecords(system: string): Promise<Map<string, Json>> {
		const s = systems.systems[system];
		const res = await fetch(`${s.url}/records?limit=5000`, { headers: s.headers });
		const out = new Map<string, Json>();
		for (const r of ((await res.json()) as { data: Json[] }).data) {
			if (r._deleted === true) continue;
			const { version: _v, updated_at: _u, deleted_at: _d, ...fields } = r;
			out.set(String(r.id), fields);
		}
		return out;
	}
	const appliedWrites = async () =>
		(await Promise.all(SYSTEMS.map(async (n) => (await systems.stats(n)).applied_writes))).reduce(
			(a, b) => a + b,
		);
	async function monitor(): Promise<Json> {
		const res = await fetch(n8n.webhookUrl('data-sync/monitor'), {
			headers: { 'X-Sync-Secret': MONITOR_HEADER_VALUE },
		});
		return (await res.json()) as Json;
	}
	/**
	 * Where an execution's time goes: per node, the mean of its run time over the suite's
	 * executions (n8n saves each node's executionTime in the run data, flatted), and the
	 * executions' own durations.
	 */
	function profile(sinceId: number) {
		const rows = n8n.db(
			(d) =>
				d
					.prepare(
						`SELECT e.startedAt AS startedAt, e.stoppedAt AS stoppedAt, d.data AS data
						 FROM execution_entity e JOIN execution_data d ON d.executionId = e.id
						 WHERE e.workflowId = ? AND e.id > ?`,
					)
					.all(String(workflow.id), sinceId) as Array<Record<string, string>>,
		);
		const perNode = new Map<string, number[]>();
		const durations: number[] = [];
		const spans = rows.map((r) => [Date.parse(r.startedAt), Date.parse(r.stoppedAt)]);
		// Executions that ran while another one did: the base's writes had to hold under these.
		const overlapping = spans.filter(([a, b], i) =>
			spans.some(([c, d], j) => j !== i && c < b && a < d),
		).length;
		for (const row of rows) {
			durations.push(Date.parse(row.stoppedAt) - Date.parse(row.startedAt));
			const data = unflatten(row.data) as {
				resultData?: { runData?: Record<string, Array<{ executionTime?: number }>> };
			};
			for (const [node, runs] of Object.entries(data.resultData?.runData ?? {})) {
				const list = perNode.get(node) ?? [];
				for (const run of runs) list.push(run.executionTime ?? 0);
				perNode.set(node, list);
			}
		}
		durations.sort((a, b) => a - b);
		const mean = (l: number[]) => Math.round(l.reduce((a, b) => a + b, 0) / Math.max(1, l.length));
		return {
			overlappingExecutions: overlapping,
			executionMs: { p50: percentile(durations, 50), p95: percentile(durations, 95) },
			meanMsPerNode: Object.fromEntries(
				[...perNode].sort(([, a], [, b]) => mean(b) - mean(a)).map(([n, l]) => [n, mean(l)]),
			),
		};
	}
	const lastExecutionId = () =>
		n8n.db(
			(d) =>
				(d.prepare('SELECT MAX(id) AS id FROM execution_entity').get() as { id: number | null })
					.id ?? 0,
		);
	async function waitUntil(done: () => Promise<boolean>, ms: number): Promise<boolean> {
		const deadline = Date.now() + ms;
		while (Date.now() < deadline) {
			if (await done()) return true;
			await new Promise((r) => setTimeout(r, 250));
		}
		return done();
	}

	beforeAll(async () => {
		systems = await startSystems();
		receiver = await startReceiver();
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows: [workflow, monitorWorkflow],
			credentials: [
				...demoCredentials(Object.values(systems.systems)),
				{
					id: 'dsChangeEvents',
					name: 'Data sync change events',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'signature', secret: SIGNING_VALUE, toleranceSeconds: 300 },
				},
				{
					id: 'dsWebhookAuth',
					name: 'Data sync webhook secret',
					type: 'httpHeaderAuth',
					data: { name: 'X-Sync-Secret', value: MONITOR_HEADER_VALUE },
				},
			],
			publish: [String(workflow.id), String(monitorWorkflow.id)],
		});
		await n8n.waitForWebhook('data-sync/changes');
		await n8n.waitForWebhook('data-sync/monitor', 'GET');
		for (const name of SYSTEMS) {
			await systems.subscribe(name, n8n.webhookUrl('data-sync/changes'), SIGNING_VALUE);
			await systems.subscribe(name, receiver.url, 'receiver-secret');
		}
		// The first sync: system_a's customers arrive as one change event and reach the others,
		// which gives every key its base row.
		const seed = Array.from({ length: KEYS }, (_, i) =>
			customer(`rt-${String(i + 1).padStart(4, '0')}`, { note: 'seeded' }),
		);
		await fetch(`${systems.systems.system_a.url}/_admin/seed`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ records: seed }),
		});
		const ready = await waitUntil(
			async () =>
				(await liveRecords('system_c')).size === KEYS && table('sync_base').length === KEYS,
			60_000,
		);
		if (!ready) throw new Error('the first sync did not bring every key to every system');
	}, 300_000);

	afterAll(async () => {
		const logs = n8n?.logs() ?? '';
		if (process.env.E2E_DEBUG) console.log(logs);
		await n8n?.stop();
		await receiver?.close();
		await systems?.stop();
	}, 60_000);

	/** Values replaced by a resolution, per key and field, from the sync log's audits. */
	function losingValues(): Set<string> {
		const out = new Set<string>();
		for (const row of table('sync_log')) {
			for (const audit of JSON.parse(String(row.resolutions ?? '[]')) as Json[]) {
				const losing = (audit.losingValues ?? {}) as Record<string, Json>;
				for (const values of Object.values(losing))
					for (const [field, value] of Object.entries(values))
						out.add(`${String(audit.key)}\u0000${field}\u0000${JSON.stringify(value)}`);
			}
		}
		return out;
	}

	/** Each edit: kept, superseded, audited, or lost. */
	function account(journal: Edit[], final: Map<string, Json>, audited: Set<string>) {
		const tally = { kept: 0, superseded: 0, audited: 0, lost: 0 };
		const lost: Edit[] = [];
		const later = (e: Edit, f: (o: Edit) => boolean) =>
			journal.some((o) => o !== e && o.key === e.key && f(o) && o.doneAt >= e.doneAt);
		for (const e of journal) {
			const record = final.get(e.key);
			let verdict: keyof typeof tally;
			if (e.kind === 'field') {
				if (record?.[e.field!] === e.value) verdict = 'kept';
				else if (
					later(e, (o) => o.kind === 'delete' || (o.kind === 'field' && o.field === e.field)) ||
					journal.some(
						(o) =>
							o !== e &&
							o.key === e.key &&
							o.kind === 'field' &&
							o.field === e.field &&
							String(o.updatedAt) > String(e.updatedAt),
					)
				)
					verdict = 'superseded';
				else if (audited.has(`${e.key}\u0000${e.field}\u0000${JSON.stringify(e.value)}`))
					verdict = 'audited';
				else verdict = 'lost';
			} else if (e.kind === 'create') {
				verdict = record ? 'kept' : later(e, (o) => o.kind === 'delete') ? 'superseded' : 'lost';
			} else {
				verdict = !record
					? 'kept'
					: later(e, (o) => o.kind !== 'delete') || [...audited].some((a) => a.startsWith(e.key))
						? 'audited'
						: 'lost';
			}
			tally[verdict]++;
			if (verdict === 'lost') lost.push(e);
		}
		return { tally, lost };
	}

	it(`${RATE} edits/s for ${SECONDS} s: converges, loses no edit, never loops`, async () => {
		const writesBefore = await appliedWrites();
		const executionsBefore = executions().length;
		const firstExecution = lastExecutionId();
		const driver = new Driver(systems, {
			editsPerSecond: RATE,
			seconds: SECONDS,
			keys: [...(await liveRecords('system_a')).keys()],
			seed: 66,
		});
		await driver.run();
		const stopped = Date.now();

		// Convergence: the monitor's Every Record validation (range checksums) passes.
		let report: Json = {};
		const converged = await waitUntil(async () => {
			report = await monitor();
			return report.validation_status === 'passed';
		}, CONVERGE_MS);
		const convergeMs = Date.now() - stopped;
		// Loops: once the systems agree, nothing more is written.
		const settled = await appliedWrites();
		await new Promise((r) => setTimeout(r, QUIET_MS));
		const writesWhileQuiet = (await appliedWrites()) - settled;

		const final = await liveRecords('system_a');
		// The base, row by row: every live key's newest row holds its final values (no update lost
		// to an overlapping execution, none overwritten by an older one). Two first syncs of a new
		// key at once can both insert its row: counted, harmless (Read Base reads the newest last).
		const baseRows = table('sync_base');
		const sorted = (o: Json) => JSON.stringify(Object.fromEntries(Object.entries(o).sort()));
		const baseStale = [...final].filter(([key, record]) => {
			const newest = baseRows
				.filter((r) => r.key === key)
				.sort((x, y) => Number(x.synced_ms) - Number(y.synced_ms))
				.at(-1);
			const { id: _id, ...fields } = record;
			return !newest || sorted(JSON.parse(String(newest.values)) as Json) !== sorted(fields);
		});
		const baseDuplicates = baseRows.length - new Set(baseRows.map((r) => r.key)).size;
		const { tally, lost } = account(driver.journal, final, losingValues());
		const syncWrites = receiver.accepted
			.flatMap((e) => e.body.changes)
			.filter((c) => c.origin !== null).length;
		const delivered = (
			await Promise.all(SYSTEMS.map(async (n) => (await systems.stats(n)).deliveries.delivered))
		).reduce((a, b) => a + b, 0);
		// Deliveries to n8n that failed (and were retried after a backoff), with the last error.
		const toN8n = (
			await Promise.all(
				SYSTEMS.map(async (n) => {
					const res = await fetch(`${systems.systems[n].url}/_admin/subscriptions`);
					const { subscriptions } = (await res.json()) as { subscriptions: Json[] };
					return subscriptions.filter((sub) => sub.url === n8n.webhookUrl('data-sync/changes'));
				}),
			)
		).flat();
		const syncsRun = executions().length - executionsBefore;
		const eventsToN8n = delivered - receiver.accepted.length;
		const log = table('sync_log');
		const retries = log.reduce((n, r) => n + Number(r.retries ?? 0), 0);
		const lat = latencies(driver.journal, receiver.accepted);
		const figures = {
			edits: driver.journal.length,
			fieldEdits: driver.journal.filter((e) => e.kind === 'field').length,
			pairsSameField: driver.journal.filter((e) => e.pair === 'sameField').length / 2,
			pairsOtherField: driver.journal.filter((e) => e.pair === 'otherField').length / 2,
			creates: driver.journal.filter((e) => e.kind === 'create').length,
			deletes: driver.journal.filter((e) => e.kind === 'delete').length,
			refusedByIfMatch: driver.journal.reduce((n, e) => n + e.refused, 0),
			converged,
			convergeMs,
			...tally,
			writesWhileQuiet,
			baseRows: baseRows.length,
			// What one key costs in n8n's data tables (whose default limit is 200 MB in all).
			baseBytesPerRow: Math.round(
				baseRows.reduce(
					(n, r) =>
						n +
						['key', 'fingerprint', 'values', 'synced_at', 'sync_id'].reduce(
							(m, c) => m + String(r[c] ?? '').length,
							0,
						),
					0,
				) / Math.max(1, baseRows.length),
			),
			baseStale: baseStale.length,
			baseDuplicates,
			syncsRun,
			failedExecutions: executions().filter((e) => e.status !== 'success').length,
			eventsToN8n,
			echoEventsDropped: eventsToN8n - syncsRun,
			syncWrites,
			writesPerEdit: +(syncWrites / driver.journal.length).toFixed(2),
			appliedWrites: (await appliedWrites()) - writesBefore,
			retries,
			deliveriesFailed: toN8n.reduce((n, sub) => n + Number(sub.failed), 0),
			deliveryErrors: [...new Set(toN8n.map((sub) => sub.last_error).filter(Boolean))],
			...profile(firstExecution),
			latencyMs: {
				measured: lat.length,
				p50: percentile(lat, 50),
				p95: percentile(lat, 95),
				max: lat.at(-1),
			},
		};
		console.log(
			`[real-time] ${RATE} edits/s x ${SECONDS} s, ${KEYS} keys: ${JSON.stringify(figures)}`,
		);
		if (lost.length) console.log(`[real-time] lost: ${JSON.stringify(lost.slice(0, 10))}`);

		expect(converged).toBe(true);
		expect(report).toMatchObject({ validation_status: 'passed', counts: { differences: 0 } });
		expect(lost).toEqual([]);
		expect(writesWhileQuiet).toBe(0);
		expect(baseStale.map(([key]) => key)).toEqual([]);
		// ... under executions that overlapped (each system has one event in flight at a time).
		expect(figures.overlappingExecutions).toBeGreaterThan(0);
		// Each edit reaches the two other systems; a merge also writes back to the editing systems,
		// and two syncs of one record at once may both write it: bounded by 4 writes per edit.
		expect(figures.writesPerEdit).toBeLessThanOrEqual(4);
		expect(figures.failedExecutions).toBe(0);
	}, 600_000);
});
