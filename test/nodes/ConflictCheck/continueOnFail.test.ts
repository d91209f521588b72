/**
 * Conflict Check under n8n's two continue-on-fail settings, in n8n's engine, with the next node
 * (Conflict Resolve) connected: bad records and node-level failures must reach a place where a
 * person can read them, and never crash the node after.
 */
import type { IDataObject, INode } from 'n8n-workflow';

import { runWorkflow } from '../../harness';
import { json } from '../../harness/build';
import { credentialTypes } from '../../sync/pipeline';
import { nodeTypes, staticBase, syncWorkflow } from '../sync-workflow';

const CHECK = 'Conflict Check';
const RESOLVE = 'Conflict Resolve';
const T0 = '2026-01-01T00:00:00Z';
const REGULAR: Partial<INode> = { onError: 'continueRegularOutput' };
const ERROR_OUTPUT: Partial<INode> = { onError: 'continueErrorOutput' };

const lastSync: IDataObject[] = [
	{ id: 'c1', name: 'Ada', email: 'ada@a.io', updated_at: T0 },
	{ id: 'c2', name: 'Bob', email: 'bob@a.io', updated_at: T0 },
];

/** c1: both systems changed the email (a conflict); c2: only system_b changed the name. */
const systems = () => ({
	system_a: [
		{ ...lastSync[0], email: 'ada@new.io', updated_at: '2026-02-01T10:00:00Z' },
		lastSync[1],
		{ name: 'no key', email: 'x' },
	],
	system_b: [
		{ ...lastSync[0], email: 'ada@b.io', updated_at: '2026-02-01T09:00:00Z' },
		{ ...lastSync[1], name: 'Robert', updated_at: '2026-02-01T08:00:00Z' },
	],
});

const NO_KEY = 'system_a: item 2: the record has no key: field "id" is missing or empty';

async function run(checkExtra: Partial<INode>, check: IDataObject = {}) {
	const result = await runWorkflow({
		workflow: syncWorkflow({
			systems: systems(),
			check,
			checkExtra,
			resolve: { strategy: 'sourceWins' },
			resolveChanges: true,
			staticData: staticBase(lastSync),
		}),
		nodeTypes,
		mode: 'trigger',
	});
	expect(result.error).toBeUndefined();
	expect(result.status).toBe('success');
	return result;
}

const isError = (item: IDataObject) => typeof item.error === 'string';

describe('Conflict Check under Continue (regular output)', () => {
	it('puts a bad record on the Conflicts output as an error item with its reason; the rest are checked', async () => {
		const result = await run(REGULAR);
		const conflicts = result.output(CHECK, 0);
		expect(conflicts.map((i) => i.json.key ?? i.json.error)).toEqual(['c1', NO_KEY]);
		expect(conflicts[1].json).toEqual({
			error: NO_KEY,
			details: { field: 'id', system: 'system_a' },
		});
		expect(conflicts[1].pairedItem).toEqual({ item: 2, input: 0 });
		expect(json(result.output(CHECK, 1)).map((i) => i.key)).toEqual(['c2']);
		expect(json(result.output(CHECK, 2))[0].counts).toMatchObject({
			keys: 2,
			conflicts: 1,
			changes: 1,
			rejected: 1,
		});
	});

	it('Conflict Resolve passes the error item on with its reason and resolves the rest', async () => {
		const result = await run(REGULAR);
		expect(result.nodeError(RESOLVE)).toBeUndefined();
		const resolved = json(result.output(RESOLVE, 0));
		expect(resolved.filter(isError)).toEqual([
			{ error: NO_KEY, details: { field: 'id', system: 'system_a' } },
		]);
		const good = resolved.filter((i) => !isError(i));
		expect(good.map((i) => [i.key, (i.resolved as IDataObject).email])).toEqual([
			['c1', 'ada@new.io'],
			['c2', 'bob@a.io'],
		]);
		expect(result.output(RESOLVE, 1)).toEqual([]);
	});

	it('Reject All on a Bad Record: only the error items go on, and Conflict Resolve passes them on', async () => {
		const result = await run(REGULAR, { options: { rejectAll: true } });
		expect(json(result.output(CHECK, 0))).toEqual([
			{ error: NO_KEY, details: { field: 'id', system: 'system_a' } },
		]);
		expect(result.output(CHECK, 1)).toEqual([]);
		expect(result.output(CHECK, 2)).toEqual([]);
		expect(json(result.output(RESOLVE, 0))).toEqual([
			{ error: NO_KEY, details: { field: 'id', system: 'system_a' } },
		]);
	});
});

describe('Conflict Check under Continue (using error output)', () => {
	it('sends the bad record, with its reason, to the error output; Conflict Resolve sees only good keys', async () => {
		const result = await run(ERROR_OUTPUT);
		const errors = result.output(CHECK, 3);
		expect(errors).toHaveLength(1);
		// n8n merges the paired input item in: the bad record travels with its reason.
		expect(errors[0].json).toEqual({
			name: 'no key',
			email: 'x',
			error: NO_KEY,
			details: { field: 'id', system: 'system_a' },
		});
		expect(errors[0].pairedItem).toEqual({ item: 2, input: 0 });
		for (const output of [0, 1, 2])
			expect(json(result.output(CHECK, output)).filter(isError)).toEqual([]);
		expect(json(result.output(CHECK, 0)).map((i) => i.key)).toEqual(['c1']);
		expect(json(result.output(RESOLVE, 0)).map((i) => i.key)).toEqual(['c1', 'c2']);
	});
});

describe('a node-level failure under continue-on-fail gives one error item', () => {
	/** Over HTTP, with one credential (system_b): the source system is one the node cannot reach. */
	async function unknownSource(checkExtra: Partial<INode>) {
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: { system_a: systems().system_a.slice(0, 2) },
				check: {
					sourceSystem: 'nowhere',
					systemsFrom: 'http',
					httpSystems: 'system_b',
					connectedSystems: 1,
				},
				checkExtra: {
					...checkExtra,
					credentials: { dataSyncSystemApi: { id: '1', name: 'system_b' } },
				},
				resolve: {},
			}),
			nodeTypes,
			credentials: {
				dataSyncSystemApi: { systemName: 'system_b', baseUrl: 'http://127.0.0.1:9' },
			},
			credentialTypes,
		});
		expect(result.status).toBe('success');
		return result;
	}

	const UNKNOWN = {
		error: 'Unknown system "nowhere" in Source System',
		details: {
			description:
				'Field: Source System. Connected systems: system_b. Add a Data Sync System credential whose System Name is "nowhere".',
		},
	};

	it('on the error output, paired with the first source item, and nothing down the main path', async () => {
		const result = await unknownSource(ERROR_OUTPUT);
		const errors = result.output(CHECK, 3);
		expect(errors).toHaveLength(1);
		expect(errors[0].json).toEqual({ ...systems().system_a[0], ...UNKNOWN });
		expect(errors[0].pairedItem).toEqual({ item: 0 });
		for (const output of [0, 1, 2]) expect(result.output(CHECK, output)).toEqual([]);
		expect(result.output(RESOLVE, 0)).toEqual([]);
	});

	it('on the regular output, and Conflict Resolve passes it on instead of failing', async () => {
		const result = await unknownSource(REGULAR);
		expect(json(result.output(CHECK, 0))).toEqual([UNKNOWN]);
		expect(result.output(CHECK, 1)).toEqual([]);
		expect(result.output(CHECK, 2)).toEqual([]);
		expect(result.nodeError(RESOLVE)).toBeUndefined();
		expect(json(result.output(RESOLVE, 0))).toEqual([UNKNOWN]);
	});

	it('a bad Base input row is such a failure too, naming the item and the field', async () => {
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				resolve: {},
				baseItems: [{ key: 'c1' }],
				checkExtra: REGULAR,
			}),
			nodeTypes,
		});
		expect(json(result.output(CHECK, 0))).toEqual([
			{
				error: 'Base item 0 is not a base entry: field "fingerprint" is missing',
				details: {
					description:
						'Field: fingerprint. Feed the Base Updates output of Sync Validate, or rows of the table they were stored in (key, fingerprint, values).',
				},
			},
		]);
		expect(json(result.output(RESOLVE, 0))).toHaveLength(1);
		expect(json(result.output(RESOLVE, 0))[0].error).toMatch(/^Base item 0 is not a base entry/);
	});
});
