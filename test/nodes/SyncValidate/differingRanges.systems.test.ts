/**
 * Sync Validate > Differing Key Ranges (Plan Partitions): the plan of a partitioned sync from
 * the range checksums of the three demo systems, run as processes, through n8n's execution
 * engine. Equal systems plan nothing; a first sync plans every key in bounded ranges; a few edits
 * plan a few small ranges around them. No record is read.
 */
import type { ICredentialDataDecryptedObject, IDataObject, INodeParameters } from 'n8n-workflow';

import type { PartitionRange } from '../../../nodes/shared/engine';
import { runWorkflow, TEST_TRIGGER_TYPE } from '../../harness';
import { connect, json, node } from '../../harness/build';
import { credentialFor, credentialTypes, nodeTypes, VALIDATE_TYPE } from '../../sync/pipeline';
import { startSystems, type RunningSystem, type StartedSystems } from '../../systems/helpers';

const NAMES = ['system_a', 'system_b', 'system_c'];
const SLOTS = ['dataSyncSystemApi', 'dataSyncSystem2Api', 'dataSyncSystem3Api'];
const N = 3000;

let started: StartedSystems;

async function admin(system: RunningSystem, path: string, body: unknown) {
	const res = await fetch(`${system.url}${path}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
}

const key = (i: number) => `cust-${String(i).padStart(6, '0')}`;
const record = (i: number): IDataObject => ({
	id: key(i),
	name: `Customer ${i}`,
	email: `c${i}@example.com`,
	balance: (i * 37) % 1000,
});
const KEYS = Array.from({ length: N }, (_, i) => key(i));

/** Every system reset, then given what `edit` makes of the same N records. */
async function seedAll(edit: (system: string, list: IDataObject[]) => IDataObject[]) {
	for (const name of NAMES) {
		const s = started.systems[name];
		await admin(s, '/_admin/reset', {});
		const list = edit(
			name,
			KEYS.map((_, i) => record(i)),
		);
		for (let i = 0; i < list.length; i += 2000)
			await admin(s, '/_admin/seed', { records: list.slice(i, i + 2000) });
	}
}

const systemCredentials = () =>
	Object.fromEntries(NAMES.map((n, i) => [SLOTS[i], credentialFor(started.systems[n])]));

/** Runs Validate: Differing Key Ranges once, on `trigger` as its input. */
async function plan(
	options: IDataObject = {},
	credentials: Record<string, ICredentialDataDecryptedObject> = systemCredentials(),
	trigger: IDataObject = {},
) {
	const result = await runWorkflow({
		workflow: {
			nodes: [
				node('Trigger', TEST_TRIGGER_TYPE, { items: [trigger] } as INodeParameters),
				node(
					'Plan Partitions',
					VALIDATE_TYPE,
					{ scope: 'differingRanges', connectedSystems: 3, options: options as INodeParameters },
					{
						credentials: Object.fromEntries(
							SLOTS.map((t, i) => [t, { id: String(i + 1), name: NAMES[i] }]),
						),
					},
				),
			],
			connections: connect(['Trigger', 'Plan Partitions']),
		},
		nodeTypes,
		credentials,
		credentialTypes,
		mode: 'webhook',
	});
	const run = result.runData['Plan Partitions']?.[0];
	return {
		error: result.nodeError('Plan Partitions'),
		items: result.output('Plan Partitions', 0),
		ranges: json(result.output('Plan Partitions', 0)) as unknown as PartitionRange[],
		second: result.output('Plan Partitions', 1),
		hints: (run?.hints ?? []).map((h) => h.message),
	};
}

const inRange = (k: string, r: PartitionRange) =>
	(r.from === null || k >= r.from) && (r.to === null || k < r.to);

/** Ranges in key order, no two overlapping, each key of `keys` in exactly one. */
function expectDisjointCovering(ranges: PartitionRange[], keys: string[]) {
	for (let i = 1; i < ranges.length; i++) expect(ranges[i - 1].to! <= ranges[i].from!).toBe(true);
	expect(keys.filter((k) => ranges.filter((r) => inRange(k, r)).length !== 1)).toEqual([]);
	ranges.forEach((r, i) =>
		expect({ index: r.index, total: r.total }).toEqual({ index: i, total: ranges.length }),
	);
}

beforeAll(async () => {
	started = await startSystems();
}, 60_000);
afterAll(async () => started?.stop());

test('identical systems: no range, and the hint says nothing differs', async () => {
	await seedAll((_, list) => list);
	const out = await plan();
	expect(out.error).toBeUndefined();
	expect(out.items).toEqual([]);
	expect(out.second).toEqual([]);
	expect(out.hints.join(' ')).toMatch(/No key range differs between system_a, system_b, system_c/);
});

test('first sync (records on system_a only): every key, in ranges of at most Max Keys per Range', async () => {
	await seedAll((system, list) => (system === 'system_a' ? list : []));
	const out = await plan({ maxKeys: 500 }, undefined, { syncId: 'sync-first-1' });
	expect(out.error).toBeUndefined();
	const { ranges } = out;
	expect(ranges.length).toBeGreaterThanOrEqual(6);
	expectDisjointCovering(ranges, KEYS);
	for (const r of ranges) {
		expect(r.counts.system_a).toBeLessThanOrEqual(500);
		expect(r.counts.system_a).toBe(KEYS.filter((k) => inRange(k, r)).length);
		expect(r).toMatchObject({
			planId: 'sync-first-1',
			counts: { system_b: 0, system_c: 0 },
			systems: NAMES,
			maxKeys: 500,
		});
	}
	expect(ranges.reduce((n, r) => n + r.counts.system_a, 0)).toBe(N);
	// The whole key space, no gap: open at both ends, each range starting where the last ended.
	expect(ranges[0].from).toBeNull();
	expect(ranges[ranges.length - 1].to).toBeNull();
	for (let i = 1; i < ranges.length; i++) expect(ranges[i].from).toBe(ranges[i - 1].to);
	// Found by checksums alone, each range paired with the trigger item.
	expect(ranges[0].planStats).toMatchObject({
		recordsPerSystem: { system_a: N, system_b: 0, system_c: 0 },
	});
	expect(out.items.every((item) => JSON.stringify(item.pairedItem) === '[{"item":0}]')).toBe(true);
});

test('a handful of edits on system_b: a few small ranges, holding exactly those keys', async () => {
	const edited = [17, 940, 941, 2222, 2999];
	await seedAll((system, list) => {
		if (system !== 'system_b') return list;
		list[17].email = 'changed@example.com';
		list[940].balance = -1;
		list[941] = { ...list[941], _deleted: true };
		list[2222].name = 'Renamed';
		list.splice(2999, 1);
		return list;
	});
	const out = await plan({ maxKeys: 50 });
	expect(out.error).toBeUndefined();
	const { ranges } = out;
	expectDisjointCovering(ranges, edited.map(key));
	expect(ranges.length).toBeLessThanOrEqual(edited.length);
	for (const r of ranges) {
		expect(Math.max(r.counts.system_a, r.counts.system_b, r.counts.system_c)).toBeLessThanOrEqual(
			50,
		);
		// Each range is there for an edit.
		expect(edited.map(key).some((k) => inRange(k, r))).toBe(true);
	}
	// The planned keys are few: a small part of the N.
	expect(ranges.reduce((n, r) => n + r.counts.system_a, 0)).toBeLessThanOrEqual(5 * 50);
	// Without a sync id on the input, the plan gets its own.
	expect(new Set(ranges.map((r) => r.planId)).size).toBe(1);
	expect(ranges[0].planId).toMatch(/^[0-9a-f-]{36}$/);
});

test('a system without a Range Checksum Path stops the node, naming it and what to set', async () => {
	const credentials = systemCredentials();
	credentials[SLOTS[2]] = { ...credentials[SLOTS[2]], checksumPath: '' };
	const out = await plan({}, credentials);
	expect(out.error?.message).toBe('system_c has no Range Checksum Path');
	expect((out.error as { description?: string }).description).toMatch(/Range Checksum Path/);
});

test('Max Keys per Range below 1 is refused by name', async () => {
	const out = await plan({ maxKeys: 0 });
	expect(out.error?.message).toMatch(/Max Keys per Range must be a whole number of at least 1/);
});
