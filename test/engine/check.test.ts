import { checkConflicts, emptyBase, type RecordSpec } from '../../nodes/shared/engine';
import { baseOf, check, checkOne, IGNORED, ms, sys, T0, T1, T2, T3 } from './helpers';

const B0 = { id: 1, name: 'Ada', email: 'ada@x.io', phone: '111', updated_at: T0 };
const base = () => baseOf([B0]);
const edit = (changes: Record<string, unknown>, at = T1) => ({ ...B0, ...changes, updated_at: at });

describe('checkConflicts with a base', () => {
	test('unchanged everywhere: in_sync', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', [B0]],
				['C', [{ ...B0 }]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			key: '1',
			kind: 'in_sync',
			basis: 'base',
			states: { A: 'unchanged', B: 'unchanged', C: 'unchanged' },
			conflictFields: [],
			changedFields: {},
			reason: 'every system already holds the same data',
		});
		expect(k.conflictType).toBeUndefined();
		expect(k.proposedFrom).toBeUndefined();
		expect(k.baseEntry).toEqual(base().entries.get('1'));
	});

	test('a new updated-at alone is not a change (updated-at is not compared)', () => {
		const k = checkOne(
			[
				['A', [{ ...B0, updated_at: T3 }]],
				['B', [B0]],
			],
			{ base: base() },
		);
		expect(k.kind).toBe('in_sync');
		expect(k.states).toEqual({ A: 'unchanged', B: 'unchanged' });
	});

	test('the source changed: change proposed from the source', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'new@x.io' })]],
				['B', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			basis: 'base',
			states: { A: 'changed', B: 'unchanged' },
			proposedFrom: 'A',
			conflictFields: [],
			changedFields: { email: ['A'] },
			reason: 'only A changed it since the last validated sync',
		});
		expect(k.conflictType).toBeUndefined();
	});

	test('another system changed: change proposed from it', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', [edit({ phone: '222', name: 'Ada L.' })]],
				['C', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'unchanged', B: 'changed', C: 'unchanged' },
			proposedFrom: 'B',
			conflictFields: [],
			changedFields: { name: ['B'], phone: ['B'] },
		});
	});

	test('both changed the same field to different values: update_update conflict on that field', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [edit({ email: 'b@x.io' }, T2)]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'conflict',
			basis: 'base',
			conflictType: 'update_update',
			states: { A: 'changed', B: 'changed' },
			conflictFields: ['email'],
			changedFields: { email: ['A', 'B'] },
			reason: 'A, B changed it to different values since the last validated sync',
		});
		expect(k.proposedFrom).toBeUndefined();
	});

	// Before: an update_update conflict with conflictFields [], and a record-level strategy then
	// kept one side's edit only. Edits to different fields are not a conflict.
	test('both changed different fields: a clean change, merged field by field', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [edit({ phone: '222' })]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			basis: 'base',
			states: { A: 'changed', B: 'changed' },
			proposedFrom: 'merged',
			conflictFields: [],
			changedFields: { email: ['A'], phone: ['B'] },
			reason:
				'A, B changed different fields since the last validated sync (email: A; phone: B): merged field by field',
		});
		expect(k.conflictType).toBeUndefined();
	});

	test('three systems, disjoint edits on two, the third unchanged or missing: a merged change', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', [edit({ name: 'Bea', phone: '222' })]],
				['C', [edit({ email: 'c@x.io' }, T2)]],
				['D', []],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			proposedFrom: 'merged',
			states: { A: 'unchanged', B: 'changed', C: 'changed', D: 'missing' },
			conflictFields: [],
			changedFields: { email: ['C'], name: ['B'], phone: ['B'] },
		});
	});

	test('different fields plus the same change on both: still a merged change', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'same@x.io', name: 'Ann' })]],
				['B', [edit({ email: 'same@x.io', phone: '222' })]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			proposedFrom: 'merged',
			changedFields: { email: ['A', 'B'], name: ['A'], phone: ['B'] },
		});
	});

	test("one system's record holds every change (the other made one of them too): a change from it", () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'same@x.io' })]],
				['B', [edit({ email: 'same@x.io', phone: '222' }, T2)]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			proposedFrom: 'B',
			conflictFields: [],
			changedFields: { email: ['A', 'B'], phone: ['B'] },
			reason:
				'A, B changed it since the last validated sync, never one field to different values: B holds every change',
		});
	});

	test('a field removed on one side and another changed on the other: a merged change', () => {
		const { phone: _p, ...withoutPhone } = edit({});
		void _p;
		const k = checkOne(
			[
				['A', [withoutPhone]],
				['B', [edit({ email: 'b@x.io' })]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			proposedFrom: 'merged',
			changedFields: { email: ['B'], phone: ['A'] },
		});
	});

	test('mixed: one field in conflict, others one-sided', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io', name: 'Ada A' })]],
				['B', [edit({ email: 'b@x.io', phone: '999' })]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({ kind: 'conflict', conflictType: 'update_update' });
		expect(k.conflictFields).toEqual(['email']);
		expect(k.changedFields).toEqual({ email: ['A', 'B'], name: ['A'], phone: ['B'] });
		expect(k.reason).toBe('A, B changed it to different values since the last validated sync');
		expect(k.proposedFrom).toBeUndefined();
	});

	test('different fields, but one side deleted: update_delete stays a conflict', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [edit({ phone: '222' })]],
				['C', [{ id: 1, deleted: true, updated_at: T2 }]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({ kind: 'conflict', conflictType: 'update_delete' });
		expect(k.proposedFrom).toBeUndefined();
	});

	test('a base kept without values: different fields stay a conflict, and the reason says why', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [edit({ phone: '222' })]],
			],
			{ base: baseOf([B0], { keepValues: false }) },
		);
		expect(k).toMatchObject({ kind: 'conflict', basis: 'base', conflictType: 'update_update' });
		expect(k.reason).toBe(
			'A, B changed it to different values since the last validated sync; no base values: field-level merge needs the values of the last validated sync, so the record is decided as a whole',
		);
	});

	test('watermark basis: edits to different fields stay a record-level conflict', () => {
		const k = checkOne(
			[
				['A', [{ id: 1, name: 'Ann', email: 'ada@x.io', updated_at: T2 }]],
				['B', [{ id: 1, name: 'Ada', email: 'b@x.io', updated_at: T3 }]],
			],
			{ watermark: ms(T1) },
		);
		expect(k).toMatchObject({ kind: 'conflict', basis: 'watermark' });
		expect(k.proposedFrom).toBeUndefined();
	});

	test('a field added and a field removed since the base are changes', () => {
		const { phone: _p, ...withoutPhone } = edit({ fax: '333' });
		void _p;
		const k = checkOne(
			[
				['A', [withoutPhone]],
				['B', [B0]],
			],
			{ base: base() },
		);
		expect(k.kind).toBe('change');
		expect(k.changedFields).toEqual({ fax: ['A'], phone: ['A'] });
	});

	test('both changed to the same value (convergent): in_sync with two systems', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'same@x.io' })]],
				['B', [edit({ email: 'same@x.io' }, T2)]],
			],
			{ base: base() },
		);
		expect(k.kind).toBe('in_sync');
		expect(k.states).toEqual({ A: 'changed', B: 'changed' });
		expect(k.conflictFields).toEqual([]);
	});

	test('two of three converged, the third unchanged: a clean change from the source', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'same@x.io' })]],
				['B', [edit({ email: 'same@x.io' })]],
				['C', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			proposedFrom: 'A',
			states: { A: 'changed', B: 'changed', C: 'unchanged' },
			changedFields: { email: ['A', 'B'] },
			conflictFields: [],
			reason: 'only A, B changed it since the last validated sync',
		});
	});

	test('three systems, three different changes to one field', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [edit({ email: 'b@x.io' })]],
				['C', [edit({ email: 'c@x.io' })]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'conflict',
			conflictType: 'update_update',
			conflictFields: ['email'],
		});
		expect([...k.changedFields.email].sort()).toEqual(['A', 'B', 'C']);
	});

	test('three systems, two agree against a third', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [edit({ email: 'b@x.io' })]],
				['C', [edit({ email: 'a@x.io' })]],
			],
			{ base: base() },
		);
		expect(k.kind).toBe('conflict');
		expect(k.conflictFields).toEqual(['email']);
		expect([...k.changedFields.email].sort()).toEqual(['A', 'B', 'C']);
	});

	test('update against delete (tombstone): update_delete conflict', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', [{ id: 1, deleted: true, updated_at: T2 }]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'conflict',
			conflictType: 'update_delete',
			states: { A: 'changed', B: 'deleted' },
			conflictFields: [],
			changedFields: { email: ['A'] },
		});
		expect(k.records.B!.deleted).toBe(true);
	});

	test('update against delete-by-absence (missingMeansDeleted): update_delete conflict', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io' })]],
				['B', []],
			],
			{ base: base(), missingMeansDeleted: true },
		);
		expect(k).toMatchObject({
			kind: 'conflict',
			conflictType: 'update_delete',
			states: { A: 'changed', B: 'deleted' },
		});
		expect(k.records.B).toBeUndefined();
	});

	test('a delete on one side only: change proposed from the deleting system', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', [{ ...B0, deleted: true }]],
				['C', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'unchanged', B: 'deleted', C: 'unchanged' },
			proposedFrom: 'B',
			conflictFields: [],
			changedFields: {},
		});
	});

	test('the source deleted it: change proposed from the source', () => {
		const k = checkOne(
			[
				['A', [{ id: 1, deleted: 'true' }]],
				['B', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'deleted', B: 'unchanged' },
			proposedFrom: 'A',
		});
	});

	test('deleted everywhere: in_sync', () => {
		const k = checkOne(
			[
				['A', [{ id: 1, deleted: true }]],
				['B', [{ id: 1, deleted: '2024-05-01T00:00:00Z', name: 'kept' }]],
			],
			{ base: base() },
		);
		expect(k.kind).toBe('in_sync');
		expect(k.states).toEqual({ A: 'deleted', B: 'deleted' });
	});

	test('a tombstone against a delete-by-absence: in_sync', () => {
		const k = checkOne(
			[
				['A', [{ id: 1, deleted: true }]],
				['B', []],
			],
			{ base: base(), missingMeansDeleted: true },
		);
		expect(k.kind).toBe('in_sync');
		expect(k.states).toEqual({ A: 'deleted', B: 'deleted' });
	});

	test('missing on a system the base knows: a repair from a system that has it', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', []],
				['C', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'unchanged', B: 'missing', C: 'unchanged' },
			proposedFrom: 'A',
			reason: 'unchanged where it exists, missing elsewhere',
		});
	});

	test('missing on the source (scope all): the repair comes from another holder', () => {
		const k = checkOne(
			[
				['A', []],
				['B', [B0]],
				['C', [B0]],
			],
			{ base: base(), scope: 'all' },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'missing', B: 'unchanged', C: 'unchanged' },
			proposedFrom: 'B',
		});
	});

	test('missing with missingMeansDeleted: a delete proposed from the system that lacks it', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', []],
			],
			{ base: base(), missingMeansDeleted: true },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'unchanged', B: 'deleted' },
			proposedFrom: 'B',
		});
	});

	test('changed on one system, missing on another (no missingMeansDeleted): change from the changer', () => {
		const k = checkOne(
			[
				['A', [B0]],
				['B', [edit({ name: 'Bea' })]],
				['C', []],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'change',
			states: { A: 'unchanged', B: 'changed', C: 'missing' },
			proposedFrom: 'B',
			changedFields: { name: ['B'] },
		});
	});

	test('a key deleted at the base: a tombstone is unchanged, a live record is re-created', () => {
		const b = baseOf([{ deletedKey: '1' }]);
		const still = checkOne(
			[
				['A', [{ id: 1, deleted: true }]],
				['B', []],
			],
			{ base: b, missingMeansDeleted: true },
		);
		expect(still.kind).toBe('in_sync');
		expect(still.states).toEqual({ A: 'unchanged', B: 'missing' });
		const back = checkOne(
			[
				['A', [{ id: 1, deleted: true }]],
				['B', [B0]],
			],
			{ base: b },
		);
		expect(back).toMatchObject({
			kind: 'change',
			states: { A: 'unchanged', B: 'created' },
			proposedFrom: 'B',
		});
	});

	test('a key the base does not know: created on both with the same data is in_sync', () => {
		const k = checkOne(
			[
				['A', [{ id: 2, name: 'Bo' }]],
				['B', [{ name: 'Bo', id: '2' }]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			key: '2',
			kind: 'in_sync',
			basis: 'base',
			states: { A: 'created', B: 'created' },
		});
	});

	test('a key the base does not know: created on both with different data is create_create', () => {
		const k = checkOne(
			[
				['A', [{ id: 2, name: 'Bo', city: 'Oslo' }]],
				['B', [{ id: 2, name: 'Bob', city: 'Oslo' }]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			kind: 'conflict',
			basis: 'base',
			conflictType: 'create_create',
			states: { A: 'created', B: 'created' },
			conflictFields: ['name'],
			changedFields: { name: ['A', 'B'] },
			reason: 'A, B changed it to different values since the base',
		});
	});

	test('a key the base does not know, created on one system only: change', () => {
		const k = checkOne(
			[
				['A', [{ id: 2, name: 'Bo' }]],
				['B', [B0]],
			],
			{ base: base() },
		);
		expect(k).toMatchObject({
			key: '2',
			kind: 'change',
			basis: 'base',
			states: { A: 'created', B: 'missing' },
			proposedFrom: 'A',
		});
	});

	test('a base kept without values still classifies, and the field diff compares the live records', () => {
		const k = checkOne(
			[
				['A', [edit({ email: 'a@x.io', name: 'Ann' })]],
				['B', [edit({ email: 'b@x.io', name: 'Ann' })]],
			],
			{ base: baseOf([B0], { keepValues: false }) },
		);
		expect(k).toMatchObject({
			kind: 'conflict',
			basis: 'base',
			conflictType: 'update_update',
			conflictFields: ['email'],
		});
		expect(k.changedFields).toEqual({ email: ['A', 'B'] });
	});

	test('equal data spelled differently (key order, number form, time zone) is in_sync', () => {
		const k = checkOne(
			[
				[
					'A',
					[{ id: 1, name: 'Ada', meta: { a: 1, b: 2 }, at: '2024-01-01T10:00:00+02:00', n: 1.0 }],
				],
				['B', [{ meta: { b: 2, a: 1 }, n: 1, at: '2024-01-01 08:00:00+00', name: 'Ada', id: '1' }]],
			],
			{ base: baseOf([{ id: 1, name: 'Old' }]) },
		);
		expect(k.kind).toBe('in_sync');
		expect(k.states).toEqual({ A: 'changed', B: 'changed' });
	});
});

describe('checkConflicts without a base', () => {
	test('no base and no watermark: any difference is a conflict, basis none, and the reason says so', () => {
		const k = checkOne([
			['A', [{ id: 1, name: 'Ada', email: 'a@x' }]],
			['B', [{ id: 1, name: 'Ada', email: 'b@x' }]],
		]);
		expect(k).toMatchObject({
			kind: 'conflict',
			basis: 'none',
			conflictType: 'create_create',
			states: { A: 'created', B: 'created' },
			conflictFields: ['email'],
			changedFields: { email: ['A', 'B'] },
		});
		expect(k.reason).toContain('no base and no watermark');
		expect(k.reason).toContain('every difference is a conflict');
		expect(k.reason).toContain('each counts as created');
		expect(k.baseEntry).toBeUndefined();
	});

	test('no base: a key only the source holds is a change, and the reason says why it counts as created', () => {
		const k = checkOne([
			['A', [{ id: 1, name: 'Ada' }]],
			['B', []],
			['C', [{ id: 1, name: 'Ada' }]],
		]);
		expect(k).toMatchObject({
			kind: 'change',
			basis: 'none',
			states: { A: 'created', B: 'missing', C: 'created' },
			proposedFrom: 'A',
			reason:
				'no base and no watermark (no earlier validated sync to compare with): only A, C hold it, so it counts as created there and goes to B',
		});
	});

	test('an empty base with no watermark is no base', () => {
		const k = checkOne(
			[
				['A', [{ id: 1, v: 1 }]],
				['B', [{ id: 1, v: 2 }]],
			],
			{ base: emptyBase() },
		);
		expect(k.basis).toBe('none');
		expect(k.kind).toBe('conflict');
	});

	test('no base: equal data in different key order is in_sync', () => {
		const k = checkOne([
			['A', [{ id: 1, a: 1, b: { x: 1, y: 2 } }]],
			['B', [{ b: { y: 2, x: 1 }, a: 1, id: 1 }]],
		]);
		expect(k).toMatchObject({ kind: 'in_sync', basis: 'none' });
	});

	test('no base: held by one system only is a change from it', () => {
		const k = checkOne(
			[
				['A', []],
				['B', [{ id: 1, v: 1 }]],
			],
			{ scope: 'all' },
		);
		expect(k).toMatchObject({
			kind: 'change',
			basis: 'none',
			states: { A: 'missing', B: 'created' },
			proposedFrom: 'B',
		});
	});

	test('no base: a live record against a tombstone is update_delete', () => {
		const k = checkOne([
			['A', [{ id: 1, v: 1 }]],
			['B', [{ id: 1, deleted: true }]],
		]);
		expect(k).toMatchObject({ kind: 'conflict', basis: 'none', conflictType: 'update_delete' });
	});

	describe('watermark basis', () => {
		const W = ms(T1);

		test('updated-at <= watermark is unchanged, > is created', () => {
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'old', updated_at: T0 }]],
					['B', [{ id: 1, v: 'new', updated_at: T2 }]],
				],
				{ watermark: W },
			);
			expect(k).toMatchObject({
				kind: 'change',
				basis: 'watermark',
				states: { A: 'unchanged', B: 'created' },
				proposedFrom: 'B',
				changedFields: { v: ['B'] },
				conflictFields: [],
			});
		});

		test('updated-at exactly at the watermark is unchanged', () => {
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'x', updated_at: T1 }]],
					['B', [{ id: 1, v: 'y', updated_at: ms(T1) + 1 }]],
				],
				{ watermark: W },
			);
			expect(k.states).toEqual({ A: 'unchanged', B: 'created' });
			expect(k.proposedFrom).toBe('B');
		});

		test('both after the watermark with different data: conflict', () => {
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'a', updated_at: T2 }]],
					['B', [{ id: 1, v: 'b', updated_at: T3 }]],
				],
				{ watermark: W },
			);
			expect(k).toMatchObject({
				kind: 'conflict',
				basis: 'watermark',
				conflictType: 'create_create',
				conflictFields: ['v'],
				changedFields: { v: ['A', 'B'] },
				reason: 'A, B changed it to different values since the watermark',
			});
		});

		test('both before the watermark yet different: divergent conflict', () => {
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'a', updated_at: T0 }]],
					['B', [{ id: 1, v: 'b', updated_at: T0 }]],
				],
				{ watermark: W },
			);
			expect(k).toMatchObject({
				kind: 'conflict',
				basis: 'watermark',
				conflictType: 'divergent',
				states: { A: 'unchanged', B: 'unchanged' },
				conflictFields: ['v'],
				changedFields: { v: ['A', 'B'] },
			});
		});

		test('before the watermark and equal: in_sync', () => {
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'a', updated_at: T0 }]],
					['B', [{ id: 1, v: 'a', updated_at: T0 }]],
				],
				{ watermark: W },
			);
			expect(k).toMatchObject({ kind: 'in_sync', basis: 'watermark' });
		});

		test('a record without updated-at counts as changed since the watermark', () => {
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'a', updated_at: T0 }]],
					['B', [{ id: 1, v: 'b' }]],
				],
				{ watermark: W },
			);
			expect(k.states).toEqual({ A: 'unchanged', B: 'created' });
			expect(k.proposedFrom).toBe('B');
		});

		test('the base watermark is used when no watermark is given; an explicit one overrides it', () => {
			const systems: Array<[string, unknown[]]> = [
				['A', [{ id: 1, v: 'a', updated_at: T1 }]],
				['B', [{ id: 1, v: 'b', updated_at: T3 }]],
			];
			const fromBase = checkOne(systems, { base: { entries: new Map(), watermark: ms(T2) } });
			expect(fromBase).toMatchObject({
				basis: 'watermark',
				kind: 'change',
				states: { A: 'unchanged', B: 'created' },
			});
			const overridden = checkOne(systems, {
				base: { entries: new Map(), watermark: ms(T2) },
				watermark: ms(T0),
			});
			expect(overridden).toMatchObject({
				basis: 'watermark',
				kind: 'conflict',
				states: { A: 'created', B: 'created' },
			});
		});

		test('a base entry wins over the watermark for keys it knows', () => {
			const b = baseOf([{ id: 1, v: 'base' }], { watermark: ms(T3) });
			const k = checkOne(
				[
					['A', [{ id: 1, v: 'a', updated_at: T0 }]],
					['B', [{ id: 1, v: 'base', updated_at: T0 }]],
				],
				{ base: b },
			);
			expect(k).toMatchObject({
				basis: 'base',
				kind: 'change',
				states: { A: 'changed', B: 'unchanged' },
				proposedFrom: 'A',
			});
		});
	});
});

describe('checkConflicts: scope, keys and counts', () => {
	test("scope 'source' checks only the source's keys; 'all' every key any system holds, source first", () => {
		const systems: Array<[string, unknown[]]> = [
			[
				'A',
				[
					{ id: 2, v: 1 },
					{ id: 1, v: 1 },
				],
			],
			[
				'B',
				[
					{ id: 3, v: 1 },
					{ id: 1, v: 1 },
				],
			],
			[
				'C',
				[
					{ id: 4, v: 1 },
					{ id: 3, v: 1 },
				],
			],
		];
		expect(check(systems, { scope: 'source' }).keys.map((k) => k.key)).toEqual(['2', '1']);
		const all = check(systems, { scope: 'all' });
		expect(all.keys.map((k) => k.key)).toEqual(['2', '1', '3', '4']);
		expect(all.keys.find((k) => k.key === '3')).toMatchObject({
			kind: 'change',
			states: { A: 'missing', B: 'created', C: 'created' },
			proposedFrom: 'B',
		});
	});

	test('composite keys join across systems whatever the key types', () => {
		const spec: RecordSpec = { keyFields: ['tenant', 'id'], updatedAtField: 'updated_at' };
		const base = baseOf(
			[
				{ tenant: 't1', id: 1, v: 'x' },
				{ tenant: 't2', id: 1, v: 'x' },
			],
			{ spec },
		);
		const result = check(
			[
				[
					'A',
					[
						{ tenant: 't1', id: 1, v: 'x' },
						{ tenant: 't2', id: 1, v: 'a' },
					],
				],
				[
					'B',
					[
						{ id: '1', tenant: 't2', v: 'b' },
						{ id: '1', tenant: 't1', v: 'x' },
					],
				],
			],
			{ spec, base },
		);
		expect(result.keys.map((k) => [k.key, k.kind, k.states])).toEqual([
			['["t1","1"]', 'in_sync', { A: 'unchanged', B: 'unchanged' }],
			['["t2","1"]', 'conflict', { A: 'changed', B: 'changed' }],
		]);
		expect(result.keys[1].conflictFields).toEqual(['v']);
		expect(result.keys[1].records.B!.data).toEqual({ id: '1', tenant: 't2', v: 'b' });
	});

	test('number and string keys join', () => {
		const k = checkOne([
			['A', [{ id: 7, v: 1 }]],
			['B', [{ id: '7', v: 1 }]],
		]);
		expect(k).toMatchObject({ key: '7', kind: 'in_sync' });
		expect(k.records.A!.data.id).toBe(7);
		expect(k.records.B!.data.id).toBe('7');
	});

	test('counts per kind, basis, conflict type and per-system state', () => {
		const b = baseOf([
			{ id: 1, v: 'x' },
			{ id: 2, v: 'x' },
			{ id: 3, v: 'x' },
			{ id: 4, v: 'x' },
		]);
		const result = check(
			[
				[
					'A',
					[
						{ id: 1, v: 'x' },
						{ id: 2, v: 'a' },
						{ id: 3, v: 'a' },
						{ id: 4, v: 'a' },
						{ id: 5, v: 'n' },
					],
				],
				[
					'B',
					[
						{ id: 1, v: 'x' },
						{ id: 2, v: 'x' },
						{ id: 3, v: 'b' },
						{ id: 4, deleted: true },
						{ id: 5, v: 'm' },
					],
				],
			],
			{ base: b },
		);
		expect(result.keys.map((k) => [k.key, k.kind, k.conflictType])).toEqual([
			['1', 'in_sync', undefined],
			['2', 'change', undefined],
			['3', 'conflict', 'update_update'],
			['4', 'conflict', 'update_delete'],
			['5', 'conflict', 'create_create'],
		]);
		expect(result.counts).toEqual({
			keys: 5,
			conflicts: 3,
			changes: 1,
			inSync: 1,
			basis: { base: 5, watermark: 0, none: 0 },
			conflictTypes: { update_update: 1, update_delete: 1, create_create: 1 },
			states: {
				A: { unchanged: 1, changed: 3, created: 1, deleted: 0, missing: 0 },
				B: { unchanged: 2, changed: 1, created: 1, deleted: 1, missing: 0 },
			},
		});
	});

	test('counts per basis: base, watermark and none', () => {
		const withWatermark = check(
			[
				[
					'A',
					[
						{ id: 1, v: 'x' },
						{ id: 2, v: 'a', updated_at: T0 },
					],
				],
				[
					'B',
					[
						{ id: 1, v: 'x' },
						{ id: 2, v: 'a', updated_at: T0 },
					],
				],
			],
			{ base: baseOf([{ id: 1, v: 'x' }], { watermark: ms(T1) }) },
		);
		expect(withWatermark.keys.map((k) => [k.key, k.basis, k.kind])).toEqual([
			['1', 'base', 'in_sync'],
			['2', 'watermark', 'in_sync'],
		]);
		expect(withWatermark.counts.basis).toEqual({ base: 1, watermark: 1, none: 0 });
		const none = check([
			['A', [{ id: 1 }, { id: 2 }]],
			['B', [{ id: 1 }]],
		]);
		expect(none.counts.basis).toEqual({ base: 0, watermark: 0, none: 2 });
		expect(none.counts).toMatchObject({
			keys: 2,
			inSync: 1,
			changes: 1,
			conflicts: 0,
			conflictTypes: {},
		});
	});

	test('a merged key counts as a change, not a conflict', () => {
		const result = check(
			[
				['A', [{ id: 1, v: 'a', w: 'x' }]],
				['B', [{ id: 1, v: 'x', w: 'b' }]],
			],
			{ base: baseOf([{ id: 1, v: 'x', w: 'x' }]) },
		);
		expect(result.counts).toMatchObject({ keys: 1, conflicts: 0, changes: 1, conflictTypes: {} });
		expect(result.counts.states).toEqual({
			A: { unchanged: 0, changed: 1, created: 0, deleted: 0, missing: 0 },
			B: { unchanged: 0, changed: 1, created: 0, deleted: 0, missing: 0 },
		});
	});

	test('the check reads its inputs only', () => {
		const a = sys('A', [{ id: 1, v: 'a' }]);
		const b = sys('B', [{ id: 1, v: 'b' }]);
		const snapshot = JSON.stringify([[...a.records], [...b.records]]);
		const bs = baseOf([{ id: 1, v: 'x' }]);
		checkConflicts({ systems: [a, b], base: bs, scope: 'all', ignored: IGNORED });
		expect(JSON.stringify([[...a.records], [...b.records]])).toBe(snapshot);
		expect(bs.entries.size).toBe(1);
	});

	test('many keys: one result per key, in source order', () => {
		const n = 2000;
		const a = Array.from({ length: n }, (_, i) => ({ id: i, v: i }));
		const b = [...a].reverse().map((r) => ({ ...r, v: r.id % 10 === 0 ? -1 : r.v }));
		const result = check([
			['A', a],
			['B', b],
		]);
		expect(result.keys).toHaveLength(n);
		expect(result.keys[0].key).toBe('0');
		expect(result.counts.conflicts).toBe(n / 10);
		expect(result.counts.inSync).toBe(n - n / 10);
	});
});

describe('keepInSync: false', () => {
	test('counts in-sync keys the base holds without keeping them; keeps changes and keys the base lacks', () => {
		const B1 = { ...B0, id: 2, name: 'Bob' };
		const B2 = { ...B0, id: 3, name: 'Cy' };
		const all = { base: baseOf([B0, B1]), keepInSync: false };
		const result = check(
			[
				['A', [B0, edit({ id: 2, name: 'Bob', phone: '222' }), B2]],
				['B', [B0, B1, B2]],
			],
			all,
		);
		expect(result.keys.map((k) => [k.key, k.kind])).toEqual([
			['2', 'change'],
			// In sync, but the base does not hold it yet: a validated sync must still commit it.
			['3', 'in_sync'],
		]);
		expect(result.counts).toMatchObject({ keys: 3, inSync: 2, changes: 1, conflicts: 0 });
		expect(result.counts.basis).toEqual({ base: 3, watermark: 0, none: 0 });
		expect(result.counts.states.A).toMatchObject({ unchanged: 1, changed: 1, created: 1 });
		const kept = check(
			[
				['A', [B0, edit({ id: 2, name: 'Bob', phone: '222' }), B2]],
				['B', [B0, B1, B2]],
			],
			{ base: all.base },
		);
		expect(kept.keys.map((k) => k.key)).toEqual(['1', '2', '3']);
		expect(kept.counts).toEqual(result.counts);
	});

	test('keys only other systems hold are still reported as not checked', () => {
		const result = check(
			[
				['A', [B0]],
				['B', [B0, { ...B0, id: 9 }]],
			],
			{ base: base(), keepInSync: false },
		);
		expect(result.keys).toEqual([]);
		expect(result.notChecked).toEqual({ count: 1, bySystem: { B: 1 }, sample: ['9'] });
	});
});
