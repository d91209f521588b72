import { toCheckedKey } from '../../nodes/shared/engine';
import { baseOf, checkOne, IGNORED, T0, T1, T2 } from './helpers';

const B0 = { id: 1, name: 'Ada', email: 'ada@x.io', updated_at: T0 };

describe('toCheckedKey', () => {
	test('a conflict as plain JSON, with every system named', () => {
		const data = {
			...B0,
			email: 'b@x.io',
			updated_at: 1704240000,
			at: new Date(Date.UTC(2024, 0, 1)),
		};
		const k = checkOne(
			[
				['A', [{ ...B0, email: 'a@x.io', updated_at: T1 }]],
				['B', [data]],
				['C', []],
			],
			{ base: baseOf([B0]) },
		);
		const c = toCheckedKey(k, ['A', 'B', 'C'], [...IGNORED]);
		expect(c).toEqual({
			key: '1',
			kind: 'conflict',
			basis: 'base',
			conflictType: 'update_update',
			sourceSystem: 'A',
			systems: ['A', 'B', 'C'],
			states: { A: 'changed', B: 'changed', C: 'missing' },
			records: {
				A: { ...B0, email: 'a@x.io', updated_at: T1 },
				B: { ...B0, email: 'b@x.io', updated_at: 1704240000, at: '2024-01-01T00:00:00.000Z' },
				C: null,
			},
			deleted: { A: false, B: false, C: false },
			updatedAt: { A: T1, B: T2, C: null },
			conflictFields: ['email'],
			changedFields: { email: ['A', 'B'], at: ['B'] },
			reason: 'A, B changed it to different values since the last validated sync',
			base: { fingerprint: k.baseEntry!.fingerprint, values: { name: 'Ada', email: 'ada@x.io' } },
			ignoredFields: [...IGNORED],
		});
		expect(c).not.toHaveProperty('proposedFrom');
		// Plain JSON: survives a round trip unchanged.
		expect(JSON.parse(JSON.stringify(c))).toEqual(c);
	});

	test('shares no objects with the check', () => {
		const k = checkOne([
			['A', [{ id: 1, tags: ['x'] }]],
			['B', [{ id: 1, tags: ['y'] }]],
		]);
		const c = toCheckedKey(k, ['A', 'B'], ['id']);
		(c.records.A!.tags as string[]).push('z');
		c.conflictFields.push('zzz');
		c.changedFields.tags.push('Q');
		c.states.A = 'deleted';
		expect(k.records.A!.data.tags).toEqual(['x']);
		expect(k.conflictFields).toEqual(['tags']);
		expect(k.changedFields.tags).toEqual(['A', 'B']);
		expect(k.states.A).toBe('created');
	});

	test('a clean change carries proposedFrom and no conflictType; no base is null', () => {
		const k = checkOne([
			['A', [{ id: 1, v: 1 }]],
			['B', []],
		]);
		const c = toCheckedKey(k, ['A', 'B'], ['id']);
		expect(c).toMatchObject({
			kind: 'change',
			proposedFrom: 'A',
			base: null,
			basis: 'none',
			records: { B: null },
		});
		expect(c).not.toHaveProperty('conflictType');
	});
});

describe('toCheckedKey: updatedAt text and field order', () => {
	const spellings = [
		'2024-01-02T03:04:05.678Z',
		'2024-01-02T03:04:05Z',
		'2024-01-02T05:04:05.678+02:00',
		'2024-01-02 03:04:05.678Z',
		'0999-01-02T03:04:05.678Z',
		1704164645,
		1704164645678,
	];
	test.each(spellings)('updated_at %p reads as the canonical ISO text of its instant', (at) => {
		const k = checkOne([['A', [{ ...B0, updated_at: at }]]]);
		const expected = new Date(k.records.A!.updatedAt!).toISOString();
		for (const fields of [{}, { updatedAtField: 'updated_at' }])
			expect(toCheckedKey(k, ['A'], [...IGNORED], fields).updatedAt.A).toBe(expected);
	});

	test('fields come in reading order: key, verdict and why first, optional ones only when set', () => {
		const k = checkOne(
			[
				['A', [{ ...B0, email: 'a@x.io', updated_at: T1 }]],
				['B', [B0]],
			],
			{ base: baseOf([B0]) },
		);
		const c = toCheckedKey(k, ['A', 'B'], ['id'], { keyFields: ['id'], tombstoneField: 'gone' });
		expect(Object.keys(c)).toEqual([
			'key',
			'kind',
			'reason',
			'conflictFields',
			'changedFields',
			'states',
			'proposedFrom',
			'basis',
			'sourceSystem',
			'systems',
			'records',
			'deleted',
			'updatedAt',
			'base',
			'ignoredFields',
			'keyFields',
			'tombstoneField',
		]);
	});
});
