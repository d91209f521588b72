import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE } from '../../harness';
import { allRuns, connect, json, node } from '../../harness/build';
import { nodeTypes, RESOLVE_TYPE, staticBase, syncWorkflow } from '../sync-workflow';

const RESOLVE = 'Conflict Resolve';
const T0 = '2026-01-01T00:00:00Z';

const lastSync: IDataObject[] = [
	{
		id: 'c1',
		name: 'Ada',
		email: 'ada@a.io',
		phone: '1',
		balance: 10,
		tags: ['vip'],
		updated_at: T0,
	},
	{ id: 'c2', name: 'Bob', email: 'bob@a.io', phone: '2', balance: 5, tags: [], updated_at: T0 },
];

const systems = () => ({
	system_a: [
		{
			...lastSync[0],
			email: 'ada@new.io',
			balance: 13,
			tags: ['vip', 'eu'],
			updated_at: '2026-02-01T10:00:00Z',
		},
		lastSync[1],
	],
	system_b: [
		{
			...lastSync[0],
			phone: '9',
			balance: 15,
			tags: ['vip', 'beta'],
			updated_at: '2026-02-01T09:00:00Z',
		},
		{ ...lastSync[1], name: 'Robert', updated_at: '2026-02-01T08:00:00Z' },
	],
	system_c: lastSync,
});

async function resolveWith(
	resolve: IDataObject,
	extra: Parameters<typeof syncWorkflow>[0] extends infer O ? Partial<O> : never = {},
) {
	const result = await runWorkflow({
		workflow: syncWorkflow({
			systems: systems(),
			staticData: staticBase(lastSync),
			resolve,
			...extra,
		}),
		nodeTypes,
		mode: 'trigger',
	});
	expect(result.status).toBe('success');
	return result;
}

describe('Conflict Resolve node (in n8n’s engine)', () => {
	it('puts the verdict, the resolution and its audit first, the check detail after', async () => {
		const result = await resolveWith({ strategy: 'lastWriterWins' });
		const [c1] = json(result.output(RESOLVE, 0));
		expect(Object.keys(c1).slice(0, 7)).toEqual([
			'key',
			'kind',
			'conflictType',
			'reason',
			'resolved',
			'resolvedDeleted',
			'audit',
		]);
		// The check's detail follows, once: the records, and how they are read.
		expect(Object.keys(c1)).toEqual(expect.arrayContaining(['records', 'states', 'ignoredFields']));
		expect(Object.keys(c1).filter((k) => k === 'audit')).toHaveLength(1);
	});

	// Changed: before, system_b's one-sided phone change was lost to system_a's record (it was only
	// in losingValues). Now the later writer decides the contested fields (balance, tags) only.
	it('last writer wins: the later updated-at decides the contested fields, one-sided changes are kept, every overwritten value is in the audit', async () => {
		const result = await resolveWith({ strategy: 'lastWriterWins' });
		const [c1] = json(result.output(RESOLVE, 0));
		expect(c1.resolved).toEqual({ ...systems().system_a[0], phone: '9' });
		expect(c1.resolvedDeleted).toBe(false);
		const why =
			'lastWriterWins: system_a has the latest updated-at (2026-02-01T10:00:00.000Z; system_b 2026-02-01T09:00:00.000Z)';
		expect(c1.audit).toEqual({
			strategy: 'lastWriterWins',
			winner: 'merged',
			fieldWinners: {
				balance: { from: ['system_a'], rule: 'lastWriterWins' },
				email: { from: ['system_a'], rule: 'one_sided' },
				phone: { from: ['system_b'], rule: 'one_sided' },
				tags: { from: ['system_a'], rule: 'lastWriterWins' },
			},
			losingValues: {
				system_a: { phone: '1' },
				system_b: { balance: 15, email: 'ada@a.io', tags: ['vip', 'beta'] },
				system_c: { balance: 10, email: 'ada@a.io', phone: '1', tags: ['vip'] },
			},
			notes: [
				why,
				`field "balance": system_a and system_b changed it differently; ${why}`,
				'field "email": only system_a changed it, kept',
				'field "phone": only system_b changed it, kept',
				`field "tags": system_a and system_b changed it differently; ${why}`,
			],
		});
		expect(result.output(RESOLVE, 0)[0].pairedItem).toEqual({ item: 0 });
	});

	it('field-level merge takes one-sided changes from each side and decides conflicting fields by the secondary rule', async () => {
		const result = await resolveWith({
			strategy: 'fieldMerge',
			secondaryRule: 'systemPriority',
			priority: 'system_b, system_a',
		});
		const [c1] = json(result.output(RESOLVE, 0));
		expect(c1.resolved).toEqual({
			id: 'c1',
			name: 'Ada',
			email: 'ada@new.io',
			phone: '9',
			balance: 15,
			tags: ['vip', 'beta'],
			updated_at: '2026-02-01T09:00:00Z',
		});
		expect(c1.audit).toMatchObject({
			strategy: 'fieldMerge',
			winner: 'merged',
			fieldWinners: {
				email: { from: ['system_a'], rule: 'one_sided' },
				phone: { from: ['system_b'], rule: 'one_sided' },
				balance: { from: ['system_b'], rule: 'systemPriority' },
				tags: { from: ['system_b'], rule: 'systemPriority' },
			},
			losingValues: { system_a: { balance: 13, phone: '1', tags: ['vip', 'eu'] } },
		});
	});

	it('per-field rules: counter merge keeps both increments, array union keeps every tag', async () => {
		const result = await resolveWith({
			strategy: 'fieldMerge',
			fieldRules: {
				rule: [
					{ field: 'balance', rule: 'counter' },
					{ field: 'tags', rule: 'arrayUnion' },
				],
			},
		});
		const [c1] = json(result.output(RESOLVE, 0));
		expect(c1.resolved).toMatchObject({
			balance: 18,
			tags: ['vip', 'eu', 'beta'],
			email: 'ada@new.io',
			phone: '9',
		});
		expect((c1.audit as IDataObject).fieldWinners).toMatchObject({
			balance: { from: ['system_a', 'system_b'], rule: 'counter' },
			tags: { rule: 'arrayUnion' },
		});
	});

	// Changed: before, both picked whole records, losing the other side's one-sided change.
	it('source wins and system priority decide the contested fields and keep one-sided changes', async () => {
		const source = json((await resolveWith({ strategy: 'sourceWins' })).output(RESOLVE, 0))[0];
		expect(source.audit).toMatchObject({
			strategy: 'sourceWins',
			winner: 'merged',
			fieldWinners: {
				balance: { from: ['system_a'], rule: 'sourceWins' },
				phone: { from: ['system_b'], rule: 'one_sided' },
			},
		});
		expect(source.resolved).toEqual({ ...systems().system_a[0], phone: '9' });
		const priority = json(
			(await resolveWith({ strategy: 'systemPriority', priority: 'system_c, system_b' })).output(
				RESOLVE,
				0,
			),
		)[0];
		// system_c did not change the record, so the first listed system that did decides.
		expect(priority.audit).toMatchObject({
			strategy: 'systemPriority',
			winner: 'merged',
			fieldWinners: { balance: { from: ['system_b'], rule: 'systemPriority' } },
		});
		expect(((priority.audit as IDataObject).notes as string[])[0]).toBe(
			'systemPriority: system_b comes first in the priority list (system_c, system_b) among system_b, system_a',
		);
		expect(priority.resolved).toEqual({ ...systems().system_b[0], email: 'ada@new.io' });
	});

	it('manual review routes conflicts untouched to Needs Review; clean changes still resolve', async () => {
		const result = await resolveWith({ strategy: 'manualReview' }, { resolveChanges: true });
		// Conflicts and Changes arrive on two inputs of one run.
		expect(result.runData[RESOLVE]).toHaveLength(1);
		const review = allRuns(result, RESOLVE, 1);
		const checked = result.output('Conflict Check', 0);
		expect(review.map((i) => i.json)).toEqual(checked.map((i) => i.json));
		expect(review[0].pairedItem).toEqual({ item: 0 });
		expect(allRuns(result, RESOLVE, 0)[0].pairedItem).toEqual({ item: 0, input: 1 });
		const [c2] = json(allRuns(result, RESOLVE, 0));
		expect(c2).toMatchObject({
			key: 'c2',
			resolved: systems().system_b[1],
			audit: {
				strategy: 'cleanChange',
				winner: 'system_b',
				losingValues: { system_a: { name: 'Bob' }, system_c: { name: 'Bob' } },
			},
		});
	});

	it('edits to different fields arrive as a clean change and resolve merged, whatever the strategy', async () => {
		const s = systems();
		s.system_b[0] = { ...lastSync[0], phone: '9', updated_at: '2026-02-01T09:00:00Z' } as never;
		for (const strategy of ['manualReview', 'sourceWins', 'lastWriterWins']) {
			const result = await resolveWith({ strategy }, { systems: s, resolveChanges: true });
			expect(allRuns(result, RESOLVE, 1)).toEqual([]);
			const c1 = json(allRuns(result, RESOLVE, 0)).find((i) => i.key === 'c1')!;
			expect(c1).toMatchObject({ kind: 'change', proposedFrom: 'merged', resolvedDeleted: false });
			// updated-at from the latest contributor (system_a)
			expect(c1.resolved).toEqual({ ...s.system_a[0], phone: '9' });
			expect(c1.audit).toEqual({
				strategy: 'cleanChange',
				winner: 'merged',
				fieldWinners: {
					balance: { from: ['system_a'], rule: 'one_sided' },
					email: { from: ['system_a'], rule: 'one_sided' },
					phone: { from: ['system_b'], rule: 'one_sided' },
					tags: { from: ['system_a'], rule: 'one_sided' },
				},
				losingValues: {
					system_a: { phone: '1' },
					system_b: { balance: 10, email: 'ada@a.io', tags: ['vip'] },
					system_c: { balance: 10, email: 'ada@a.io', phone: '1', tags: ['vip'] },
				},
				notes: [
					'clean change: system_a, system_b changed different fields since the last validated sync (balance: system_a; email: system_a; phone: system_b; tags: system_a): merged field by field',
					'field "balance": only system_a changed it, kept',
					'field "email": only system_a changed it, kept',
					'field "phone": only system_b changed it, kept',
					'field "tags": only system_a changed it, kept',
				],
			});
		}
	});

	it('takes the strategy per item from an expression', async () => {
		const strategy =
			"={{ $json.kind === 'conflict' && $json.states.system_c === 'unchanged' ? 'sourceWins' : 'manualReview' }}";
		const result = await resolveWith({ strategy }, { resolveChanges: true });
		const resolved = json(allRuns(result, RESOLVE, 0)).map((i) => [
			i.key,
			(i.audit as IDataObject).strategy,
		]);
		expect(resolved.sort()).toEqual([
			['c1', 'sourceWins'],
			['c2', 'cleanChange'],
		]);
		const s = systems();
		s.system_c = [{ ...lastSync[0], name: 'Ada C.' }, lastSync[1]];
		const review = await runWorkflow({
			workflow: syncWorkflow({
				systems: s,
				staticData: staticBase(lastSync),
				resolve: { strategy },
			}),
			nodeTypes,
			mode: 'trigger',
		});
		expect(json(review.output(RESOLVE, 1)).map((i) => i.key)).toEqual(['c1']);
	});

	it('gives the same result on every run', async () => {
		const a = json((await resolveWith({ strategy: 'fieldMerge' })).output(RESOLVE, 0));
		const b = json((await resolveWith({ strategy: 'fieldMerge' })).output(RESOLVE, 0));
		const strip = (items: IDataObject[]) => items.map(({ syncId: _syncId, ...rest }) => rest);
		expect(strip(b)).toEqual(strip(a));
	});

	it('an unknown strategy names the item and the field; continue-on-fail routes it to the error output', async () => {
		const strict = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				staticData: staticBase(lastSync),
				resolve: { strategy: 'coinFlip' },
			}),
			nodeTypes,
			mode: 'trigger',
		});
		const error = strict.nodeError(RESOLVE) as NodeOperationError;
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('Item 0: unknown strategy "coinFlip"');
		expect(error.description).toBe(
			'Field: strategy. Use one of: lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview',
		);

		const lenient = await resolveWith(
			{ strategy: "={{ $json.key === 'c1' ? 'coinFlip' : 'lastWriterWins' }}" },
			{ resolveChanges: true, resolveExtra: { onError: 'continueErrorOutput' } },
		);
		const errors = json(allRuns(lenient, RESOLVE, 2));
		expect(errors).toHaveLength(1);
		expect(errors[0]).toMatchObject({ key: 'c1', error: 'Item 0: unknown strategy "coinFlip"' });
		expect(json(allRuns(lenient, RESOLVE, 0)).map((i) => i.key)).toEqual(['c2']);
	});

	it('refuses items that are not Conflict Check results, naming the missing field', async () => {
		const workflow = {
			nodes: [
				node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
				node('Items', TEST_ITEMS_TYPE, { items: [{ key: 'x', kind: 'conflict' }] as never }),
				node(RESOLVE, RESOLVE_TYPE, {}),
			],
			connections: connect(['Trigger', 'Items'], ['Items', RESOLVE]),
		};
		const result = await runWorkflow({ workflow, nodeTypes });
		expect(result.nodeError(RESOLVE)!.message).toBe(
			'Item 0 is not a Conflict Check result: field "sourceSystem" is missing',
		);
	});

	it('resolves an update against a delete by updated-at, keeping the deleted side’s loss in the audit', async () => {
		const s = systems();
		s.system_b[0] = { id: 'c1', _deleted: true, updated_at: '2026-02-02T00:00:00Z' } as never;
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: s,
				staticData: staticBase(lastSync),
				resolve: { strategy: 'lastWriterWins' },
			}),
			nodeTypes,
			mode: 'trigger',
		});
		const [c1] = json(result.output(RESOLVE, 0));
		expect(c1).toMatchObject({
			conflictType: 'update_delete',
			resolved: null,
			resolvedDeleted: true,
		});
		expect((c1.audit as IDataObject).winner).toBe('system_b');
		expect((c1.audit as IDataObject).losingValues).toMatchObject({
			system_a: { email: 'ada@new.io', balance: 13 },
			system_c: { email: 'ada@a.io' },
		});
	});
});
