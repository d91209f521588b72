/**
 * Sync Validate under Continue (regular output), in n8n's own engine: what an earlier node set
 * aside is reported, never a crash; its own failures become an error item; without
 * continue-on-fail the clear error still stops the workflow.
 */
import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { fingerprint } from '../../../nodes/shared/engine';
import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE } from '../../harness';
import { connect, json, node } from '../../harness/build';
import { nodeTypes, SYNC_TYPE, VALIDATE_TYPE } from '../../sync/pipeline';

const params = (p: object) => p as INodeParameters;
const IGNORED = ['id', 'updated_at', 'version', '_deleted'];
const customer = (id: string) => ({ id, name: `Customer ${id}`, tier: 'silver' });

/** A Multi Target Sync result: key k written on system s. */
const syncResult = (key: string, system: string): IDataObject => ({
	syncId: 'sync-1',
	key,
	sourceSystem: 'a',
	syncType: 'bidirectional',
	targets: ['b'],
	systems: ['a', 'b'],
	strategy: 'cleanChange',
	audit: null,
	expected: customer(key),
	ignoredFields: IGNORED,
	keyFields: ['id'],
	tombstoneField: '_deleted',
	system,
	outcome: system === 'a' ? 'unchanged' : 'written',
	action: null,
	expectedFingerprint: fingerprint(customer(key), new Set(IGNORED)),
});

/** A Conflict Resolve result for one key, as Multi Target Sync reads it. */
const resolved = (key: string): IDataObject => ({
	key,
	kind: 'change',
	sourceSystem: 'a',
	systems: ['a', 'b'],
	states: { a: 'changed', b: 'unchanged' },
	records: { a: customer(key), b: { ...customer(key), tier: 'gold' } },
	deleted: { a: false, b: false },
	updatedAt: { a: null, b: null },
	ignoredFields: IGNORED,
	keyFields: ['id'],
	tombstoneField: '_deleted',
	resolved: customer(key),
	resolvedDeleted: false,
});

interface Options {
	/** The items on Sync Validate's Sync Results input; or `sync` to put Multi Target Sync there. */
	results: IDataObject[] | { sync: IDataObject[] };
	validate?: Partial<INode>;
	sync?: Partial<INode>;
}

/** (Resolved -> Multi Target Sync ->) Sync Validate, reading a and b back from inputs. */
function workflow(o: Options) {
	const readBack = { a: [customer('k1'), customer('k2')], b: [customer('k1'), customer('k2')] };
	const nodes: INode[] = [node('Trigger', TEST_TRIGGER_TYPE, params({ items: [{}] }))];
	const edges: Array<[string, string, number?, number?]> = [];
	if (Array.isArray(o.results)) {
		nodes.push(node('Results', TEST_ITEMS_TYPE, params({ items: o.results })));
		edges.push(['Trigger', 'Results'], ['Results', 'Sync Validate', 0, 0]);
	} else {
		nodes.push(
			node('Resolved', TEST_ITEMS_TYPE, params({ items: o.results.sync })),
			// Over HTTP, with no credential for system b: a node-level error before any write.
			node(
				'Multi Target Sync',
				SYNC_TYPE,
				params({ writeMode: 'write', syncType: 'bidirectional', targetSystems: 'b' }),
				o.sync,
			),
		);
		edges.push(
			['Trigger', 'Resolved'],
			['Resolved', 'Multi Target Sync'],
			['Multi Target Sync', 'Sync Validate', 0, 0],
		);
	}
	for (const [i, system] of ['a', 'b'].entries()) {
		nodes.push(node(`${system} Now`, TEST_ITEMS_TYPE, params({ items: readBack[system as 'a'] })));
		edges.push(['Trigger', `${system} Now`], [`${system} Now`, 'Sync Validate', 0, i + 2]);
	}
	nodes.push(
		node(
			'Sync Validate',
			VALIDATE_TYPE,
			params({ readBackFrom: 'inputs', readBackSystems: 'a, b', baseTarget: 'output' }),
			o.validate,
		),
	);
	return { nodes, connections: connect(...edges) };
}

const run = async (o: Options) =>
	await runWorkflow({ workflow: workflow(o), nodeTypes, mode: 'webhook' });

const continueRegular: Partial<INode> = { onError: 'continueRegularOutput' };

describe('Sync Validate under Continue (regular output)', () => {
	it('Multi Target Sync failing on Continue: its error item is set aside and reported, nothing crashes', async () => {
		const result = await run({
			results: { sync: [resolved('k1')] },
			sync: continueRegular,
		});
		expect(result.status).toBe('success');
		const [failure] = json(result.output('Multi Target Sync', 0));
		expect(failure.error).toMatch(/system/i);
		expect(failure.key).toBeUndefined();

		const [report] = json(result.output('Sync Validate', 0));
		expect(report).toMatchObject({ status: 'failed', validation_status: 'failed' });
		expect(report.reasons).toEqual([
			`1 result item(s) set aside by an earlier node (item 0): ${String(failure.error)}`,
		]);
		expect(result.output('Sync Validate', 1)).toEqual([]);
	});

	it('set-aside items among results: the rest validate and advance the base, the report fails naming them', async () => {
		const setAside = { error: 'Unknown system "c"', details: { field: 'target_systems' } };
		const result = await run({
			results: [syncResult('k1', 'a'), setAside, syncResult('k1', 'b'), setAside],
		});
		expect(result.status).toBe('success');
		const [report] = json(result.output('Sync Validate', 0));
		expect(report).toMatchObject({
			status: 'failed',
			reasons: ['2 result item(s) set aside by an earlier node (item 1, 3): Unknown system "c"'],
			counts: { validate: { keys: 1, passed: 1, failed: 0 } },
			missing: [],
			differing: [],
		});
		expect(json(result.output('Sync Validate', 1)).map((b) => b.key)).toEqual(['k1']);
		// Every input item is paired with the report, the set-aside ones too.
		expect(result.output('Sync Validate', 0)[0].pairedItem).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
	});

	it('a malformed result (not an error item) under Continue gives an error item, not a crash', async () => {
		const result = await run({
			results: [syncResult('k1', 'a'), { key: 'k1', system: 'b', outcome: 'written' }],
			validate: continueRegular,
		});
		expect(result.status).toBe('success');
		expect(result.nodeError('Sync Validate')).toBeUndefined();
		expect(json(result.output('Sync Validate', 0))).toEqual([
			{
				error: 'Item 1 is not a Multi Target Sync result: field "expectedFingerprint" is missing',
				details: {
					description:
						'Field: expectedFingerprint. Connect the Results output of Multi Target Sync.',
				},
			},
		]);
		expect(result.output('Sync Validate', 1)).toEqual([]);
	});

	it('a base over its bound under Continue: an error item with the reason, nothing committed', async () => {
		const twoKeys = ['a', 'b'].flatMap((s) => [syncResult('k1', s), syncResult('k2', s)]);
		const result = await runWorkflow({
			workflow: workflow({
				results: twoKeys,
				validate: {
					...continueRegular,
					parameters: params({
						readBackFrom: 'inputs',
						readBackSystems: 'a, b',
						baseTarget: 'staticData',
						syncName: 'bounded',
						options: { maxBaseKeys: 1 },
					}),
				},
			}),
			nodeTypes,
			mode: 'webhook',
		});
		expect(result.status).toBe('success');
		expect(json(result.output('Sync Validate', 0))).toEqual([
			{
				error:
					'Base "bounded": the base holds 2 keys, over the bound of 1 for workflow static data',
				details: { description: expect.stringMatching(/Base Updates Output Only/) },
			},
		]);
		expect(result.output('Sync Validate', 1)).toEqual([]);
		expect(
			(result.staticData.global as IDataObject | undefined)?.['dataSync:bounded'],
		).toBeUndefined();
	});

	it('without continue-on-fail the clear error still stops the workflow', async () => {
		const result = await run({
			results: [syncResult('k1', 'a'), { key: 'k1', system: 'b', outcome: 'written' }],
		});
		expect(result.status).toBe('error');
		expect(result.error!.message).toBe(
			'Item 1 is not a Multi Target Sync result: field "expectedFingerprint" is missing',
		);
	});
});
