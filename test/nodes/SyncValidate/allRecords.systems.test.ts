/**
 * Sync Validate > Every Record on Every System: validation by range checksums (bisection)
 * across the three demo systems, run as processes, through n8n's execution engine.
 * Every difference planted must be found, nothing else reported, and equal systems must cost
 * a few checksum requests instead of reading the records.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { json, node, connect } from '../../harness/build';
import { runWorkflow, TEST_TRIGGER_TYPE } from '../../harness';
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

const record = (i: number) => ({
	id: `cust-${String(i).padStart(6, '0')}`,
	name: `Customer ${i}`,
	email: `c${i}@example.com`,
	tier: i % 3 === 0 ? 'gold' : 'silver',
	balance: (i * 37) % 1000,
});

async function seedAll(edit: (system: string, list: IDataObject[]) => IDataObject[]) {
	const base = Array.from({ length: N }, (_, i) => record(i));
	for (const name of NAMES) {
		const s = started.systems[name];
		await admin(s, '/_admin/reset', {});
		const list = edit(
			name,
			base.map((r) => ({ ...r })),
		);
		for (let i = 0; i < list.length; i += 2000)
			await admin(s, '/_admin/seed', { records: list.slice(i, i + 2000) });
	}
}

/** Runs Validate: Every Record once; `parameters` adds node parameters (e.g. Ignore Fields). */
async function validateAll(
	options: IDataObject = {},
	credentials = Object.fromEntries(
		NAMES.map((n, i) => [SLOTS[i], credentialFor(started.systems[n])]),
	),
	parameters: INodeParameters = {},
) {
	const result = await runWorkflow({
		workflow: {
			nodes: [
				node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
				node(
					'Validate All',
					VALIDATE_TYPE,
					{
						scope: 'allRecords',
						connectedSystems: 3,
						options: options as INodeParameters,
						...parameters,
					},
					{
						credentials: Object.fromEntries(
							SLOTS.map((t, i) => [t, { id: String(i + 1), name: NAMES[i] }]),
						),
					},
				),
			],
			connections: connect(['Trigger', 'Validate All']),
		},
		nodeTypes,
		credentials,
		credentialTypes,
		mode: 'webhook',
	});
	expect(result.nodeError('Validate All')).toBeUndefined();
	expect(result.output('Validate All', 1)).toEqual([]);
	return json(result.output('Validate All', 0))[0] as IDataObject & {
		counts: IDataObject;
		transfer: IDataObject;
		differences: Array<{ key: string; kind: string; systems: string[]; fields?: string[] }>;
		differingKeys: string[];
	};
}

beforeAll(async () => {
	started = await startSystems();
}, 60_000);
afterAll(async () => started?.stop());

test('equal systems pass with a handful of checksum requests and no record read', async () => {
	// Same data, but each system stamps its own version and updated_at: not part of the content.
	await seedAll((_, list) => list);
	const report = await validateAll();
	expect(report.status).toBe('passed');
	expect(report.method).toBe('rangeChecksums');
	expect(report.counts).toMatchObject({
		recordsPerSystem: { system_a: N, system_b: N, system_c: N },
		differences: 0,
	});
	expect(report.transfer).toMatchObject({ levels: 1, checksumRequests: 3, recordsRead: 0 });
	expect(report.records_processed).toBe(N);
});

test('finds every planted difference: changed field, missing key, extra key, tombstone', async () => {
	await seedAll((system, list) => {
		if (system === 'system_b') {
			list[10].email = 'changed@example.com'; // differing on system_b
			list.splice(2000, 1); // cust-002000 missing on system_b
		}
		if (system === 'system_c') {
			list[1500] = { ...list[1500], _deleted: true }; // tombstone: not live on system_c
			list.push({ id: 'cust-999999', name: 'only on c' }); // extra on system_c
			list[2999].balance = 1; // differing on system_c
		}
		return list;
	});
	const report = await validateAll();
	expect(report.status).toBe('failed');
	const found = Object.fromEntries(report.differences.map((d) => [d.key, d]));
	expect(Object.keys(found).sort()).toEqual([
		'cust-000010',
		'cust-001500',
		'cust-002000',
		'cust-002999',
		'cust-999999',
	]);
	expect(found['cust-000010']).toMatchObject({
		kind: 'differing',
		systems: ['system_b'],
		fields: ['email'],
	});
	expect(found['cust-002999']).toMatchObject({ systems: ['system_c'], fields: ['balance'] });
	expect(found['cust-002000']).toMatchObject({ kind: 'missing', systems: ['system_b'] });
	expect(found['cust-001500']).toMatchObject({ kind: 'missing', systems: ['system_c'] });
	expect(found['cust-999999']).toMatchObject({
		kind: 'missing',
		systems: ['system_a', 'system_b'],
	});
	expect(report.counts).toMatchObject({ differences: 5, missing: 3, differing: 2 });
	// Bisection read only small ranges around the differences, not the 3 x 3000 records.
	expect(Number(report.transfer.recordsRead)).toBeGreaterThanOrEqual(5);
	expect(Number(report.transfer.recordsRead)).toBeLessThan(5 * 64 * 3);
	expect(Number(report.transfer.levels)).toBeGreaterThan(1);
});

test('a difference only in a field Ignore Fields names is not one', async () => {
	await seedAll((system, list) => {
		if (system === 'system_b') list[42].tier = 'platinum';
		return list;
	});
	expect((await validateAll()).status).toBe('failed');
	// The checksums still differ (the systems hash every field), so the range is read and compared.
	const ignoring = await validateAll({}, undefined, { ignoreFields: 'tier' });
	expect(ignoring.status).toBe('passed');
	expect(Number(ignoring.transfer.recordsRead)).toBeGreaterThan(0);
});

test('a system without a checksum endpoint is read in full, with the same findings', async () => {
	await seedAll((system, list) => {
		if (system === 'system_a') list[7].name = 'renamed';
		return list;
	});
	const credentials = Object.fromEntries(
		NAMES.map((n, i) => [
			SLOTS[i],
			{ ...credentialFor(started.systems[n]), checksumPath: i === 1 ? '' : '/records/checksums' },
		]),
	);
	const report = await validateAll({}, credentials);
	expect(report.method).toBe('fullRead');
	expect(report.methodNote).toMatch(/system_b has no Range Checksum Path/);
	expect(report.differences).toEqual([
		{ key: 'cust-000007', kind: 'differing', systems: ['system_b', 'system_c'], fields: ['name'] },
	]);
	expect(report.transfer.recordsRead).toBe(3 * N);
});

test('faults on the checksum requests are retried, and the answer is the same', async () => {
	await seedAll((system, list) => {
		if (system === 'system_c') list[123].balance = -5;
		return list;
	});
	for (const name of NAMES)
		await started.setFaults(name, {
			errorRate: 0.2,
			throttleRate: 0.1,
			retryAfterSeconds: 0,
			seed: 7,
		});
	try {
		const report = await validateAll({ maxAttempts: 10 });
		expect(report.differingKeys).toEqual(['cust-000123']);
		expect(Number(report.transfer.retries)).toBeGreaterThan(0);
	} finally {
		for (const name of NAMES) await started.setFaults(name, { errorRate: 0, throttleRate: 0 });
	}
});

test('a system that stays down makes the report fail with the reason, never pass', async () => {
	await seedAll((_, list) => list);
	await started.setFaults('system_b', { errorRate: 1 });
	try {
		const report = await validateAll({ maxAttempts: 2 });
		expect(report.status).toBe('failed');
		expect((report.reasons as string[]).join(' ')).toMatch(/system_b.*HTTP 5\d\d/);
		expect(report.differences).toEqual([]);
	} finally {
		await started.setFaults('system_b', { errorRate: 0 });
	}
});
