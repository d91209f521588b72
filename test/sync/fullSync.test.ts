import type { IDataObject } from 'n8n-workflow';

import { json } from '../harness/build';
import { customer, startSystems, type StartedSystems } from '../systems/helpers';
import {
	allRecords,
	api,
	comparable,
	expectConverged,
	payload,
	pipeline,
	report,
	run,
	keptOutputs,
	seed,
} from './pipeline';

let started: StartedSystems;
// Whatever the file keeps: no secret in any node output, error or report.
const keep = keptOutputs(() => started);

beforeAll(async () => {
	started = await startSystems();
}, 60000);

afterAll(async () => started?.stop());

describe('a sync across three demo systems, through n8n’s engine', () => {
	let staticData: IDataObject | undefined;

	beforeAll(async () => {
		await started.reset();
		await seed(started, 'system_a', [
			customer('c1', { email: 'a1@a.io' }),
			customer('c2'),
			customer('c3'),
			customer('c4'),
		]);
		await seed(started, 'system_b', [
			customer('c1', { email: 'b1@b.io' }),
			customer('c2'),
			customer('c5', { tier: 'gold' }),
		]);
		await seed(started, 'system_c', [customer('c1'), customer('c3', { balance: 99 })]);
	});

	it('first sync: every system ends with the same records, and the base is committed', async () => {
		const result = keep(
			await run(started, pipeline(await payload(started), { check: { scope: 'all' } })),
		);
		expect(result.status).toBe('success');
		const r = report(result);
		expect(r).toMatchObject({
			status: 'passed',
			sync_type: 'bidirectional',
			source_system: 'system_a',
			validation_status: 'passed',
		});
		expect(r.counts).toMatchObject({ validate: { keys: 5, passed: 5, failed: 0 } });
		const a = await expectConverged(started, ['c1', 'c2', 'c3', 'c4', 'c5']);
		expect(Object.keys(a).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
		// No base on the first sync: c1 differs on three systems and is a conflict, resolved by LWW.
		const c1 = json(result.output('Conflict Resolve', 0)).find((i) => i.key === 'c1')!;
		expect(c1).toMatchObject({ kind: 'conflict', basis: 'none' });
		expect((c1.audit as IDataObject).strategy).toBe('lastWriterWins');
		staticData = result.staticData;
		const stored = (staticData.global as IDataObject)['dataSync:default'] as IDataObject;
		expect(Object.keys(stored.keys as IDataObject).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
	});

	it('a re-sent sync writes nothing new', async () => {
		const before = await Promise.all(
			['system_a', 'system_b', 'system_c'].map((n) => started.stats(n)),
		);
		const result = keep(await run(started, pipeline(await payload(started)), staticData));
		expect(report(result)).toMatchObject({ status: 'nothing_to_sync' });
		const after = await Promise.all(
			['system_a', 'system_b', 'system_c'].map((n) => started.stats(n)),
		);
		expect(after.map((s) => s.applied_writes)).toEqual(before.map((s) => s.applied_writes));
	});

	// Changed with the disjoint-edits merge: these edits (email and tier on system_a, balance on
	// system_b) were an update_update conflict with no conflicting field, and only a field-level
	// merge kept both. They are a clean change now, merged under the default strategy.
	it('edits to different fields on two systems merge under the default strategy, with the audit', async () => {
		await api(started.systems.system_a, 'PUT', '/records/c1', {
			...customer('c1'),
			email: 'new-a@a.io',
			tier: 'gold',
		});
		await api(started.systems.system_b, 'PUT', '/records/c1', {
			...customer('c1'),
			email: (await comparable(started.systems.system_b)).c1.email,
			balance: 50,
		});
		const result = keep(await run(started, pipeline(await payload(started)), staticData));
		const c1 = json(result.output('Conflict Resolve', 0)).find((i) => i.key === 'c1')!;
		expect(c1).toMatchObject({
			kind: 'change',
			basis: 'base',
			proposedFrom: 'merged',
			states: { system_a: 'changed', system_b: 'changed', system_c: 'unchanged' },
		});
		expect(c1.audit).toMatchObject({
			strategy: 'cleanChange',
			winner: 'merged',
			fieldWinners: {
				email: { from: ['system_a'] },
				tier: { from: ['system_a'] },
				balance: { from: ['system_b'] },
			},
			losingValues: { system_a: { balance: 10 }, system_b: { tier: 'silver' } },
		});
		expect(report(result)).toMatchObject({
			status: 'passed',
			conflicts_detected: 0,
			conflicts_resolved: 0,
		});
		const a = await expectConverged(started, ['c1']);
		expect(a.c1).toMatchObject({ email: 'new-a@a.io', tier: 'gold', balance: 50 });
		staticData = result.staticData;
	});

	it('a delete on one system propagates as a tombstone to the others', async () => {
		await api(started.systems.system_b, 'DELETE', '/records/c2');
		const result = keep(await run(started, pipeline(await payload(started)), staticData));
		expect(report(result)).toMatchObject({ status: 'passed' });
		for (const name of ['system_a', 'system_c']) {
			const c2 = (await allRecords(started.systems[name])).find((r) => r.id === 'c2');
			expect(c2).toMatchObject({ _deleted: true });
		}
		staticData = result.staticData;
	});

	it('one-way never writes the source, even when the resolution differs from it', async () => {
		await api(started.systems.system_a, 'PUT', '/records/c3', {
			...customer('c3'),
			tier: 'bronze',
		});
		await new Promise((r) => setTimeout(r, 5));
		await api(started.systems.system_c, 'PUT', '/records/c3', {
			...customer('c3'),
			tier: 'platinum',
		});
		const before = (await started.stats('system_a')).applied_writes;
		const result = keep(
			await run(started, pipeline(await payload(started, { sync_type: 'one_way' })), staticData),
		);
		expect((await started.stats('system_a')).applied_writes).toBe(before);
		// LWW picked system_c's later edit; the source keeps its own, so validation fails for c3.
		const r = report(result);
		expect(r).toMatchObject({ status: 'failed', sync_type: 'one_way' });
		expect(r.differing).toEqual([{ key: 'c3', system: 'system_a', fields: ['tier'] }]);
		expect((await comparable(started.systems.system_b)).c3.tier).toBe('platinum');
	});
});
