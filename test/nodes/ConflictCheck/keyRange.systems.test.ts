/**
 * Read Records: Key Range against the demo systems (child processes), in n8n's engine: one part of
 * a sync split by key range. Every system, the source included, is read within the range page by
 * page (GET /records?from=&to=), so keys only a target holds are found; no system may hold more
 * than Max Keys per Range there; records sent outside the range are refused; and adjacent ranges
 * check exactly the keys one unbounded check does.
 */
import type { IDataObject, INode } from 'n8n-workflow';

import { json } from '../../harness/build';
import { customer, startSystems, type StartedSystems } from '../../systems/helpers';
import {
	allRecords,
	comparable,
	credentialsFor,
	keptOutputs,
	pipeline,
	run,
	seed,
	SYSTEM_NAMES,
	type PipelineOptions,
} from '../../sync/pipeline';

const CHECK = 'Conflict Check';
let started: StartedSystems;
const keep = keptOutputs(() => started);

beforeAll(async () => {
	started = await startSystems();
}, 60000);
afterAll(async () => started?.stop());

const KEYS = ['k01', 'k02', 'k03', 'k04', 'k05', 'k06', 'k07', 'k08', 'k09'];

/**
 * system_b changed k05's tier, lacks k07 and alone holds k04b; system_c alone holds k08c (just
 * past a range ending at k08) and deleted k02.
 */
beforeEach(async () => {
	await started.reset();
	await seed(
		started,
		'system_a',
		KEYS.map((k) => customer(k)),
	);
	await seed(started, 'system_b', [
		...KEYS.filter((k) => k !== 'k07').map((k) => customer(k, k === 'k05' ? { tier: 'gold' } : {})),
		customer('k04b'),
	]);
	await seed(started, 'system_c', [
		...KEYS.map((k) => customer(k, k === 'k02' ? { _deleted: true } : {})),
		customer('k08c'),
	]);
});

const event = (range: { from: string | null; to: string | null }, records: IDataObject[] = []) => ({
	source_system: 'system_a',
	target_systems: ['system_b', 'system_c'],
	sync_type: 'bidirectional',
	range,
	sync_data: records,
});

/** Conflict Check (and Resolve) only, every key in the range, in-sync keys included. */
function checkOnly(check: IDataObject = {}): PipelineOptions {
	return {
		stopAfterResolve: true,
		check: {
			readBy: 'range',
			keysFrom: '={{ $json.body.range.from }}',
			keysTo: '={{ $json.body.range.to }}',
			scope: 'all',
			baseSource: 'none',
			options: { includeInSync: true },
			...check,
		},
	};
}

const requests = async () =>
	Promise.all(SYSTEM_NAMES.map(async (n) => (await started.stats(n)).requests));
const applied = async () =>
	Promise.all(SYSTEM_NAMES.map(async (n) => (await started.stats(n)).applied_writes));

/** Each checked key with what the check said of it (not the sync id, which is per run). */
function checkedKeys(result: Awaited<ReturnType<typeof run>>) {
	const items = [...json(result.output(CHECK, 0)), ...json(result.output(CHECK, 1))];
	return items.map(({ key, kind, states, conflictFields }) => ({
		key,
		kind,
		states,
		conflictFields,
	}));
}
const keysOf = (result: Awaited<ReturnType<typeof run>>) =>
	checkedKeys(result)
		.map((k) => String(k.key))
		.sort();

test('reads every system within the range: a key only a target holds there is found and synced', async () => {
	const wf = pipeline(event({ from: 'k04', to: 'k08' }), {
		check: checkOnly().check,
	});
	const result = keep(await run(started, wf));
	expect(result.status).toBe('success');
	expect(keysOf(result)).toEqual(['k04', 'k04b', 'k05', 'k06', 'k07']);
	const summary = json(result.output(CHECK, 2))[0];
	expect(summary).toMatchObject({
		scope: 'all',
		range: { from: 'k04', to: 'k08' },
		counts: { keys: 5 },
		notChecked: { count: 0 },
	});
	// The whole pipeline ran for the range only: k04b and k07 reached every system, k05 agrees,
	// and nothing outside the range moved (k08c stays on system_c alone, k02's delete stays put).
	const [a, b, c] = await Promise.all(SYSTEM_NAMES.map((n) => comparable(started.systems[n])));
	for (const key of ['k04b', 'k05', 'k07']) {
		expect(b[key]).toEqual(a[key]);
		expect(c[key]).toEqual(a[key]);
	}
	expect([a.k08c, b.k08c, c.k08c?.id]).toEqual([undefined, undefined, 'k08c']);
	expect([a.k02._deleted, c.k02._deleted]).toEqual([undefined, true]);
});

test('a partition request sends no records (sync_data null): the range alone is read', async () => {
	const request = { ...event({ from: 'k04', to: 'k08' }), sync_data: null };
	const result = keep(await run(started, pipeline(request, checkOnly())));
	expect(result.status).toBe('success');
	expect(keysOf(result)).toEqual(['k04', 'k04b', 'k05', 'k06', 'k07']);
});

test('under Keys in the Source Records a key only a target holds in the range is counted, not checked', async () => {
	const result = keep(
		await run(started, pipeline(event({ from: 'k04', to: 'k08' }), checkOnly({ scope: 'source' }))),
	);
	expect(keysOf(result)).toEqual(['k04', 'k05', 'k06', 'k07']);
	expect(json(result.output(CHECK, 2))[0].notChecked).toMatchObject({
		count: 1,
		sample: ['k04b'],
	});
});

test('past Max Keys per Range the node stops after one page, before anything is written', async () => {
	const [before, writes] = [await requests(), await applied()];
	// system_b holds k04, k04b, k05, k06 in the range: one more than the bound.
	const result = keep(
		await run(started, pipeline(event({ from: 'k04', to: 'k07' }), checkOnly({ maxRangeKeys: 3 }))),
	);
	expect(result.status).toBe('error');
	const error = result.nodeError(CHECK);
	expect(error?.message).toBe(
		'system_b holds more than 3 keys in the Key Range ("k04" <= key < "k07"): cut the range smaller',
	);
	expect((error as { description?: string }).description).toMatch(/reading stopped at 4 keys/);
	// One request per system, each asking for at most the bound + 1 records.
	expect((await requests()).map((n, i) => n - before[i])).toEqual([1, 1, 1]);
	expect(await applied()).toEqual(writes);
});

test('reading stops at the page that passes the bound: never more than Max Keys per Range + 1 held', async () => {
	// Pages of 2: without the bound each system would take 5 pages to list its 9 or more keys.
	const credentials = credentialsFor(started);
	for (const data of Object.values(credentials)) data.pageSize = 2;
	const before = await requests();
	const wf = pipeline(event({ from: null, to: null }), checkOnly({ maxRangeKeys: 3 }));
	const result = keep(await run(started, wf, undefined, credentials));
	expect(result.nodeError(CHECK)?.message).toMatch(
		/^system_[abc] holds more than 3 keys in the Key Range \(every key\): cut the range smaller$/,
	);
	// Two requests per system: 2 records, then the last 2 that pass the bound of 3.
	expect((await requests()).map((n, i) => n - before[i])).toEqual([2, 2, 2]);
});

test('a record sent outside the range is refused, naming the item and the key, before any read', async () => {
	const before = await requests();
	const sent = [customer('k05'), customer('k09')];
	const result = keep(
		await run(started, pipeline(event({ from: 'k04', to: 'k08' }, sent), checkOnly())),
	);
	expect(result.status).toBe('error');
	expect(result.nodeError(CHECK)?.message).toBe(
		'system_a: item 0 body.sync_data[1]: key "k09" is outside the Key Range ("k04" <= key < "k08")',
	);
	expect(await requests()).toEqual(before);
});

test('with continue-on-fail the refused record goes to the error output and the range is checked', async () => {
	const sent = [customer('k05', { tier: 'platinum' }), customer('k09')];
	const wf = pipeline(event({ from: 'k04', to: 'k08' }, sent), checkOnly());
	const check = wf.nodes.find((n) => n.name === CHECK) as INode;
	check.onError = 'continueErrorOutput';
	const result = keep(await run(started, wf));
	expect(result.status).toBe('success');
	expect(json(result.output(CHECK, 3))).toEqual([
		expect.objectContaining({
			error:
				'system_a: item 0 body.sync_data[1]: key "k09" is outside the Key Range ("k04" <= key < "k08")',
			details: { field: 'id', system: 'system_a' },
		}),
	]);
	expect(keysOf(result)).toEqual(['k04', 'k04b', 'k05', 'k06', 'k07']);
	// The payload's k05 is not what system_a holds: the range read's current record replaced it.
	expect(json(result.output(CHECK, 2))[0].staleSourceRecords).toEqual({ count: 1, keys: ['k05'] });
});

test('two adjacent ranges check exactly the keys, with the same verdicts, as one unbounded check', async () => {
	// The unbounded check gets the whole source as its payload; the ranges read it themselves.
	const everything = event({ from: null, to: null }, await allRecords(started.systems.system_a));
	const whole = keep(await run(started, pipeline(everything, checkOnly({ readBy: 'page' }))));
	expect(json(whole.output(CHECK, 2))[0].range).toBeUndefined();
	const parts = [];
	for (const range of [
		{ from: null, to: 'k05' },
		{ from: 'k05', to: null },
	]) {
		const result = keep(await run(started, pipeline(event(range), checkOnly())));
		expect(json(result.output(CHECK, 2))[0].range).toEqual(range);
		parts.push(...checkedKeys(result));
	}
	const byKey = (a: IDataObject, b: IDataObject) => String(a.key).localeCompare(String(b.key));
	expect(parts.sort(byKey)).toEqual(checkedKeys(whole).sort(byKey));
	expect(parts).toHaveLength(11);
});

test('Keys From must sort before Keys To, in the systems’ byte order', async () => {
	for (const range of [
		{ from: 'k05', to: 'k05' },
		{ from: '\u00e9', to: 'z' },
	]) {
		const result = await run(started, pipeline(event(range), checkOnly()));
		expect(result.nodeError(CHECK)?.message).toBe(
			`Keys From (${JSON.stringify(range.from)}) must sort before Keys To (${JSON.stringify(range.to)})`,
		);
	}
});
