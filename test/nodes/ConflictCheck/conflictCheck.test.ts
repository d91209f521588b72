import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runWorkflow } from '../../harness';
import { json } from '../../harness/build';
import { nodeTypes, staticBase, storedBase, syncWorkflow } from '../sync-workflow';

const CHECK = 'Conflict Check';
const T0 = '2026-01-01T00:00:00Z';

// The records as every system held them at the last validated sync.
const lastSync: IDataObject[] = [
	{ id: 'c1', name: 'Ada', email: 'ada@a.io', phone: '1', updated_at: T0 },
	{ id: 'c2', name: 'Bob', email: 'bob@a.io', phone: '2', updated_at: T0 },
	{ id: 'c3', name: 'Cy', email: 'cy@a.io', phone: '3', updated_at: T0 },
];

const systems = () => ({
	system_a: [
		{ ...lastSync[0], email: 'ada@new.io', updated_at: '2026-02-01T10:00:00Z' },
		lastSync[1],
		lastSync[2],
		{ id: 'c4', name: 'Dee', email: 'dee@a.io', phone: '4', updated_at: '2026-02-01T11:00:00Z' },
	],
	// c1: both changed email (a conflict); system_b changed phone too, on its side only. (Before
	// the disjoint-edits merge, system_b changed phone only; that is a clean change now, tested
	// on its own below.)
	system_b: [
		{ ...lastSync[0], email: 'ada@b.io', phone: '9', updated_at: '2026-02-01T09:00:00Z' },
		{ ...lastSync[1], name: 'Robert', updated_at: '2026-02-01T08:00:00Z' },
		lastSync[2],
	],
	// Same data as the base, in another key order and with epoch-second timestamps.
	system_c: lastSync.map(({ id, updated_at, ...rest }) => ({
		...Object.fromEntries(Object.entries(rest).reverse()),
		updated_at: Date.parse(updated_at as string) / 1000,
		id,
	})),
});

const byKey = (items: IDataObject[]) => Object.fromEntries(items.map((i) => [i.key as string, i]));

describe('Conflict Check node (composed mode, in n8n’s engine)', () => {
	it('classifies against the base kept in workflow static data on a production run', async () => {
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				resolve: false,
				staticData: staticBase(lastSync),
			}),
			nodeTypes,
			mode: 'trigger',
		});
		expect(result.status).toBe('success');
		const conflicts = byKey(json(result.output(CHECK, 0)));
		const changes = byKey(json(result.output(CHECK, 1)));
		const [summary] = json(result.output(CHECK, 2));

		expect(Object.keys(conflicts)).toEqual(['c1']);
		expect(conflicts.c1).toMatchObject({
			kind: 'conflict',
			basis: 'base',
			conflictType: 'update_update',
			states: { system_a: 'changed', system_b: 'changed', system_c: 'unchanged' },
			conflictFields: ['email'],
			changedFields: { email: ['system_a', 'system_b'], phone: ['system_b'] },
			updatedAt: { system_a: '2026-02-01T10:00:00.000Z', system_b: '2026-02-01T09:00:00.000Z' },
		});
		expect(Object.keys(changes).sort()).toEqual(['c2', 'c4']);
		expect(changes.c2).toMatchObject({
			kind: 'change',
			proposedFrom: 'system_b',
			changedFields: { name: ['system_b'] },
		});
		expect(changes.c4).toMatchObject({
			kind: 'change',
			proposedFrom: 'system_a',
			states: { system_a: 'created', system_b: 'missing', system_c: 'missing' },
		});
		expect(summary.counts).toMatchObject({
			keys: 4,
			conflicts: 1,
			changes: 2,
			inSync: 1,
			rejected: 0,
		});
		expect(summary.base).toBe('workflow static data "default" (3 keys)');
		expect(summary.syncId).toMatch(
			/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
		);
		expect(conflicts.c1.syncId).toBe(summary.syncId);
	});

	it('edits to different fields on different systems are a clean change, merged (not a conflict)', async () => {
		const s = systems();
		s.system_b[0] = { ...lastSync[0], phone: '9', updated_at: '2026-02-01T09:00:00Z' };
		const result = await runWorkflow({
			workflow: syncWorkflow({ systems: s, resolve: false, staticData: staticBase(lastSync) }),
			nodeTypes,
			mode: 'trigger',
		});
		expect(result.output(CHECK, 0)).toEqual([]);
		const changes = byKey(json(result.output(CHECK, 1)));
		expect(Object.keys(changes).sort()).toEqual(['c1', 'c2', 'c4']);
		expect(changes.c1).toMatchObject({
			kind: 'change',
			basis: 'base',
			proposedFrom: 'merged',
			states: { system_a: 'changed', system_b: 'changed', system_c: 'unchanged' },
			conflictFields: [],
			changedFields: { email: ['system_a'], phone: ['system_b'] },
			reason:
				'system_a, system_b changed different fields since the last validated sync (email: system_a; phone: system_b): merged field by field',
		});
		expect(changes.c1).not.toHaveProperty('conflictType');
		expect(json(result.output(CHECK, 2))[0].counts).toMatchObject({ conflicts: 0, changes: 3 });
	});

	it('pairs every key item with the source item it came from', async () => {
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				resolve: false,
				staticData: staticBase(lastSync),
			}),
			nodeTypes,
			mode: 'trigger',
		});
		const conflicts = result.output(CHECK, 0);
		const changes = result.output(CHECK, 1);
		expect(conflicts[0].pairedItem).toEqual({ item: 0 });
		expect(changes.map((i) => [i.json.key, i.pairedItem])).toEqual([
			['c2', { item: 1 }],
			['c4', { item: 3 }],
		]);
		expect(result.output(CHECK, 2)[0].pairedItem).toEqual([0, 1, 2, 3].map((item) => ({ item })));
	});

	it('keys only other systems hold are paired to their own input under full reconciliation', async () => {
		const s = systems();
		s.system_c.push({
			id: 'c9',
			name: 'Zed',
			email: 'z@c.io',
			phone: '0',
			updated_at: T0,
		} as never);
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: s,
				resolve: false,
				check: { scope: 'all' },
				staticData: staticBase(lastSync),
			}),
			nodeTypes,
			mode: 'trigger',
		});
		const c9 = result.output(CHECK, 1).find((i) => i.json.key === 'c9')!;
		expect(c9.json).toMatchObject({ kind: 'change', proposedFrom: 'system_c' });
		expect(c9.pairedItem).toEqual({ item: 3, input: 2 });
	});

	it('keys only other systems hold are counted and hinted, never silently dropped, under the default scope', async () => {
		const s = systems();
		const extra = (id: string) =>
			({ id, name: id, email: `${id}@b.io`, phone: '0', updated_at: T0 }) as never;
		s.system_b.push(extra('c8'), extra('c9'));
		s.system_c.push(extra('c9'));
		const result = await runWorkflow({
			workflow: syncWorkflow({ systems: s, resolve: false, staticData: staticBase(lastSync) }),
			nodeTypes,
			mode: 'trigger',
		});
		const keys = [0, 1].flatMap((o) => json(result.output(CHECK, o)).map((i) => i.key));
		expect(keys).not.toContain('c8');
		const [summary] = json(result.output(CHECK, 2));
		expect(summary.notChecked).toEqual({
			count: 2,
			bySystem: { system_b: 2, system_c: 1 },
			sample: ['c8', 'c9'],
		});
		// What each system holds among the checked keys, said under that name (not "held").
		expect(summary.heldAmongCheckedKeys).toEqual({ system_a: 4, system_b: 3, system_c: 3 });
		expect(result.run.data.resultData.runData[CHECK][0].hints?.map((h) => h.message)).toContain(
			'2 key(s) that only other systems hold were not checked (e.g. c8, c9): set Keys to Check to Every Key on Any System to bring them over.',
		);
	});

	it('on a manual run uses no base, says so, and treats every difference as a conflict', async () => {
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				resolve: false,
				staticData: staticBase(lastSync),
			}),
			nodeTypes,
			mode: 'manual',
		});
		const conflicts = byKey(json(result.output(CHECK, 0)));
		const [summary] = json(result.output(CHECK, 2));
		expect(Object.keys(conflicts).sort()).toEqual(['c1', 'c2']);
		expect(conflicts.c1.basis).toBe('none');
		expect(conflicts.c1.reason).toMatch(/no base and no watermark/);
		expect(conflicts.c1.conflictFields).toEqual(['email', 'phone']);
		expect(summary.base).toMatch(/manual run/);
		expect(result.run.data.resultData.runData[CHECK][0].hints?.[0]?.message).toMatch(
			/static data only for production runs/,
		);
	});

	it('reads the base from a Base input on any run', async () => {
		const stored = storedBase(lastSync);
		const baseItems = Object.entries(stored.keys as IDataObject).map(([key, e]) => ({
			key,
			fingerprint: (e as IDataObject).f,
			values: (e as IDataObject).v,
		}));
		const result = await runWorkflow({
			workflow: syncWorkflow({ systems: systems(), resolve: false, baseItems }),
			nodeTypes,
		});
		expect(json(result.output(CHECK, 0)).map((i) => i.key)).toEqual(['c1']);
		expect(json(result.output(CHECK, 2))[0].base).toBe('base input (3 keys)');
	});

	it('reads Base input values kept as JSON text (a MariaDB JSON column) as the values', async () => {
		const stored = storedBase(lastSync);
		const rows = (text: boolean) =>
			Object.entries(stored.keys as IDataObject).map(([key, e]) => ({
				key,
				fingerprint: (e as IDataObject).f,
				values: text ? JSON.stringify((e as IDataObject).v) : (e as IDataObject).v,
			}));
		const run = async (text: boolean) =>
			json(
				(
					await runWorkflow({
						workflow: syncWorkflow({ systems: systems(), resolve: false, baseItems: rows(text) }),
						nodeTypes,
					})
				).output(CHECK, 0),
			);
		const withoutSyncId = (items: IDataObject[]) => items.map(({ syncId: _, ...rest }) => rest);
		const fromText = await run(true);
		expect(fromText.map((i) => i.key)).toEqual(['c1']);
		expect((fromText[0].base as IDataObject).values).toEqual(
			((stored.keys as IDataObject).c1 as IDataObject).v,
		);
		expect(withoutSyncId(fromText)).toEqual(withoutSyncId(await run(false)));
	});

	it('an empty Base input item (a lookup that found no row) is no base entry, not an error', async () => {
		const stored = storedBase(lastSync);
		const rows = Object.entries(stored.keys as IDataObject).map(([key, e]) => ({
			key,
			fingerprint: (e as IDataObject).f,
			values: (e as IDataObject).v,
		}));
		const result = await runWorkflow({
			workflow: syncWorkflow({ systems: systems(), resolve: false, baseItems: [{}, ...rows, {}] }),
			nodeTypes,
		});
		expect(result.status).toBe('success');
		expect(json(result.output(CHECK, 0)).map((i) => i.key)).toEqual(['c1']);
		expect(json(result.output(CHECK, 2))[0].base).toBe('base input (3 keys)');
	});

	it('uses the watermark for keys without a base entry', async () => {
		const s = systems();
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: s,
				resolve: false,
				check: { options: { watermark: '2026-01-15T00:00:00Z' } },
			}),
			nodeTypes,
		});
		const all = byKey([...json(result.output(CHECK, 0)), ...json(result.output(CHECK, 1))]);
		// c2: only system_b changed after the watermark, so it is a clean change, not a conflict.
		expect(all.c2).toMatchObject({ kind: 'change', basis: 'watermark', proposedFrom: 'system_b' });
		expect(all.c1).toMatchObject({ kind: 'conflict', basis: 'watermark' });
		expect(all.c3).toBeUndefined();
	});

	it('reads records from an array field of a webhook-like item', async () => {
		const payload = { body: { source_system: 'system_a', sync_data: systems().system_a } };
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: {
					system_a: [payload],
					system_b: systems().system_b,
					system_c: systems().system_c,
				},
				resolve: false,
				check: { recordsField: 'body.sync_data' },
				staticData: staticBase(lastSync),
			}),
			nodeTypes,
			mode: 'webhook',
		});
		expect(json(result.output(CHECK, 0)).map((i) => i.key)).toEqual(['c1']);
		expect(result.output(CHECK, 1).map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
	});

	it('emits in-sync keys on request and classifies equal data in another key order as in sync', async () => {
		const result = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				resolve: false,
				staticData: staticBase(lastSync),
				check: { options: { includeInSync: true } },
			}),
			nodeTypes,
			mode: 'trigger',
		});
		const c3 = json(result.output(CHECK, 1)).find((i) => i.key === 'c3')!;
		expect(c3).toMatchObject({
			kind: 'in_sync',
			states: { system_a: 'unchanged', system_b: 'unchanged', system_c: 'unchanged' },
		});
	});

	it('sends in-sync keys on when the base does not know them yet, so the sync can commit them', async () => {
		const first = await runWorkflow({
			workflow: syncWorkflow({ systems: systems(), resolve: false }),
			nodeTypes,
			mode: 'trigger',
		});
		const c3 = json(first.output(CHECK, 1)).find((i) => i.key === 'c3')!;
		expect(c3).toMatchObject({ kind: 'in_sync', basis: 'none' });
		// With a base that already knows c3, it stays home.
		const later = await runWorkflow({
			workflow: syncWorkflow({
				systems: systems(),
				resolve: false,
				staticData: staticBase(lastSync),
			}),
			nodeTypes,
			mode: 'trigger',
		});
		expect(json(later.output(CHECK, 1)).map((i) => i.key)).not.toContain('c3');
	});

	it('never changes the items it reads', async () => {
		const s = systems();
		const before = JSON.parse(JSON.stringify(s));
		const result = await runWorkflow({
			workflow: syncWorkflow({ systems: s, staticData: staticBase(lastSync) }),
			nodeTypes,
			mode: 'trigger',
		});
		expect(result.status).toBe('success');
		for (const name of Object.keys(s))
			expect(json(result.output(`Records ${name}`))).toEqual(before[name]);
	});

	describe('bad input', () => {
		const bad = () => {
			const s = systems();
			s.system_a[1] = { name: 'no key', email: 'x' } as never;
			return s;
		};

		it('a record without its key stops the node with an error naming the item and the field', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({ systems: bad(), resolve: false }),
				nodeTypes,
			});
			expect(result.status).toBe('error');
			const error = result.nodeError(CHECK) as NodeOperationError;
			expect(error).toBeInstanceOf(NodeOperationError);
			expect(error.message).toBe(
				'system_a: item 1: the record has no key: field "id" is missing or empty',
			);
			expect(error.context.itemIndex).toBe(1);
			expect(error.description).toBe('Field: id');
			expect(result.output(CHECK, 0)).toEqual([]);
		});

		it('with continue-on-fail the bad item goes to the error output and the rest carry on', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: bad(),
					resolve: false,
					checkExtra: { onError: 'continueErrorOutput' },
					staticData: staticBase(lastSync),
				}),
				nodeTypes,
				mode: 'trigger',
			});
			expect(result.status).toBe('success');
			const errors = result.output(CHECK, 3);
			expect(errors).toHaveLength(1);
			expect(errors[0].json).toEqual({
				name: 'no key',
				email: 'x',
				error: 'system_a: item 1: the record has no key: field "id" is missing or empty',
				details: { field: 'id', system: 'system_a' },
			});
			expect(errors[0].pairedItem).toEqual({ item: 1, input: 0 });
			expect(json(result.output(CHECK, 0)).map((i) => i.key)).toEqual(['c1']);
			expect(json(result.output(CHECK, 2))[0].counts).toMatchObject({ keys: 3, rejected: 1 });
		});

		it('duplicate keys in one input reject every record sharing the key and hold the key back everywhere', async () => {
			const s = systems();
			s.system_b.push({ ...s.system_b[0], phone: '7' });
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: s,
					resolve: false,
					checkExtra: { onError: 'continueErrorOutput' },
				}),
				nodeTypes,
			});
			const errors = json(result.output(CHECK, 3));
			expect(errors.map((e) => e.error)).toEqual([
				'system_b: item 0: duplicate key c1: item 0, item 3 share it',
				'system_b: item 3: duplicate key c1: item 0, item 3 share it',
			]);
			const keys = [...json(result.output(CHECK, 0)), ...json(result.output(CHECK, 1))].map(
				(i) => i.key,
			);
			expect(keys).not.toContain('c1');

			const strict = await runWorkflow({
				workflow: syncWorkflow({ systems: s, resolve: false }),
				nodeTypes,
			});
			expect((strict.nodeError(CHECK) as NodeOperationError).description).toBe(
				'Field: id (input 2). 1 more bad record(s) in this run.',
			);
		});

		it('a malformed timestamp or a non-object record is an error naming the field', async () => {
			const payload = {
				body: {
					sync_data: [{ id: 'x1', updated_at: '2026-02-30T00:00:00Z' }, 'oops', { id: 'x2' }],
				},
			};
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: { system_a: [payload], system_b: [] },
					resolve: false,
					check: { recordsField: 'body.sync_data' },
					checkExtra: { onError: 'continueErrorOutput' },
				}),
				nodeTypes,
			});
			const errors = json(result.output(CHECK, 3)).map((e) => e.error);
			expect(errors).toEqual([
				'system_a: item 0 body.sync_data[0]: field "updated_at": "2026-02-30T00:00:00Z" has no such calendar date',
				'system_a: item 0 body.sync_data[1]: the record must be a JSON object, got string',
			]);
			expect(json(result.output(CHECK, 1)).map((i) => i.key)).toEqual(['x2']);
		});

		it('Reject All on a Bad Record: one bad record holds back the whole input', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: bad(),
					resolve: false,
					check: { options: { rejectAll: true } },
					checkExtra: { onError: 'continueErrorOutput' },
				}),
				nodeTypes,
			});
			expect(json(result.output(CHECK, 3)).map((e) => e.error)).toEqual([
				'system_a: item 1: the record has no key: field "id" is missing or empty',
			]);
			for (const output of [0, 1, 2]) expect(result.output(CHECK, output)).toEqual([]);
		});

		it('a node-level error under continue-on-fail goes to the error output, not down the main path', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: systems(),
					resolve: false,
					check: { options: { watermark: 'yesterday' } },
					checkExtra: { onError: 'continueErrorOutput' },
				}),
				nodeTypes,
			});
			expect(json(result.output(CHECK, 3))[0].error).toBe(
				'Option "Last Sync Watermark": "yesterday" is not an ISO 8601 timestamp or epoch number',
			);
			for (const output of [0, 1, 2]) expect(result.output(CHECK, output)).toEqual([]);
		});

		it('a records field that is not an array names the item and the field', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: { system_a: [{ body: { sync_data: 'nope' } }], system_b: [] },
					resolve: false,
					check: { recordsField: 'body.sync_data' },
				}),
				nodeTypes,
			});
			const error = result.nodeError(CHECK) as NodeOperationError;
			expect(error.message).toBe(
				'Item 0: field "body.sync_data" must be an array of records, got string',
			);
		});

		it('a Base input row that is not a base entry names the item and the field', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: systems(),
					resolve: false,
					baseItems: [{ key: 'c1', fingerprint: 'f1' }, { key: 'c2' }],
				}),
				nodeTypes,
			});
			expect(result.status).toBe('error');
			const error = result.nodeError(CHECK) as NodeOperationError;
			expect(error.message).toBe('Base item 1 is not a base entry: field "fingerprint" is missing');
			expect(error.context.itemIndex).toBe(1);
			expect(error.description).toBe(
				'Field: fingerprint. Feed the Base Updates output of Sync Validate, or rows of the table they were stored in (key, fingerprint, values).',
			);
		});

		it('a base past Max Base Keys stops with a clear error', async () => {
			const result = await runWorkflow({
				workflow: syncWorkflow({
					systems: systems(),
					resolve: false,
					staticData: staticBase(lastSync),
					check: { options: { maxBaseKeys: 2 } },
				}),
				nodeTypes,
				mode: 'trigger',
			});
			expect(result.status).toBe('error');
			expect(result.nodeError(CHECK)!.message).toBe(
				'The base "default" holds 3 keys, over Max Base Keys (2)',
			);
		});
	});
});
