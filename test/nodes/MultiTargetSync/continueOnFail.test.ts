/**
 * Multi Target Sync under continue-on-fail, in n8n's engine (plan only and dry run: no system is
 * written): an item set aside upstream goes to Failed with its reason, a malformed item becomes an
 * error item naming the item and the field, and a node-level failure (mass-delete guard, unknown
 * target system) is one error item. Without continue-on-fail the same errors stop the node.
 */
import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { credentialData } from '../../../demo/systems/credentials';
import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE } from '../../harness';
import { connect, json, node } from '../../harness/build';
import { credentialTypes, nodeTypes, SYNC_TYPE } from '../../sync/pipeline';
import { resolvedFor } from '../sync-workflow';

const SYNC = 'Multi Target Sync';
const REGULAR: Partial<INode> = { onError: 'continueRegularOutput' };
const T0 = '2026-01-01T00:00:00Z';

const customer = (id: string, fields: IDataObject = {}): IDataObject => ({
	id,
	name: `Customer ${id}`,
	updated_at: T0,
	...fields,
});

/** c1 differs on system_b (a newer edit), c2 is missing on system_c. */
const twoKeys = () =>
	resolvedFor({
		system_a: [customer('c1'), customer('c2')],
		system_b: [customer('c1', { name: 'Ada', updated_at: '2026-02-01T00:00:00Z' }), customer('c2')],
		system_c: [customer('c1')],
	});

/** Twelve keys system_a deleted last: deleting them everywhere trips the mass-delete guard. */
const wipedSource = () => {
	const live = Array.from({ length: 12 }, (_, i) => customer(`d${i}`));
	const deleted = live.map((r) => ({ ...r, _deleted: true, updated_at: '2026-03-01T00:00:00Z' }));
	return resolvedFor({ system_a: deleted, system_b: live, system_c: live });
};

/** Trigger -> these items -> Multi Target Sync. */
async function sync(
	items: IDataObject[],
	parameters: IDataObject,
	extra: Partial<INode> = {},
	credentials?: Record<string, Record<string, string>>,
) {
	return await runWorkflow({
		workflow: {
			nodes: [
				node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
				node('Resolved', TEST_ITEMS_TYPE, { items } as INodeParameters),
				node(
					SYNC,
					SYNC_TYPE,
					{ syncType: 'bidirectional', targetSystems: 'system_b, system_c', ...parameters },
					extra,
				),
			],
			connections: connect(['Trigger', 'Resolved'], ['Resolved', SYNC]),
		},
		nodeTypes,
		credentials,
		credentialTypes,
		mode: 'trigger',
	});
}

const SET_ASIDE = {
	error: 'system_a: item 2: the record has no key: field "id" is missing or empty',
	details: { field: 'id', system: 'system_a' },
};

describe('Multi Target Sync under Continue (regular output)', () => {
	it('passes an item set aside upstream on to Failed, with its reason, and plans the rest', async () => {
		const items = await twoKeys();
		const result = await sync([items[0], SET_ASIDE, items[1]], { writeMode: 'planOnly' }, REGULAR);
		expect(result.status).toBe('success');
		const failed = result.output(SYNC, 1);
		expect(failed.map((i) => [i.json, i.pairedItem])).toEqual([[SET_ASIDE, { item: 1 }]]);
		const planned = json(result.output(SYNC, 0)).filter((r) => r.outcome === 'planned');
		// Bidirectional: system_b's newer edit of c1 goes to the source too.
		expect(planned.map((r) => [r.key, r.target, r.op])).toEqual([
			['c1', 'system_a', 'update'],
			['c1', 'system_c', 'update'],
			['c2', 'system_c', 'create'],
		]);
	});

	it('turns a malformed item into an error item on Failed naming the item and the field', async () => {
		const items = await twoKeys();
		const { systems: _, ...noSystems } = items[1];
		const result = await sync([items[0], noSystems], { writeMode: 'dryRun' }, REGULAR);
		expect(result.status).toBe('success');
		expect(result.output(SYNC, 1)).toEqual([
			{
				json: {
					error: 'Item 1 is not a Conflict Resolve result: field "systems" is missing',
					details: {
						description: 'Field: systems. Connect the Resolved output of a Conflict Resolve node.',
					},
				},
				pairedItem: { item: 1 },
			},
		]);
		const results = json(result.output(SYNC, 0));
		expect(new Set(results.map((r) => r.key))).toEqual(new Set(['c1']));
		const planned = results.filter((r) => r.outcome === 'planned');
		expect(planned.map((r) => [r.system, r.action, r.dryRun])).toEqual([
			['system_a', 'would update', true],
			['system_c', 'would update', true],
		]);
	});

	it('gives an unknown sync type as an error item naming the field, per item', async () => {
		const items = await twoKeys();
		const result = await sync(
			items,
			{ writeMode: 'planOnly', syncType: '={{ $json.key === "c1" ? "sideways" : "one_way" }}' },
			REGULAR,
		);
		expect(json(result.output(SYNC, 1))).toEqual([
			{
				error: 'Item 0: unknown sync type "sideways"',
				details: { description: 'Field: sync_type. Use bidirectional, one_way or real_time.' },
			},
		]);
		expect(new Set(json(result.output(SYNC, 0)).map((r) => r.key))).toEqual(new Set(['c2']));
	});

	it('turns the mass-delete guard into one error item on Results, with nothing planned', async () => {
		const result = await sync(await wipedSource(), { writeMode: 'planOnly' }, REGULAR);
		expect(result.status).toBe('success');
		expect(result.output(SYNC, 0)).toEqual([
			{
				json: {
					error:
						'Mass-delete guard: this sync would delete 12 of 12 records on system_b (100%, over the 50% limit). Nothing was written.',
					details: {
						description:
							'If the deletes are intended, raise Max Delete Share in the options, or sync in smaller parts.',
					},
				},
				pairedItem: { item: 0 },
			},
		]);
		expect(result.output(SYNC, 1)).toEqual([]);
		expect(result.output(SYNC, 2)).toEqual([]);
	});

	it('turns an unknown target system into one error item, before anything is written', async () => {
		// Credentials for system_a and system_b only; the URL is never reached.
		const credentials = {
			dataSyncSystemApi: credentialData('system_a', 'http://127.0.0.1:9', { type: 'none' }),
			dataSyncSystem2Api: credentialData('system_b', 'http://127.0.0.1:9', { type: 'none' }),
		};
		const attached = {
			credentials: {
				dataSyncSystemApi: { id: '1', name: 'system_a' },
				dataSyncSystem2Api: { id: '2', name: 'system_b' },
			},
		};
		const result = await sync(
			await twoKeys(),
			{ writeMode: 'write', connectedSystems: 2 },
			{ ...REGULAR, ...attached },
			credentials,
		);
		expect(result.status).toBe('success');
		const items = json(result.output(SYNC, 0));
		expect(items).toEqual([
			{
				error: 'Unknown system "system_c" in target_systems',
				details: {
					description:
						'Field: target_systems. Connected systems: system_a, system_b. Add a Data Sync System credential whose System Name is "system_c".',
				},
			},
		]);
	});
});

describe('Multi Target Sync without continue-on-fail', () => {
	it('stops on a malformed item with the error naming the item and the field', async () => {
		const result = await sync([{ key: 'c9' }], { writeMode: 'planOnly' });
		expect(result.status).toBe('error');
		expect(result.error!.message).toBe(
			'Item 0 is not a Conflict Resolve result: field "sourceSystem" is missing',
		);
	});

	it('stops on the mass-delete guard', async () => {
		const result = await sync(await wipedSource(), { writeMode: 'planOnly' });
		expect(result.status).toBe('error');
		expect(result.error!.message).toMatch(/^Mass-delete guard: this sync would delete 12 of 12/);
	});

	it('does not apply the guard to a dry run, which only shows the deletes', async () => {
		const result = await sync(await wipedSource(), { writeMode: 'dryRun' });
		expect(result.status).toBe('success');
		const planned = json(result.output(SYNC, 0)).filter((r) => r.outcome === 'planned');
		expect(planned).toHaveLength(24);
		expect(planned.every((r) => r.action === 'would delete')).toBe(true);
	});
});
