/**
 * Conflict Resolve under continue-on-fail, in n8n's engine: an item set aside upstream passes on to
 * Resolved with its reason, a malformed item or an unknown strategy becomes an error item naming
 * the item and the field, and the next node (Multi Target Sync) sets those aside instead of
 * failing. Without continue-on-fail the same errors stop the node.
 */
import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE } from '../../harness';
import { connect, json, node } from '../../harness/build';
import { nodeTypes, SYNC_TYPE } from '../../sync/pipeline';
import { RESOLVE_TYPE, staticBase, syncWorkflow } from '../sync-workflow';

const RESOLVE = 'Conflict Resolve';
const SYNC = 'Multi Target Sync';
const REGULAR: Partial<INode> = { onError: 'continueRegularOutput' };
const T0 = '2026-01-01T00:00:00Z';

/** Conflict Check's Conflicts and Changes: c1 edited on both systems, c2 on system_b only. */
async function checked(): Promise<{ conflicts: IDataObject[]; changes: IDataObject[] }> {
	const lastSync = [
		{ id: 'c1', name: 'Ada', updated_at: T0 },
		{ id: 'c2', name: 'Bob', updated_at: T0 },
	];
	const result = await runWorkflow({
		workflow: syncWorkflow({
			systems: {
				system_a: [
					{ ...lastSync[0], name: 'Ada A', updated_at: '2026-02-02T00:00:00Z' },
					lastSync[1],
				],
				system_b: [
					{ ...lastSync[0], name: 'Ada B', updated_at: '2026-02-01T00:00:00Z' },
					{ ...lastSync[1], name: 'Robert', updated_at: '2026-02-01T00:00:00Z' },
				],
			},
			resolve: false,
			staticData: staticBase(lastSync),
		}),
		nodeTypes,
		mode: 'trigger',
	});
	expect(result.status).toBe('success');
	return {
		conflicts: json(result.output('Conflict Check', 0)),
		changes: json(result.output('Conflict Check', 1)),
	};
}

/** Trigger -> Conflicts and Changes items -> Conflict Resolve (-> Multi Target Sync, plan only). */
async function resolve(
	conflicts: IDataObject[],
	changes: IDataObject[],
	parameters: IDataObject = {},
	extra: Partial<INode> = {},
	withSync = false,
) {
	const nodes = [
		node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
		node('Conflicts', TEST_ITEMS_TYPE, { items: conflicts } as INodeParameters),
		node('Changes', TEST_ITEMS_TYPE, { items: changes } as INodeParameters),
		node(RESOLVE, RESOLVE_TYPE, { strategy: 'lastWriterWins', ...parameters }, extra),
	];
	const edges: Array<[string, string, number?, number?]> = [
		['Trigger', 'Conflicts'],
		['Trigger', 'Changes'],
		['Conflicts', RESOLVE, 0, 0],
		['Changes', RESOLVE, 0, 1],
	];
	if (withSync) {
		nodes.push(
			node(SYNC, SYNC_TYPE, {
				writeMode: 'planOnly',
				syncType: 'bidirectional',
				targetSystems: 'system_b',
			}),
		);
		edges.push([RESOLVE, SYNC]);
	}
	return await runWorkflow({
		workflow: { nodes, connections: connect(...edges) },
		nodeTypes,
		mode: 'trigger',
	});
}

const SET_ASIDE = {
	error: 'system_a: item 2: the record has no key: field "id" is missing or empty',
	details: { field: 'id', system: 'system_a' },
};

const isError = (item: IDataObject) => typeof item.error === 'string';

describe('Conflict Resolve under Continue (regular output)', () => {
	it('passes items set aside upstream on to Resolved with their reason, on either input', async () => {
		const { conflicts, changes } = await checked();
		const result = await resolve([SET_ASIDE, ...conflicts], [...changes, SET_ASIDE], {}, REGULAR);
		expect(result.status).toBe('success');
		const resolved = result.output(RESOLVE, 0);
		expect(resolved.map((i) => i.json.key ?? i.json.error)).toEqual([
			SET_ASIDE.error,
			'c1',
			'c2',
			SET_ASIDE.error,
		]);
		expect(resolved[0]).toEqual({ json: SET_ASIDE, pairedItem: { item: 0 } });
		expect(resolved[3]).toEqual({ json: SET_ASIDE, pairedItem: { item: 1, input: 1 } });
		expect(resolved[1].json).toMatchObject({ resolved: { name: 'Ada A' } });
		expect(resolved[2].json).toMatchObject({ resolved: { name: 'Robert' } });
	});

	it('turns a malformed item into an error item naming the item and the field', async () => {
		const { conflicts, changes } = await checked();
		const { sourceSystem: _, ...noSource } = conflicts[0];
		const result = await resolve([conflicts[0], noSource], changes, {}, REGULAR);
		const resolved = result.output(RESOLVE, 0);
		expect(resolved.map((i) => i.json.key ?? i.json.error)).toEqual([
			'c1',
			'Item 1 is not a Conflict Check result: field "sourceSystem" is missing',
			'c2',
		]);
		expect(resolved[1]).toEqual({
			json: {
				error: 'Item 1 is not a Conflict Check result: field "sourceSystem" is missing',
				details: {
					description:
						'Field: sourceSystem. Connect the Conflicts or Changes output of a Conflict Check node.',
				},
			},
			pairedItem: { item: 1 },
		});
	});

	it('gives an unknown strategy, and a conflict on the Changes input, as error items naming the field', async () => {
		const { conflicts, changes } = await checked();
		const result = await resolve(
			conflicts,
			[...changes, conflicts[0]],
			{ strategy: 'coinFlip' },
			REGULAR,
		);
		expect(json(result.output(RESOLVE, 0))).toEqual([
			{
				error: 'Item 0: unknown strategy "coinFlip"',
				details: {
					description:
						'Field: strategy. Use one of: lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview',
				},
			},
			// A clean change needs no strategy: it resolves to its proposal.
			expect.objectContaining({ key: 'c2', resolved: expect.objectContaining({ name: 'Robert' }) }),
			{
				error: 'Changes item 1 is a conflict on the Changes input',
				details: {
					description: 'Field: kind. Connect Conflict Check’s Conflicts output to the first input.',
				},
			},
		]);
	});

	it('its error items reach Multi Target Sync, which sets them aside on Failed and plans the rest', async () => {
		const { conflicts, changes } = await checked();
		const { sourceSystem: _, ...noSource } = conflicts[0];
		const result = await resolve([noSource], changes, {}, REGULAR, true);
		expect(result.status).toBe('success');
		expect(result.nodeError(SYNC)).toBeUndefined();
		expect(json(result.output(SYNC, 1))).toEqual([
			{
				error: 'Item 0 is not a Conflict Check result: field "sourceSystem" is missing',
				details: {
					description:
						'Field: sourceSystem. Connect the Conflicts or Changes output of a Conflict Check node.',
				},
			},
		]);
		const results = json(result.output(SYNC, 0));
		expect(results.filter(isError)).toEqual([]);
		// c2: system_b made the change, the source gets it.
		expect(results.map((r) => [r.key, r.system, r.outcome])).toEqual([
			['c2', 'system_b', 'unchanged'],
			['c2', 'system_a', 'planned'],
		]);
	});
});

describe('Conflict Resolve without continue-on-fail', () => {
	it('stops on a malformed item with the error naming the item and the field', async () => {
		const { conflicts } = await checked();
		const { sourceSystem: _, ...noSource } = conflicts[0];
		const result = await resolve([noSource], []);
		expect(result.status).toBe('error');
		expect(result.error!.message).toBe(
			'Item 0 is not a Conflict Check result: field "sourceSystem" is missing',
		);
	});

	it('stops on an unknown strategy', async () => {
		const { conflicts } = await checked();
		const result = await resolve(conflicts, [], { strategy: 'coinFlip' });
		expect(result.status).toBe('error');
		expect(result.error!.message).toBe('Item 0: unknown strategy "coinFlip"');
	});
});
