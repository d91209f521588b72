/**
 * A webhook payload is a message about the source system, and messages go stale: the same
 * request re-sent after a sync that wrote to the source, or an event overtaken by a later edit.
 * Found by the sync monitor in the demo: re-sending the first payload after a sync wrote old
 * values over the resolved ones on the targets. Conflict Check now re-reads the source system
 * (when it is connected) and checks its current records instead of the stale ones.
 */
import type { IDataObject } from 'n8n-workflow';

import { json } from '../../harness/build';
import { customer, startSystems, type StartedSystems } from '../../systems/helpers';
import { comparable, payload, pipeline, report, run, seed } from '../../sync/pipeline';

let started: StartedSystems;
beforeAll(async () => {
	started = await startSystems();
}, 60000);
afterAll(async () => started?.stop());

const applied = async () =>
	Promise.all(
		['system_a', 'system_b', 'system_c'].map(async (n) => (await started.stats(n)).applied_writes),
	);
const stores = async () =>
	Promise.all(['system_a', 'system_b', 'system_c'].map((n) => comparable(started.systems[n])));

/** A first sync in which system_b's newer edit wins, so the sync writes to the source. */
async function firstSync() {
	await started.reset();
	await seed(started, 'system_a', [
		customer('c1', { updated_at: '2025-06-01T09:00:00.000Z' }),
		customer('c2'),
	]);
	await seed(started, 'system_b', [
		customer('c1', { tier: 'gold', updated_at: '2025-06-05T09:00:00.000Z' }),
		customer('c2'),
	]);
	await seed(started, 'system_c', [customer('c1', { updated_at: '2025-06-01T09:00:00.000Z' })]);
	const stale = await payload(started);
	const first = await run(started, pipeline(stale), {});
	expect(report(first)).toMatchObject({ validation_status: 'passed' });
	for (const s of await stores()) expect(s.c1).toMatchObject({ tier: 'gold' });
	return { stale, staticData: first.staticData };
}

test('re-sending a payload that a sync has overtaken writes nothing and keeps the newer data', async () => {
	const { stale, staticData } = await firstSync();
	const before = await applied();
	const again = await run(started, pipeline(stale), staticData);
	expect(again.status).toBe('success');
	const summary = json(again.output('Conflict Check', 2))[0];
	expect(summary.staleSourceRecords).toEqual({ count: 1, keys: ['c1'] });
	expect(report(again)).toMatchObject({ records_written: 0 });
	expect(report(again).validation_status).toMatch(/^(passed|nothing_to_sync)$/);
	expect(await applied()).toEqual(before);
	for (const s of await stores()) expect(s.c1).toMatchObject({ tier: 'gold' });
});

test('with the check turned off, the same stale payload would overwrite the newer data', async () => {
	// Why "Re-Read Stale Source Records" is on by default: without it the old payload looks like
	// a fresh edit on system_a against the base, and its old values win.
	const { stale, staticData } = await firstSync();
	const again = await run(
		started,
		pipeline(stale, { check: { options: { verifySource: false } } }),
		staticData,
	);
	expect(json(again.output('Conflict Check', 2))[0].staleSourceRecords).toBeUndefined();
	const [, b, c] = await stores();
	expect(b.c1.tier).toBe('silver');
	expect(c.c1.tier).toBe('silver');
});

test('a payload that is current is used as sent', async () => {
	const { staticData } = await firstSync();
	await fetch(`${started.systems.system_a.url}/records/c2`, {
		method: 'PUT',
		headers: { ...started.systems.system_a.headers, 'Content-Type': 'application/json' },
		body: JSON.stringify(customer('c2', { balance: 55 })),
	});
	const result = await run(started, pipeline(await payload(started)), staticData);
	expect(json(result.output('Conflict Check', 2))[0].staleSourceRecords).toEqual({
		count: 0,
		keys: [],
	});
	expect(report(result)).toMatchObject({ validation_status: 'passed' });
	for (const s of await stores()) expect(s.c2).toMatchObject({ balance: 55 });
});

test('payload records the source system does not hold are left out, and nothing is written', async () => {
	// A payload that claims to come from system_a with records system_a never had (a made-up or
	// misdirected request): before, they were written to the targets and validation then failed.
	const { staticData } = await firstSync();
	const before = await applied();
	const body = await payload(started);
	(body.sync_data as IDataObject[]).push(customer('ghost-1'), customer('ghost-2'));
	const result = await run(started, pipeline(body), staticData);
	expect(json(result.output('Conflict Check', 2))[0].notAtSource).toEqual({
		count: 2,
		keys: ['ghost-1', 'ghost-2'],
	});
	expect(report(result).validation_status).toMatch(/^(passed|nothing_to_sync)$/);
	expect(await applied()).toEqual(before);
	for (const s of await stores()) expect(s['ghost-1']).toBeUndefined();
});

test('an unknown source system or an empty target name stops the sync before any write', async () => {
	const { staticData } = await firstSync();
	const before = await applied();
	for (const extra of [
		{ source_system: 'system_x' },
		{ source_system: 'http://127.0.0.1:9/steal' },
		{ target_systems: ['system_b', ''] },
	]) {
		const result = await run(started, pipeline(await payload(started, extra)), staticData);
		expect(result.status).toBe('error');
		expect(result.error?.message).toMatch(
			/Unknown system "(system_x|http:\/\/127\.0\.0\.1:9\/steal)" in Source System|Other Systems\[1\] must be a system name, got an empty string/,
		);
	}
	expect(await applied()).toEqual(before);
});
