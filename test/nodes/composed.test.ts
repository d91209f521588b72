/**
 * Composed mode, in n8n's own engine: every system's records arrive on node inputs (as n8n's
 * Postgres, MySQL and HTTP Request nodes would read them), Multi Target Sync only plans the writes
 * (other nodes perform them), and Sync Validate reads the systems back from inputs too. This is
 * the shape of workflows/day66-database-sync.json, without the databases.
 */
import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE } from '../harness';
import { connect, json, node } from '../harness/build';
import { nodeTypes, SYNC_TYPE, VALIDATE_TYPE } from '../sync/pipeline';
import { CHECK_TYPE, RESOLVE_TYPE, staticBase } from './sync-workflow';

const params = (p: object) => p as INodeParameters;
const SYSTEMS = ['postgres', 'mariadb', 'system_a'] as const;
type System = (typeof SYSTEMS)[number];

const T0 = '2026-01-01T00:00:00.000Z';
const customer = (id: string, fields: IDataObject = {}): IDataObject => ({
	id,
	name: `Customer ${id}`,
	email: `${id}@example.com`,
	tier: 'silver',
	balance: 10,
	updated_at: T0,
	version: 1,
	...fields,
});

/** c1 edited in Postgres last; c2 the same everywhere; c3 deleted in system_a last; c4 only in system_a. */
const before: Record<System, IDataObject[]> = {
	postgres: [
		customer('c1', {
			email: 'ada@new.io',
			tier: 'gold',
			updated_at: '2026-03-01T10:00:00.000Z',
			version: 3,
		}),
		customer('c2'),
		customer('c3'),
	],
	mariadb: [
		customer('c1', { updated_at: '2026-02-01T10:00:00.000Z', version: 2 }),
		customer('c2', { version: 7, updated_at: '2026-01-05T00:00:00.000Z' }),
		customer('c3'),
	],
	system_a: [
		customer('c1', { version: 5 }),
		customer('c2', { version: 2 }),
		customer('c3', { _deleted: true, updated_at: '2026-03-02T00:00:00.000Z', version: 2 }),
		customer('c4', { name: 'Dora', balance: 99.5, updated_at: '2026-02-15T00:00:00.000Z' }),
	],
};

/** What the systems should hold after the writes (other versions and timestamps: ignored). */
function converged(): Record<System, IDataObject[]> {
	const c1 = { ...before.postgres[0], version: 9, updated_at: '2026-03-05T00:00:00.000Z' };
	const c4 = { ...before.system_a[3], version: 1 };
	return {
		postgres: [c1, customer('c2'), c4],
		mariadb: [c1, customer('c2', { version: 7 }), c4],
		system_a: [c1, customer('c2', { version: 2 }), before.system_a[2], c4],
	};
}

/**
 * Trigger -> one items node per system -> Conflict Check (composed) -> Conflict Resolve
 * (Conflicts, Changes) -> Multi Target Sync (plan only) -> Sync Validate (read back from inputs:
 * Sync Results, Check Summary, then one input per system).
 */
function composedWorkflow(
	readBack: Record<System, IDataObject[]>,
	read: Record<System, IDataObject[]> = before,
	checkExtra: Partial<INode> = {},
	staticData?: IDataObject,
) {
	const nodes: INode[] = [node('Trigger', TEST_TRIGGER_TYPE, params({ items: [{}] }))];
	const edges: Array<[string, string, number?, number?]> = [];
	SYSTEMS.forEach((name, i) => {
		nodes.push(node(`Read ${name}`, TEST_ITEMS_TYPE, params({ items: read[name] })));
		nodes.push(node(`${name} Now`, TEST_ITEMS_TYPE, params({ items: readBack[name] })));
		edges.push(
			['Trigger', `Read ${name}`],
			[`Read ${name}`, 'Conflict Check', 0, i],
			['Trigger', `${name} Now`],
			[`${name} Now`, 'Sync Validate', 0, i + 2],
		);
	});
	nodes.push(
		node(
			'Conflict Check',
			CHECK_TYPE,
			params({
				sourceSystem: 'postgres',
				systemsFrom: 'inputs',
				otherSystems: 'mariadb, system_a',
				scope: 'all',
				baseSource: 'staticData',
				syncName: 'composed',
				options: { missingMeansDeleted: true },
			}),
			checkExtra,
		),
		node(
			'Conflict Resolve',
			RESOLVE_TYPE,
			params({ strategy: 'lastWriterWins', priority: 'postgres, mariadb, system_a' }),
		),
		node(
			'Multi Target Sync',
			SYNC_TYPE,
			params({
				writeMode: 'planOnly',
				syncType: 'bidirectional',
				targetSystems: 'mariadb, system_a',
			}),
		),
		node(
			'Sync Validate',
			VALIDATE_TYPE,
			params({
				readBackFrom: 'inputs',
				readBackSystems: 'postgres, mariadb, system_a',
				baseTarget: 'staticData',
				syncName: 'composed',
			}),
		),
	);
	edges.push(
		['Conflict Check', 'Conflict Resolve', 0, 0],
		['Conflict Check', 'Conflict Resolve', 1, 1],
		['Conflict Check', 'Sync Validate', 2, 1],
		['Conflict Resolve', 'Multi Target Sync', 0, 0],
		['Multi Target Sync', 'Sync Validate', 0, 0],
	);
	return { nodes, connections: connect(...edges), staticData };
}

async function run(
	readBack: Record<System, IDataObject[]>,
	...rest: Parameters<typeof composedWorkflow> extends [unknown, ...infer R] ? R : never
) {
	const result = await runWorkflow({
		workflow: composedWorkflow(readBack, ...rest),
		nodeTypes,
		mode: 'webhook',
	});
	expect(result.error).toBeUndefined();
	expect(result.status).toBe('success');
	return result;
}

const plan = (result: Awaited<ReturnType<typeof run>>) =>
	json(result.output('Multi Target Sync', 0))
		.filter((p) => p.outcome === 'planned')
		.map((p) => ({ target: p.target, key: p.key, op: p.op, record: p.record ?? null }))
		.sort((a, b) =>
			`${String(a.key)}/${String(a.target)}`.localeCompare(`${String(b.key)}/${String(b.target)}`),
		);

describe('composed mode: systems on node inputs, writes planned for other nodes', () => {
	it('Conflict Check on Continue (regular output): its bad record passes Conflict Resolve and is set aside by Multi Target Sync, the rest syncs', async () => {
		const read = { ...before, postgres: [...before.postgres, { name: 'no key here' }] };
		const result = await run(converged(), read, { onError: 'continueRegularOutput' });
		const bad = (items: IDataObject[]) => items.filter((i) => typeof i.error === 'string');
		// Conflict Check put it on its first output, as n8n's regular output does.
		expect(bad(json(result.output('Conflict Check', 0)))).toHaveLength(1);
		expect(bad(json(result.output('Conflict Resolve', 0)))).toEqual(
			bad(json(result.output('Conflict Check', 0))),
		);
		const setAside = json(result.output('Multi Target Sync', 1));
		expect(setAside).toHaveLength(1);
		expect(setAside[0].error).toMatch(/key/i);
		expect(plan(result)).toEqual(plan(await run(converged())));
		expect(json(result.output('Sync Validate', 0))[0]).toMatchObject({ status: 'passed' });
	});

	it('Multi Target Sync (plan only) gives one item per write, routable by target', async () => {
		const result = await run(converged());
		const c1 = before.postgres[0];
		const c4 = before.system_a[3];
		expect(plan(result)).toEqual([
			{ target: 'mariadb', key: 'c1', op: 'update', record: c1 },
			{ target: 'system_a', key: 'c1', op: 'update', record: c1 },
			{ target: 'mariadb', key: 'c3', op: 'delete', record: null },
			{ target: 'postgres', key: 'c3', op: 'delete', record: null },
			{ target: 'mariadb', key: 'c4', op: 'create', record: c4 },
			{ target: 'postgres', key: 'c4', op: 'create', record: c4 },
		]);
		const all = json(result.output('Multi Target Sync', 0));
		// Keys a system already holds come out too, so Sync Validate sees (and commits) every key.
		expect(
			all.filter((i) => i.outcome !== 'planned').map((i) => [i.key, i.system, i.outcome]),
		).toEqual(expect.arrayContaining([['c2', 'postgres', 'unchanged']]));
		const items = all.filter((i) => i.outcome === 'planned');
		for (const item of items) {
			expect(item).toMatchObject({
				outcome: 'planned',
				system: item.target,
				sourceSystem: 'postgres',
				systems: ['postgres', 'mariadb', 'system_a'],
				expectedFingerprint: expect.any(String),
				idempotencyKey: expect.any(String),
			});
		}
		// If-Match carries the version each target held at the check; a create expects no record.
		const byTarget = (key: string, target: string) =>
			items.find((i) => i.key === key && i.target === target)!;
		expect(byTarget('c1', 'mariadb').ifMatch).toBe(2);
		expect(byTarget('c1', 'system_a').ifMatch).toBe(5);
		expect(byTarget('c3', 'postgres').ifMatch).toBe(1);
		expect(byTarget('c4', 'postgres')).toMatchObject({ ifNoneMatch: true });
		expect(byTarget('c4', 'postgres').ifMatch).toBeUndefined();
		expect(result.output('Multi Target Sync', 1)).toEqual([]);
	});

	it('Sync Validate (read back from inputs) passes when every system holds the resolution', async () => {
		const result = await run(converged());
		const [report] = json(result.output('Sync Validate', 0));
		expect(report).toMatchObject({
			status: 'passed',
			validation_status: 'passed',
			source_system: 'postgres',
			target_systems: ['mariadb', 'system_a'],
			systems: ['postgres', 'mariadb', 'system_a'],
			missing: [],
			extra: [],
			differing: [],
			reasons: [],
		});
		const validate = (report.counts as IDataObject).validate as IDataObject;
		expect(validate).toMatchObject({ failed: 0, passed: validate.keys });
		const baseUpdates = json(result.output('Sync Validate', 1));
		expect(baseUpdates.map((b) => b.key)).toEqual(expect.arrayContaining(['c1', 'c3', 'c4']));
		expect(baseUpdates.find((b) => b.key === 'c3')).toMatchObject({ fingerprint: 'deleted' });
		// A production run commits the validated keys to the workflow static data.
		const stored = (result.staticData.global as IDataObject)['dataSync:composed'] as IDataObject;
		expect(Object.keys(stored.keys as IDataObject)).toEqual(
			expect.arrayContaining(['c1', 'c3', 'c4']),
		);
	});

	// Keys every system already agreed on reach Sync Validate in plan-only mode too, so the base
	// learns them and a later row delete is a delete, not a missing row to recreate.
	it('plan-only hands keys already in sync on, so the base learns them', async () => {
		const result = await run(converged());
		const baseUpdates = json(result.output('Sync Validate', 1));
		expect(baseUpdates.map((b) => b.key).sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
	});

	it('Sync Validate fails with `differing` when one system read back differs', async () => {
		const readBack = converged();
		readBack.mariadb[0] = { ...readBack.mariadb[0], email: 'ada@stale.io' };
		const result = await run(readBack);
		const [report] = json(result.output('Sync Validate', 0));
		expect(report).toMatchObject({
			status: 'failed',
			validation_status: 'failed',
			differing: [{ key: 'c1', system: 'mariadb', fields: ['email'] }],
			missing: [],
			extra: [],
		});
		expect(report.reasons).toContain('1 record(s) differ from the resolution');
		// Only the keys that validated advance the base.
		const baseUpdates = json(result.output('Sync Validate', 1));
		expect(baseUpdates.map((b) => b.key)).not.toContain('c1');
		expect(baseUpdates.map((b) => b.key)).toEqual(expect.arrayContaining(['c3', 'c4']));
	});

	it('Sync Validate reports `missing` and `extra` from read-back inputs too', async () => {
		const readBack = converged();
		readBack.postgres = readBack.postgres.filter((r) => r.id !== 'c4'); // create not applied
		readBack.mariadb = [...readBack.mariadb, customer('c3')]; // delete not applied
		const result = await run(readBack);
		const [report] = json(result.output('Sync Validate', 0));
		expect(report).toMatchObject({
			status: 'failed',
			missing: [{ key: 'c4', system: 'postgres' }],
			extra: [{ key: 'c3', system: 'mariadb' }],
			differing: [],
		});
		const committed = json(result.output('Sync Validate', 1)).map((b) => b.key);
		expect(committed).toContain('c1');
		expect(committed).not.toContain('c3');
		expect(committed).not.toContain('c4');
	});
});

describe('disjoint edits merge, end to end (base in static data)', () => {
	// At the last validated sync every system held c1 and c2 like this. Since then Postgres (the
	// source) changed c1's email and MariaDB its tier: different fields, so nobody's edit is lost.
	const lastSync = [customer('c1'), customer('c2')];
	const edited: Record<System, IDataObject[]> = {
		postgres: [
			customer('c1', { email: 'ada@new.io', updated_at: '2026-03-01T10:00:00.000Z', version: 2 }),
			customer('c2'),
		],
		mariadb: [
			customer('c1', { tier: 'gold', updated_at: '2026-03-02T10:00:00.000Z', version: 4 }),
			customer('c2'),
		],
		system_a: [customer('c1'), customer('c2')],
	};
	// Key, updated-at and version come from the latest contributor (MariaDB).
	const merged = customer('c1', {
		email: 'ada@new.io',
		tier: 'gold',
		updated_at: '2026-03-02T10:00:00.000Z',
		version: 4,
	});
	const afterWrites = (): Record<System, IDataObject[]> => ({
		postgres: [{ ...merged, version: 3 }, customer('c2')],
		mariadb: [{ ...merged, version: 5 }, customer('c2')],
		system_a: [{ ...merged, version: 2 }, customer('c2')],
	});
	const runMerge = (readBack: Record<System, IDataObject[]>) =>
		run(readBack, edited, {}, staticBase(lastSync, 'composed'));

	it('Conflict Check sends it on as a clean change; Conflict Resolve merges it field by field', async () => {
		const result = await runMerge(afterWrites());
		expect(result.output('Conflict Check', 0)).toEqual([]);
		const [change] = json(result.output('Conflict Check', 1));
		expect(change).toMatchObject({
			key: 'c1',
			kind: 'change',
			basis: 'base',
			proposedFrom: 'merged',
			changedFields: { email: ['postgres'], tier: ['mariadb'] },
		});
		const [resolved] = json(result.output('Conflict Resolve', 0));
		expect(resolved.resolved).toEqual(merged);
		expect(resolved.audit).toMatchObject({
			strategy: 'cleanChange',
			winner: 'merged',
			fieldWinners: {
				email: { from: ['postgres'], rule: 'one_sided' },
				tier: { from: ['mariadb'], rule: 'one_sided' },
			},
			losingValues: {
				postgres: { tier: 'silver' },
				mariadb: { email: 'c1@example.com' },
				system_a: { email: 'c1@example.com', tier: 'silver' },
			},
		});
	});

	it('Multi Target Sync plans the merged record for every system, the source included (bidirectional)', async () => {
		const result = await runMerge(afterWrites());
		expect(plan(result)).toEqual([
			{ target: 'mariadb', key: 'c1', op: 'update', record: merged },
			{ target: 'postgres', key: 'c1', op: 'update', record: merged },
			{ target: 'system_a', key: 'c1', op: 'update', record: merged },
		]);
	});

	it('Sync Validate passes on the merged record and commits it to the base', async () => {
		const result = await runMerge(afterWrites());
		const [report] = json(result.output('Sync Validate', 0));
		expect(report).toMatchObject({ status: 'passed', differing: [], missing: [], reasons: [] });
		const [c1] = json(result.output('Sync Validate', 1)).filter((b) => b.key === 'c1');
		expect(c1.values).toMatchObject({ email: 'ada@new.io', tier: 'gold' });
		// A system still holding one side's edit only does not validate.
		const stale = afterWrites();
		stale.system_a[0] = { ...stale.system_a[0], tier: 'silver' };
		const [failed] = json((await runMerge(stale)).output('Sync Validate', 0));
		expect(failed).toMatchObject({
			status: 'failed',
			differing: [{ key: 'c1', system: 'system_a', fields: ['tier'] }],
		});
	});
});
