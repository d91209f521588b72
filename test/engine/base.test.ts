import {
	baseEntryFor,
	BaseError,
	baseFromStored,
	baseToStored,
	DELETED_FINGERPRINT,
	emptyBase,
	fingerprint,
} from '../../nodes/shared/engine';
import { IGNORED } from './helpers';

const record = {
	id: 1,
	updated_at: '2024-01-01T00:00:00Z',
	deleted: false,
	name: 'Ada',
	tags: ['a'],
	at: new Date(Date.UTC(2024, 0, 1)),
	gone: undefined,
};
const fp = fingerprint(record, IGNORED);

describe('baseEntryFor', () => {
	test('keeps the fingerprint and the compared values as plain JSON', () => {
		const entry = baseEntryFor(record, fp, IGNORED, true);
		expect(entry).toEqual({
			fingerprint: fp,
			values: { name: 'Ada', tags: ['a'], at: '2024-01-01T00:00:00.000Z' },
		});
		expect(entry.values!.tags).not.toBe(record.tags);
		expect(Object.keys(entry.values!)).not.toContain('gone');
	});

	test('only the fingerprint when values are not kept', () => {
		expect(baseEntryFor(record, fp, IGNORED, false)).toEqual({ fingerprint: fp });
	});

	test('a delete is the DELETED fingerprint without values', () => {
		expect(baseEntryFor(null, DELETED_FINGERPRINT, IGNORED, true)).toEqual({
			fingerprint: DELETED_FINGERPRINT,
		});
		expect(
			baseEntryFor({ id: 1, deleted: true, name: 'x' }, DELETED_FINGERPRINT, IGNORED, true),
		).toEqual({
			fingerprint: DELETED_FINGERPRINT,
		});
	});
});

describe('stored base', () => {
	test('emptyBase has no entries and no watermark', () => {
		const b = emptyBase();
		expect(b.entries.size).toBe(0);
		expect(b.watermark).toBeUndefined();
	});

	test('round-trips through the compact stored form', () => {
		const entries = new Map([
			['1', baseEntryFor(record, fp, IGNORED, true)],
			['2', { fingerprint: 'abc' }],
			['3', { fingerprint: DELETED_FINGERPRINT }],
		]);
		const stored = baseToStored({ entries, watermark: 1704067200000 }, 10);
		expect(stored).toEqual({
			v: 1,
			watermark: 1704067200000,
			keys: {
				'1': { f: fp, v: { name: 'Ada', tags: ['a'], at: '2024-01-01T00:00:00.000Z' } },
				'2': { f: 'abc' },
				'3': { f: DELETED_FINGERPRINT },
			},
		});
		const json = JSON.parse(JSON.stringify(stored));
		const back = baseFromStored(json)!;
		expect(back.watermark).toBe(1704067200000);
		expect([...back.entries]).toEqual([...entries]);
	});

	test('past the size bound it is a clear BaseError', () => {
		const entries = new Map([
			['1', { fingerprint: 'a' }],
			['2', { fingerprint: 'b' }],
			['3', { fingerprint: 'c' }],
		]);
		expect(() => baseToStored({ entries }, 2)).toThrow(BaseError);
		expect(() => baseToStored({ entries }, 2)).toThrow('3 keys, over the bound of 2');
		expect(baseToStored({ entries }, 3).keys).toHaveProperty('3');
	});

	test('no stored base is undefined', () => {
		expect(baseFromStored(undefined)).toBeUndefined();
		expect(baseFromStored(null)).toBeUndefined();
	});

	test.each([[{}], [{ v: 2, keys: {} }], [{ v: 1 }], [{ v: 1, keys: null }], ['base'], [42]])(
		'an unknown format %p is a BaseError',
		(stored) => {
			expect(() => baseFromStored(stored)).toThrow(BaseError);
		},
	);

	test('a non-numeric watermark is ignored', () => {
		expect(baseFromStored({ v: 1, keys: {}, watermark: 'soon' })!.watermark).toBeUndefined();
	});
});
