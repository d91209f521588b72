/**
 * End-to-end: a partitioned sync (workflows/day66-partitioned-sync.json calling
 * workflows/day66-sync-partition.json once per key range) in n8n 2.41.1 **queue mode** (main +
 * two `n8n worker` processes, Redis, PostgreSQL as n8n's database: test/e2e/queue.ts), against
 * the three demo systems; and the same sync of an identical copy of the systems in one
 * regular-mode n8n (SQLite). Both start from the same seed: system_a holds every customer,
 * system_b some of them (some edited later than system_a's copy, some earlier), system_c a few
 * only it has.
 *
 * Checks, reading each system's own store and n8n's own records:
 * - the partitioned sync answers 200 with one report: every range passed, the keys of all
 *   ranges together are every key, Max Keys per Range held in every range;
 * - the partition executions ran on BOTH workers (each worker's "Worker started execution"
 *   log lines, matched with n8n's execution records of the partition workflow);
 * - afterwards the three systems agree, and hold the same records as the systems synced by
 *   the regular-mode n8n (version and timestamps aside);
 * - the base (table data_sync_base in a PostgreSQL database of each n8n's own) holds one row per
 *   key the partitions wrote, the same in both; a key then edited on system_b alone is no
 *   conflict (the base shows only system_b changed it) and its base row moves on;
 * - a second run finds nothing to do: no range differs, nothing is written.
 *
 * Skips itself, saying why, when n8n, PostgreSQL or Redis is missing, unless E2E_REQUIRED=1.
 */
import { customer, startSystems, systemApi, type StartedSystems } from '../systems/helpers';
import { describeWithN8n } from './describe';
import { freePortPair, n8nInstalled, packPackage, startN8n, type RunningN8n } from './n8n';
import {
	createBaseStore,
	credentials,
	PARENT_ID,
	parentFor,
	partitionUrl,
	partitionWorkflow,
	runPartitioned,
	SYSTEMS,
	type BaseStore,
	type Json,
} from './partitioned';
import { queuePrerequisites, startN8nQueue, type RunningN8nQueue } from './queue';

const MAX_KEYS = Number(process.env.E2E_MAX_KEYS ?? 40);
const partition = partitionWorkflow();

/** The same seed for both copies; every timestamp given, so last writer wins decides alike. */
function seed(): Record<string, Json[]> {
	const at = (minutes: number) => new Date(Date.UTC(2026, 10, 1, 9, minutes)).toISOString();
	const key = (i: number) => `p-${String(i).padStart(4, '0')}`;
	const a = Array.from({ length: 200 }, (_, i) =>
		customer(key(i + 1), { tier: 'silver', updated_at: at(10) }),
	);
	// system_b: keys 1-60; 1-10 edited later there (b wins), 11-20 edited earlier (a wins).
	const b = a
		.slice(0, 60)
		.map((r, i) =>
			i < 10
				? { ...r, tier: 'gold', updated_at: at(20) }
				: i < 20
					? { ...r, tier: 'bronze', updated_at: at(5) }
					: r,
		);
	// system_c: a few customers only it has, past the end of system_a's keys.
	const c = Array.from({ length: 15 }, (_, i) =>
		customer(key(300 + i), { tier: 'platinum', updated_at: at(15) }),
	);
	return { system_a: a, system_b: b, system_c: c };
}

async function seedSystems(systems: StartedSystems): Promise<void> {
	for (const [name, records] of Object.entries(seed())) {
		const res = await fetch(`${systems.systems[name].url}/_admin/seed`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ records }),
		});
		if (!res.ok) throw new Error(`seeding ${name}: ${res.status} ${await res.text()}`);
	}
}

/** Each system's live records, without what the system stamps (version, timestamps). */
async function state(systems: StartedSystems): Promise<Record<string, Record<string, Json>>> {
	const out: Record<string, Record<string, Json>> = {};
	for (const name of SYSTEMS) {
		const s = systems.systems[name];
		const res = await fetch(`${s.url}/records?limit=5000`, { headers: s.headers });
		const records: Record<string, Json> = {};
		for (const r of ((await res.json()) as { data: Json[] }).data) {
			if (r._deleted === true) continue;
			const { version: _v, updated_at: _u, deleted_at: _d, ...fields } = r;
			records[String(r.id)] = fields;
		}
		out[name] = records;
	}
	return out;
}

const describeQueue = describeWithN8n(
	'partitioned sync in queue mode',
	n8nInstalled() ? queuePrerequisites() : [],
);

describeQueue('a partitioned sync across queue-mode workers', () => {
	let queued: StartedSystems;
	let regular: StartedSystems;
	let queue: RunningN8nQueue;
	let single: RunningN8n;
	let queueBase: BaseStore;
	let singleBase: BaseStore;

	beforeAll(async () => {
		queued = await startSystems();
		regular = await startSystems();
		[queueBase, singleBase] = [await createBaseStore(), await createBaseStore()];
		await Promise.all([seedSystems(queued), seedSystems(regular)]);
		const tgz = packPackage();
		const [queuePort, singlePort] = [await freePortPair(), await freePortPair()];
		[queue, single] = await Promise.all([
			startN8nQueue({
				port: queuePort,
				packageTgz: tgz,
				workers: 2,
				concurrency: 2,
				credentials: credentials(queued, queueBase),
				workflows: [partition, parentFor(partitionUrl(queuePort), MAX_KEYS)],
				publish: [partition.id, PARENT_ID],
			}),
			startN8n({
				port: singlePort,
				packageTgz: tgz,
				credentials: credentials(regular, singleBase),
				workflows: [partition, parentFor(partitionUrl(singlePort), MAX_KEYS)],
				publish: [partition.id, PARENT_ID],
			}),
		]);
		await Promise.all([
			queue.waitForWebhook('data-sync/partition'),
			queue.waitForWebhook('data-sync/partitioned'),
			single.waitForWebhook('data-sync/partition'),
			single.waitForWebhook('data-sync/partitioned'),
		]);
	}, 400_000);

	afterAll(async () => {
		if (process.env.E2E_DEBUG) for (const p of queue?.processes ?? []) console.log(queue.logs(p));
		await Promise.all([queue?.stop(), single?.stop()]);
		await Promise.all([queued?.stop(), regular?.stop(), queueBase?.drop(), singleBase?.drop()]);
	}, 120_000);

	it('reconciles every differing range on both workers, to the same end state as one n8n', async () => {
		const [q, r] = await Promise.all([
			runPartitioned(queue.webhookUrl('data-sync/partitioned')),
			runPartitioned(single.webhookUrl('data-sync/partitioned')),
		]);
		console.log(
			`[partitioned e2e] queue mode: ${JSON.stringify({ ...q.body, partitions: undefined })}; regular: ${JSON.stringify({ ...r.body, partitions: undefined })}`,
		);
		for (const run of [q, r]) {
			expect(run.status).toBe(200);
			expect(run.body).toMatchObject({ status: 'passed', failed_ranges: [] });
			// No base yet: keys 1-20, which system_a and system_b hold differently, are conflicts.
			expect(Number(run.body.conflicts)).toBeGreaterThanOrEqual(20);
		}
		// 215 keys in all (200 on system_a, 15 only on system_c), at most MAX_KEYS per range.
		const ranges = q.body.partitions as Json[];
		expect(ranges.length).toBeGreaterThanOrEqual(Math.ceil(215 / MAX_KEYS));
		for (const range of ranges) expect(Number(range.keys)).toBeLessThanOrEqual(MAX_KEYS);
		expect(q.body.keys).toBe(215);

		// Which worker ran which partition: the workers' own log lines, n8n's execution records.
		const partitionRuns = new Set(
			(
				await queue.query<{ id: string }>(
					`SELECT id::text AS id FROM execution_entity WHERE "workflowId" = '${partition.id}'`,
				)
			).map((row) => row.id),
		);
		const byWorker = await queue.executionsByWorker();
		const perWorker = Object.fromEntries(
			Object.entries(byWorker).map(([w, ids]) => [
				w,
				ids.filter((id) => partitionRuns.has(id)).length,
			]),
		);
		console.log(`[partitioned e2e] partition executions per worker: ${JSON.stringify(perWorker)}`);
		expect(partitionRuns.size).toBe(ranges.length);
		expect(Object.values(perWorker).reduce((a, b) => a + b, 0)).toBe(partitionRuns.size);
		expect(perWorker.worker1).toBeGreaterThan(0);
		expect(perWorker.worker2).toBeGreaterThan(0);

		// The systems agree, and hold what the one-process run left on its copy.
		const [afterQueue, afterSingle] = await Promise.all([state(queued), state(regular)]);
		expect(Object.keys(afterQueue.system_a)).toHaveLength(215);
		expect(afterQueue.system_b).toEqual(afterQueue.system_a);
		expect(afterQueue.system_c).toEqual(afterQueue.system_a);
		expect(afterQueue).toEqual(afterSingle);
		// Last writer wins by updated_at: system_b's later edits won, its earlier ones lost.
		expect(afterQueue.system_a['p-0001'].tier).toBe('gold');
		expect(afterQueue.system_c['p-0011'].tier).toBe('silver');
		expect(afterQueue.system_b['p-0300'].tier).toBe('platinum');

		// The base: a row per key validated after a write (all 215: every key lacked a copy
		// somewhere), the same in both stores.
		const rows = (store: BaseStore) =>
			store.query<{ key: string; fingerprint: string }>(
				'SELECT key, fingerprint FROM data_sync_base ORDER BY key',
			);
		const [queueRows, singleRows] = await Promise.all([rows(queueBase), rows(singleBase)]);
		expect(q.body.base_rows).toBe(queueRows.length);
		expect(queueRows).toHaveLength(215);
		expect(queueRows).toEqual(singleRows);
	}, 300_000);

	it('keeps the base per key: an edit on one system alone is no conflict, and the base moves on', async () => {
		const edited = ['p-0031', 'p-0032', 'p-0150', 'p-0151', 'p-0302'];
		const baseOf = async () =>
			Object.fromEntries(
				(
					await queueBase.query<{ key: string; fingerprint: string; synced_at: string }>(
						`SELECT key, fingerprint, synced_at FROM data_sync_base WHERE key IN (${edited.map((k) => `'${k}'`).join(', ')})`,
					)
				).map((r) => [r.key, r]),
			);
		const before = await baseOf();
		// Edited in system_b itself, through its own API, as a person or app there would. Without a
		// base each would be a conflict (the systems differ, nothing says which one changed).
		for (const key of edited) {
			const res = await systemApi(
				queued.systems.system_b,
				'PUT',
				`/records/${key}`,
				customer(key, { tier: 'diamond' }),
			);
			expect(res).toMatchObject({ data: { id: key, tier: 'diamond' } });
		}
		const run = await runPartitioned(queue.webhookUrl('data-sync/partitioned'));
		console.log(`[partitioned e2e] after 5 edits on system_b: ${JSON.stringify(run.body)}`);
		expect(run.status).toBe(200);
		expect(run.body).toMatchObject({ status: 'passed', conflicts: 0, written: 10, base_rows: 5 });
		const after = await state(queued);
		for (const key of edited) {
			expect(after.system_a[key].tier).toBe('diamond');
			expect(after.system_c[key].tier).toBe('diamond');
		}
		const moved = await baseOf();
		for (const key of edited) {
			expect(moved[key].fingerprint).not.toBe(before[key].fingerprint);
			expect(Date.parse(moved[key].synced_at)).toBeGreaterThan(Date.parse(before[key].synced_at));
		}
	}, 180_000);

	it('reports a range whose base cannot be written as failed, with the error', async () => {
		// A fault in the base store: PostgreSQL refuses every new base row (a CHECK constraint no
		// fingerprint meets), so Commit Base fails in the partition that holds the edited key.
		await queueBase.exec(
			"ALTER TABLE data_sync_base ADD CONSTRAINT refuse_rows CHECK (fingerprint = 'never') NOT VALID",
		);
		try {
			const res = await systemApi(
				queued.systems.system_c,
				'PUT',
				'/records/p-0077',
				customer('p-0077', { tier: 'copper' }),
			);
			expect(res).toMatchObject({ data: { id: 'p-0077', tier: 'copper' } });
			const run = await runPartitioned(queue.webhookUrl('data-sync/partitioned'));
			console.log(`[partitioned e2e] base store refusing rows: ${JSON.stringify(run.body)}`);
			expect(run.status).toBe(207);
			expect(run.body).toMatchObject({ status: 'failed', ranges: 1 });
			const failed = run.body.failed_ranges as Json[];
			expect(failed).toHaveLength(1);
			expect(String(failed[0].from) <= 'p-0077').toBe(true);
			expect(String(failed[0].error)).toMatch(/\S/);
		} finally {
			await queueBase.exec('ALTER TABLE data_sync_base DROP CONSTRAINT refuse_rows');
		}
	}, 180_000);

	it('a second run finds no range that differs and writes nothing', async () => {
		const before = await state(queued);
		const again = await runPartitioned(queue.webhookUrl('data-sync/partitioned'));
		expect(again.status).toBe(200);
		expect(again.body).toMatchObject({ status: 'passed', ranges: 0, written: 0 });
		expect(await state(queued)).toEqual(before);
	}, 120_000);
});
