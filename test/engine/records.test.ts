import {
	DELETED_FINGERPRINT,
	fingerprint,
	ignoredFields,
	indexRecords,
	keyValues,
	MAX_NESTING,
	recordKey,
	recordsByKey,
	type RecordSpec,
	SyncInputError,
} from '../../nodes/shared/engine';
import { IGNORED, SPEC } from './helpers';

const COMPOSITE: RecordSpec = { keyFields: ['tenant', 'id'], updatedAtField: 'updated_at' };

describe('ignoredFields', () => {
	test('key, updated-at, version, tombstone and configured ignores', () => {
		expect(
			[
				...ignoredFields({
					keyFields: ['a', 'b'],
					updatedAtField: 'u',
					versionField: 'v',
					tombstoneField: 't',
					ignoreFields: ['x'],
				}),
			].sort(),
		).toEqual(['a', 'b', 't', 'u', 'v', 'x']);
		expect([...ignoredFields({ keyFields: ['id'] })]).toEqual(['id']);
	});
});

describe('recordKey', () => {
	test('single key: the value as a string; a number and its digits are one key', () => {
		expect(recordKey({ id: 'abc' }, ['id'])).toBe('abc');
		expect(recordKey({ id: 1 }, ['id'])).toBe('1');
		expect(recordKey({ id: '1' }, ['id'])).toBe('1');
		expect(recordKey({ id: 1.0 }, ['id'])).toBe('1');
		expect(recordKey({ id: BigInt(12) }, ['id'])).toBe('12');
	});

	test('composite key: a JSON array of the parts in field order', () => {
		expect(recordKey({ tenant: 't1', id: 5 }, ['tenant', 'id'])).toBe('["t1","5"]');
		expect(recordKey({ id: 5, tenant: 't1' }, ['tenant', 'id'])).toBe('["t1","5"]');
		expect(recordKey({ tenant: 't1', id: '5' }, ['tenant', 'id'])).toBe(
			recordKey({ tenant: 't1', id: 5 }, ['tenant', 'id']),
		);
		expect(JSON.parse(recordKey({ tenant: 'a,b', id: '"x"' }, ['tenant', 'id']) as string)).toEqual(
			['a,b', '"x"'],
		);
		// Parts are kept apart: ("a","bc") is not ("ab","c").
		expect(recordKey({ tenant: 'a', id: 'bc' }, ['tenant', 'id'])).not.toBe(
			recordKey({ tenant: 'ab', id: 'c' }, ['tenant', 'id']),
		);
	});

	test('missing, empty or unusable parts name the field', () => {
		expect(recordKey({}, ['id'])).toEqual({ missing: 'id' });
		expect(recordKey({ id: '' }, ['id'])).toEqual({ missing: 'id' });
		expect(recordKey({ id: null }, ['id'])).toEqual({ missing: 'id' });
		expect(recordKey({ id: NaN }, ['id'])).toEqual({ missing: 'id' });
		expect(recordKey({ id: { a: 1 } }, ['id'])).toEqual({ missing: 'id' });
		expect(recordKey({ tenant: 't1' }, ['tenant', 'id'])).toEqual({ missing: 'id' });
		expect(recordKey({ id: 1 }, ['tenant', 'id'])).toEqual({ missing: 'tenant' });
	});

	test('keyValues turns a key back into its field values', () => {
		expect(keyValues('abc', ['id'])).toEqual({ id: 'abc' });
		expect(keyValues('["t1","5"]', ['tenant', 'id'])).toEqual({ tenant: 't1', id: '5' });
	});
});

describe('indexRecords', () => {
	test('indexes records by key in input order, with fingerprint, updated-at and version', () => {
		const spec: RecordSpec = { ...SPEC, versionField: 'rev' };
		const items = [
			{ id: 2, name: 'B', updated_at: '2024-01-01T00:00:00Z', rev: 3 },
			{ id: 'a', name: 'A', updated_at: 1704067200, rev: 'W/"x"' },
			{ id: 10, name: 'C' },
		];
		const { system, errors } = indexRecords(items, spec, { system: 'crm' });
		expect(errors).toEqual([]);
		expect(system.name).toBe('crm');
		expect(system.order).toEqual(['2', 'a', '10']);
		expect([...system.records.keys()]).toEqual(['2', 'a', '10']);
		const b = system.records.get('2')!;
		expect(b).toEqual({
			key: '2',
			data: items[0],
			fingerprint: fingerprint(items[0], ignoredFields(spec)),
			updatedAt: Date.UTC(2024, 0, 1),
			version: 3,
			deleted: false,
			itemIndex: 0,
		});
		expect(system.records.get('a')!.updatedAt).toBe(Date.UTC(2024, 0, 1));
		expect(system.records.get('a')!.version).toBe('W/"x"');
		expect(system.records.get('10')!.updatedAt).toBeUndefined();
		expect(system.records.get('10')!.itemIndex).toBe(2);
	});

	test('the key, updated-at and version do not affect the fingerprint', () => {
		const spec: RecordSpec = { ...SPEC, versionField: 'rev' };
		const { system } = indexRecords(
			[
				{ id: 1, name: 'Ada', updated_at: '2024-01-01T00:00:00Z', rev: 1 },
				{ id: 2, name: 'Ada', updated_at: '2025-01-01T00:00:00Z', rev: 9 },
			],
			spec,
			{ system: 's' },
		);
		expect(system.records.get('1')!.fingerprint).toBe(system.records.get('2')!.fingerprint);
	});

	test('a version that is neither string nor number is dropped', () => {
		const { system } = indexRecords(
			[{ id: 1, rev: { x: 1 } }],
			{ keyFields: ['id'], versionField: 'rev' },
			{ system: 's' },
		);
		expect(system.records.get('1')!.version).toBeUndefined();
	});

	test('composite keys', () => {
		const { system, errors } = indexRecords(
			[
				{ tenant: 't1', id: 1, v: 'a' },
				{ tenant: 't2', id: 1, v: 'b' },
				{ tenant: 't1', id: 2, v: 'c' },
			],
			COMPOSITE,
			{ system: 's' },
		);
		expect(errors).toEqual([]);
		expect(system.order).toEqual(['["t1","1"]', '["t2","1"]', '["t1","2"]']);
	});

	test('a number and a digit-string key on two items are the same key (a duplicate)', () => {
		const { system, errors } = indexRecords([{ id: 1 }, { id: '1' }], SPEC, { system: 's' });
		expect(system.records.size).toBe(0);
		expect(errors.map((e) => e.itemIndex)).toEqual([0, 1]);
	});

	test('a record without its key: SyncInputError naming the item index and the field', () => {
		const { system, errors } = indexRecords([{ id: 1 }, { name: 'no key' }, { id: 3 }], SPEC, {
			system: 'crm',
			inputIndex: 2,
		});
		expect(system.order).toEqual(['1', '3']);
		expect(errors).toHaveLength(1);
		const [e] = errors;
		expect(e).toBeInstanceOf(SyncInputError);
		expect(e.itemIndex).toBe(1);
		expect(e.field).toBe('id');
		expect(e.system).toBe('crm');
		expect(e.inputIndex).toBe(2);
		expect(e.message).toContain('item 1');
		expect(e.message).toContain('"id"');
		expect(e.message).toContain('crm');
		expect(e.key).toBeUndefined();
	});

	test('an empty string key is a missing key', () => {
		const { system, errors } = indexRecords([{ id: '' }], SPEC, { system: 's' });
		expect(system.order).toEqual([]);
		expect(errors).toHaveLength(1);
		expect(errors[0]).toMatchObject({ itemIndex: 0, field: 'id' });
	});

	test('a composite key with one part missing names that part', () => {
		const { errors } = indexRecords([{ tenant: 't1', id: 1 }, { tenant: 't1' }], COMPOSITE, {
			system: 's',
		});
		expect(errors).toHaveLength(1);
		expect(errors[0]).toMatchObject({ itemIndex: 1, field: 'id' });
		expect(errors[0].message).toContain('"id"');
	});

	test.each([
		['null', null, 'null'],
		['an array', [{ id: 1 }], 'an array'],
		['a string', 'id=1', 'string'],
		['a number', 42, 'number'],
		['a boolean', true, 'boolean'],
		['undefined', undefined, 'undefined'],
	])('a non-object item (%s) is rejected, the rest kept', (_label, bad, named) => {
		const { system, errors } = indexRecords([{ id: 1 }, bad, { id: 2 }], SPEC, { system: 's' });
		expect(system.order).toEqual(['1', '2']);
		expect(errors).toHaveLength(1);
		expect(errors[0]).toBeInstanceOf(SyncInputError);
		expect(errors[0]).toMatchObject({ itemIndex: 1, field: '(record)' });
		expect(errors[0].message).toContain('item 1');
		expect(errors[0].message).toContain('JSON object');
		expect(errors[0].message).toContain(named);
	});

	test('duplicate keys: every item sharing the key is rejected, naming all of them; the rest are kept', () => {
		const items = [
			{ id: 1, v: 'a' },
			{ id: 2 },
			{ id: 1, v: 'b' },
			{ id: 3 },
			{ id: '1', v: 'c' },
			{ id: 3 },
		];
		const { system, errors } = indexRecords(items, SPEC, { system: 'crm' });
		expect(system.order).toEqual(['2']);
		expect([...system.records.keys()]).toEqual(['2']);
		expect(errors.map((e) => e.itemIndex)).toEqual([0, 2, 3, 4, 5]);
		const forKey1 = errors.filter((e) => [0, 2, 4].includes(e.itemIndex));
		for (const e of forKey1) {
			expect(e).toBeInstanceOf(SyncInputError);
			expect(e.field).toBe('id');
			expect(e.message).toContain('duplicate key 1');
			expect(e.message).toContain('item 0, item 2, item 4');
		}
		expect(errors.map((e) => e.key)).toEqual(['1', '1', '3', '1', '3']);
		for (const e of errors.filter((e) => [3, 5].includes(e.itemIndex))) {
			expect(e.message).toContain('duplicate key 3');
			expect(e.message).toContain('item 3, item 5');
		}
	});

	test('duplicate composite keys name every key field', () => {
		const { system, errors } = indexRecords(
			[
				{ tenant: 't', id: 1 },
				{ tenant: 't', id: '1' },
			],
			COMPOSITE,
			{ system: 's' },
		);
		expect(system.order).toEqual([]);
		expect(errors.map((e) => [e.itemIndex, e.field])).toEqual([
			[0, 'tenant, id'],
			[1, 'tenant, id'],
		]);
	});

	test('a label names where the item came from', () => {
		const { errors } = indexRecords([{ id: 1 }, { id: 1 }, {}], SPEC, {
			system: 's',
			label: (i) => `sync_data[${i}]`,
		});
		expect(errors.map((e) => e.message)).toEqual([
			expect.stringContaining('sync_data[0], sync_data[1] share it'),
			expect.stringContaining('sync_data[0], sync_data[1] share it'),
			expect.stringContaining('sync_data[2]'),
		]);
	});

	test('a malformed timestamp rejects the item with an error naming the field', () => {
		const { system, errors } = indexRecords(
			[
				{ id: 1, updated_at: '2024-02-30' },
				{ id: 2, updated_at: 'yesterday' },
				{ id: 3, updated_at: '2024-01-01' },
				{ id: 4, updated_at: null },
			],
			SPEC,
			{ system: 'crm' },
		);
		expect(system.order).toEqual(['3', '4']);
		expect(system.records.get('4')!.updatedAt).toBeUndefined();
		expect(errors).toHaveLength(2);
		expect(errors[0]).toMatchObject({ itemIndex: 0, field: 'updated_at', system: 'crm' });
		expect(errors[0].message).toContain('"updated_at"');
		expect(errors[0].message).toContain('2024-02-30');
		expect(errors[1]).toMatchObject({ itemIndex: 1, field: 'updated_at' });
		expect(errors[1].message).toContain('yesterday');
		// The key could be read, so it travels with the error (the key can be held back everywhere).
		expect(errors.map((e) => e.key)).toEqual(['1', '2']);
	});

	test('without an updated-at field, the field is not parsed', () => {
		const { system, errors } = indexRecords(
			[{ id: 1, updated_at: 'yesterday' }],
			{ keyFields: ['id'] },
			{ system: 's' },
		);
		expect(errors).toEqual([]);
		expect(system.records.get('1')!.updatedAt).toBeUndefined();
	});

	test('errors come sorted by item index', () => {
		const { errors } = indexRecords([{ id: 1 }, null, {}, { id: 1 }], SPEC, { system: 's' });
		expect(errors.map((e) => e.itemIndex)).toEqual([0, 1, 2, 3]);
	});

	describe('tombstones', () => {
		test.each([
			[true, true],
			['true', true],
			['2024-01-01T00:00:00Z', true],
			[1, true],
			[false, false],
			['false', false],
			[0, false],
			['0', false],
			['', false],
			[null, false],
			[undefined, false],
		])('deleted = %p -> tombstone %p', (marker, tombstone) => {
			const { system, errors } = indexRecords([{ id: 1, name: 'Ada', deleted: marker }], SPEC, {
				system: 's',
			});
			expect(errors).toEqual([]);
			const r = system.records.get('1')!;
			expect(r.deleted).toBe(tombstone);
			expect(r.fingerprint).toBe(
				tombstone ? DELETED_FINGERPRINT : fingerprint({ name: 'Ada' }, IGNORED),
			);
		});

		test('every tombstone has the same fingerprint whatever fields it kept', () => {
			const { system } = indexRecords(
				[
					{ id: 1, name: 'Ada', deleted: true },
					{ id: 2, deleted: 'true' },
				],
				SPEC,
				{ system: 's' },
			);
			expect(system.records.get('1')!.fingerprint).toBe(DELETED_FINGERPRINT);
			expect(system.records.get('2')!.fingerprint).toBe(DELETED_FINGERPRINT);
		});

		test('without a tombstone field nothing is a tombstone', () => {
			const { system } = indexRecords(
				[{ id: 1, deleted: true }],
				{ keyFields: ['id'] },
				{ system: 's' },
			);
			expect(system.records.get('1')!.deleted).toBe(false);
		});
	});
});

describe('hostile records', () => {
	const spec = { keyFields: ['id'], updatedAtField: 'updated_at' };

	it.each(['__proto__', 'constructor', 'prototype'])(
		'a field named %s is refused, naming the field',
		(field) => {
			const hostile = JSON.parse(`{"id": "x1", "${field}": {"polluted": true}}`);
			const { system, errors } = indexRecords([hostile, { id: 'x2' }], spec, { system: 'A' });
			expect(errors.map((e) => [e.itemIndex, e.field, e.message])).toEqual([
				[0, field, `A: item 0: field name "${field}" is not allowed in a record`],
			]);
			expect(system.order).toEqual(['x2']);
			expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		},
	);

	it.each(['__proto__', 'constructor', 'prototype'])(
		'a field named %s anywhere inside a record is refused too (found by the reliability suite)',
		(field) => {
			const nested = JSON.parse(
				`{"id": "x1", "profile": {"tags": [{"${field}": {"polluted": true}}]}}`,
			);
			const { system, errors } = indexRecords([nested, { id: 'x2' }], spec, { system: 'A' });
			expect(errors.map((e) => [e.itemIndex, e.field, e.message])).toEqual([
				[
					0,
					'(record)',
					`A: item 0: the record is holding a field named "${field}", which is not allowed at any depth`,
				],
			]);
			expect(system.order).toEqual(['x2']);
			expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		},
	);

	it('a record nested deeper than the limit is refused, not walked', () => {
		let deep: unknown = 'bottom';
		for (let i = 0; i < 10000; i++) deep = { d: deep };
		const { system, errors } = indexRecords(
			[
				{ id: 'n1', deep },
				{ id: 'n2', ok: { a: [1] } },
			],
			spec,
			{ system: 'A' },
		);
		expect(errors).toHaveLength(1);
		expect(errors[0]).toMatchObject({ itemIndex: 0, field: '(record)', key: 'n1' });
		expect(errors[0].message).toBe(
			`A: item 0: the record is nested deeper than ${MAX_NESTING} levels`,
		);
		expect(system.order).toEqual(['n2']);
	});
});

describe('recordsByKey', () => {
	test('maps records by their key, composite keys too, and leaves out those without one', () => {
		const byKey = recordsByKey(
			[
				{ region: 'eu', id: 1, name: 'Ada' },
				{ region: 'us', id: 1, name: 'Bob' },
				{ region: 'eu', name: 'no id' },
			],
			['region', 'id'],
		);
		expect([...byKey.keys()]).toEqual(['["eu","1"]', '["us","1"]']);
		expect(byKey.get('["us","1"]')).toEqual({ region: 'us', id: 1, name: 'Bob' });
	});
});
