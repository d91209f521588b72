/**
 * Multi Target Sync writing to the three demo systems (child processes) through n8n's engine:
 * dry run, idempotent retries, faults, a target that stays down, optimistic concurrency, the
 * mass-delete guard, an unknown target and a wrong secret.
 */
import type { IDataObject } from 'n8n-workflow';

import { json } from '../../harness/build';
import {
	allRecords,
	api,
	comparable,
	credentialsFor,
	expectConverged,
	payload,
	pipeline,
	report,
	run,
	keptOutputs,
	secretsOf,
	seed,
	writeOnly,
} from '../../sync/pipeline';
import { customer, startSystems, type StartedSystems } from '../../systems/helpers';

let started: StartedSystems;
// Whatever the file keeps: no secret in any node output, error or report.
const keep = keptOutputs(() => started);

beforeAll(async () => {
	started = await startSystems();
}, 60000);

afterAll(async () => started?.stop());

describe('Multi Target Sync writes to the demo systems', () => {
	beforeEach(async () => {
		await started.reset();
		const records = Array.from({ length: 30 }, (_, i) =>
			customer(`k${String(i).padStart(2, '0')}`),
		);
		await seed(started, 'system_a', records);
	});

	it('a dry run plans every write and writes nothing', async () => {
		const result = keep(
			await run(started, pipeline(await payload(started), { sync: { writeMode: 'dryRun' } })),
		);
		const results = json(result.output('Multi Target Sync', 0));
		// 30 keys x 3 systems: the source already holds them, each target would get a create.
		expect(results).toHaveLength(90);
		const planned = results.filter((r) => r.outcome === 'planned');
		expect(planned).toHaveLength(60);
		expect(planned.every((r) => r.action === 'would create' && r.system !== 'system_a')).toBe(true);
		expect(
			results.filter((r) => r.system === 'system_a').every((r) => r.outcome === 'unchanged'),
		).toBe(true);
		for (const name of ['system_a', 'system_b', 'system_c'])
			expect((await started.stats(name)).applied_writes).toBe(0);
	});

	it('a write whose answer is lost is retried with the same idempotency key and applied once', async () => {
		await started.setFaults('system_c', { failAfterCommitRate: 0.5, seed: 3 });
		const result = keep(
			await run(started, pipeline(await payload(started), { sync: { options: { batchSize: 3 } } })),
		);
		await started.setFaults('system_c', { failAfterCommitRate: 0 });
		const stats = await started.stats('system_c');
		expect(stats.applied_writes).toBe(30);
		expect(stats.faults.failed_after_commit).toBeGreaterThan(0);
		expect(stats.idempotent_replays).toBeGreaterThanOrEqual(stats.faults.failed_after_commit);
		expect(report(result)).toMatchObject({ status: 'passed', records_written: 60 });
	});

	it('429, 5xx and resets are retried to success', async () => {
		for (const name of ['system_b', 'system_c']) {
			await started.setFaults(name, {
				errorRate: 0.25,
				throttleRate: 0.15,
				resetRate: 0.1,
				retryAfterSeconds: 0,
				seed: 7,
			});
		}
		const result = keep(
			await run(
				started,
				pipeline(await payload(started), { sync: { options: { batchSize: 5, maxAttempts: 8 } } }),
			),
		);
		const b = await started.stats('system_b');
		const c = await started.stats('system_c');
		for (const name of ['system_b', 'system_c'])
			await started.setFaults(name, { errorRate: 0, throttleRate: 0, resetRate: 0 });
		expect(
			b.faults.errors +
				b.faults.throttled +
				b.faults.resets +
				c.faults.errors +
				c.faults.throttled +
				c.faults.resets,
		).toBeGreaterThan(0);
		const r = report(result);
		expect(r).toMatchObject({ status: 'passed', records_written: 60, failed_writes: 0 });
		expect(((r.transport as IDataObject).sync as IDataObject).retries).toBeGreaterThan(0);
		await expectConverged(started, Object.keys(await comparable(started.systems.system_a)));
	});

	it('30% injected faults on every system: the sync converges, and the figures are printed', async () => {
		const records = Array.from({ length: 200 }, (_, i) =>
			customer(`f${String(i).padStart(3, '0')}`),
		);
		await seed(started, 'system_a', records);
		await seed(
			started,
			'system_c',
			records.slice(0, 50).map((r) => ({ ...r, tier: 'gold' })),
		);
		const faults = { errorRate: 0.15, throttleRate: 0.1, resetRate: 0.05, retryAfterSeconds: 0 };
		for (const [i, name] of ['system_a', 'system_b', 'system_c'].entries())
			await started.setFaults(name, { ...faults, seed: 11 + i });
		const result = keep(
			await run(
				started,
				pipeline(await payload(started), {
					resolve: { strategy: 'sourceWins' },
					sync: { options: { batchSize: 5, maxAttempts: 8 } },
					validate: { options: { maxAttempts: 8 } },
				}),
			),
		);
		const stats = await Promise.all(
			['system_a', 'system_b', 'system_c'].map((n) => started.stats(n)),
		);
		for (const name of ['system_a', 'system_b', 'system_c'])
			await started.setFaults(name, { errorRate: 0, throttleRate: 0, resetRate: 0 });
		const r = report(result);
		const transport = r.transport as { sync: IDataObject; validate: IDataObject };
		const injected = stats.map((s) => s.faults.errors + s.faults.throttled + s.faults.resets);
		console.log(
			`30% faults: ${(r.counts as IDataObject as { validate: IDataObject }).validate.keys} keys, ${r.records_written} writes applied, ` +
				`${r.failed_writes} failed; sync requests ${transport.sync.requests} (retries ${transport.sync.retries}, 429s ${transport.sync.throttled}); ` +
				`validate requests ${transport.validate.requests} (retries ${transport.validate.retries}); faults injected per system ${injected.join('/')}; ` +
				`applied writes per system ${stats.map((s) => s.applied_writes).join('/')}`,
		);
		expect(injected.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
		// 230 keys (30 seeded for every test, 200 here): 180 creates + 50 updates on system_c, 230 creates on system_b.
		expect(r).toMatchObject({ status: 'passed', failed_writes: 0, records_written: 460 });
		// Exactly one applied write per planned write: retries never duplicated one.
		expect(stats.map((s) => s.applied_writes)).toEqual([0, 230, 230]);
		await expectConverged(
			started,
			records.map((x) => String(x.id)),
		);
	});

	it('a target that stays down ends on the Failed output with every key accounted for', async () => {
		const checked = keep(
			await run(started, pipeline(await payload(started), { stopAfterResolve: true })),
		);
		// system_c goes down after the check, before the writes.
		await started.setFaults('system_c', { errorRate: 1 });
		const result = keep(
			await run(
				started,
				writeOnly(json(checked.output('Conflict Resolve', 0)), {
					sync: { options: { maxAttempts: 2 } },
					validate: { options: { maxAttempts: 1 } },
				}),
			),
		);
		await started.setFaults('system_c', { errorRate: 0 });
		const results = json(result.output('Multi Target Sync', 0));
		const failed = json(result.output('Multi Target Sync', 1));
		// Every key on every system: the source unchanged, system_b written, system_c failed.
		expect(results).toHaveLength(90);
		expect(failed).toHaveLength(30);
		expect(new Set(failed.map((f) => f.key)).size).toBe(30);
		expect(
			failed.every(
				(f) =>
					f.system === 'system_c' && /failed after 2 attempts: HTTP 50[03]/.test(String(f.reason)),
			),
		).toBe(true);
		expect(
			results.filter((r) => r.system === 'system_b').every((r) => r.outcome === 'written'),
		).toBe(true);
		const r = report(result);
		expect(r).toMatchObject({ status: 'failed', failed_writes: 30, records_written: 30 });
		expect((r.insights as string[]).some((s) => s.includes('writes failed on system_c'))).toBe(
			true,
		);
		// Nothing validated (system_c lacks every key): no key advances the base.
		expect(json(result.output('Sync Validate', 1))).toEqual([]);
	});

	it('a system that changed after the check is not overwritten: its key comes back as a conflict', async () => {
		await seed(started, 'system_c', [customer('k01', { tier: 'gold' })]);
		const checked = keep(
			await run(
				started,
				pipeline(await payload(started), {
					stopAfterResolve: true,
					resolve: { strategy: 'sourceWins' },
				}),
			),
		);
		const resolved = json(checked.output('Conflict Resolve', 0));
		// Someone edits k01 on system_c between the check and the write.
		await api(started.systems.system_c, 'PUT', '/records/k01', {
			...customer('k01'),
			tier: 'diamond',
		});
		const result = keep(await run(started, writeOnly(resolved)));
		const conflicts = json(result.output('Multi Target Sync', 2));
		expect(conflicts.map((c) => [c.key, c.system, c.conflictType])).toEqual([
			['k01', 'system_c', 'concurrent_change'],
		]);
		expect((await comparable(started.systems.system_c)).k01.tier).toBe('diamond');
		expect(report(result)).toMatchObject({
			status: 'failed',
			conflictsRequeued: [{ key: 'k01', system: 'system_c' }],
		});
	});

	it('the mass-delete guard stops a sync that would delete most of a system before writing', async () => {
		const first = keep(await run(started, pipeline(await payload(started))));
		expect(report(first)).toMatchObject({ status: 'passed' });
		for (let i = 0; i < 20; i++)
			await api(started.systems.system_a, 'DELETE', `/records/k${String(i).padStart(2, '0')}`);
		const before = await Promise.all(
			['system_b', 'system_c'].map(async (n) => (await started.stats(n)).applied_writes),
		);
		const result = keep(await run(started, pipeline(await payload(started)), first.staticData));
		expect(result.status).toBe('error');
		expect(result.error!.message).toBe(
			'Mass-delete guard: this sync would delete 20 of 30 records on system_b (67%, over the 50% limit). Nothing was written.',
		);
		const after = await Promise.all(
			['system_b', 'system_c'].map(async (n) => (await started.stats(n)).applied_writes),
		);
		expect(after).toEqual(before);
		const allowed = keep(
			await run(
				started,
				pipeline(await payload(started), { sync: { options: { maxDeleteShare: 80 } } }),
				first.staticData,
			),
		);
		expect(report(allowed)).toMatchObject({ status: 'passed' });
		expect((await allRecords(started.systems.system_b)).filter((r) => r._deleted)).toHaveLength(20);
	});

	it('an unknown target system is a clear error before anything is written', async () => {
		const result = keep(
			await run(
				started,
				pipeline(await payload(started, { target_systems: ['system_b', 'system_x'] })),
			),
		);
		expect(result.status).toBe('error');
		expect(result.error!.message).toMatch(/Unknown system "system_x"/);
		for (const name of ['system_a', 'system_b', 'system_c'])
			expect((await started.stats(name)).applied_writes).toBe(0);
	});

	it('a wrong secret fails with the system’s answer, and no secret appears in the error', async () => {
		const badValue = 'wrong-token-6b1e0d';
		const credentials = credentialsFor(started);
		credentials.dataSyncSystem2Api = { ...credentials.dataSyncSystem2Api, token: badValue };
		const result = keep(
			await run(started, pipeline(await payload(started)), undefined, credentials),
		);
		expect(result.status).toBe('error');
		const message = result.error!.message;
		expect(message).toBe(
			'Reading system_b: system_b: POST /records/lookup answered HTTP 401: unauthorized',
		);
		const everything = JSON.stringify([
			result.runData,
			message,
			(result.error as { description?: string }).description,
		]);
		for (const secret of [badValue, ...secretsOf(started)])
			expect(everything).not.toContain(secret);
		for (const name of ['system_a', 'system_b', 'system_c'])
			expect((await started.stats(name)).applied_writes).toBe(0);
	});
});
