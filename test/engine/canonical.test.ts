import {
	assertReadable,
	canonicalJson,
	canonicalRecord,
	DELETED_FINGERPRINT,
	fingerprint,
	hashText,
	isEmptyValue,
	sameValue,
	toJson,
} from '../../nodes/shared/engine';
import { IGNORED } from './helpers';

const NONE: ReadonlySet<string> = new Set();
const fp = (r: Record<string, unknown>, ignored: ReadonlySet<string> = NONE) =>
	fingerprint(r, ignored);

describe('canonicalJson', () => {
	test('sorts object keys at every level', () => {
		expect(canonicalJson({ b: 1, a: { d: 2, c: [{ f: 1, e: 2 }] } })).toBe(
			'{"a":{"c":[{"e":2,"f":1}],"d":2},"b":1}',
		);
	});

	test('numbers: 1 and 1.0 are the same text, -0 is 0, exponents are expanded', () => {
		expect(canonicalJson(1.0)).toBe('1');
		expect(canonicalJson(1)).toBe('1');
		expect(canonicalJson(-0)).toBe('0');
		expect(canonicalJson(1e2)).toBe('100');
		expect(canonicalJson(0.5)).toBe('0.5');
	});

	test('non-finite numbers become strings instead of invalid JSON', () => {
		expect(canonicalJson(NaN)).toBe('"NaN"');
		expect(canonicalJson(Infinity)).toBe('"Infinity"');
		expect(() => JSON.parse(canonicalJson({ a: -Infinity }))).not.toThrow();
	});

	test('booleans, null, strings', () => {
		expect(canonicalJson(true)).toBe('true');
		expect(canonicalJson(false)).toBe('false');
		expect(canonicalJson(null)).toBe('null');
		expect(canonicalJson('a"b')).toBe('"a\\"b"');
	});

	test('undefined fields are dropped, undefined array items become null (as JSON does)', () => {
		expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
		expect(canonicalJson({ a: { b: undefined, c: 1 } })).toBe('{"a":{"c":1}}');
		expect(canonicalJson([1, undefined, 2])).toBe('[1,null,2]');
		expect(canonicalJson(undefined)).toBe('null');
	});

	test('zoned timestamps in every spelling become one UTC ISO string', () => {
		const utc = '"2024-01-01T08:00:00.000Z"';
		for (const spelling of [
			'2024-01-01T10:00:00+02:00',
			'2024-01-01T08:00:00.000Z',
			'2024-01-01T08:00:00Z',
			'2024-01-01 08:00:00+00',
			'2024-01-01 08:00:00+0000',
			'2024-01-01T10:00:00+0200',
			'2024-01-01T03:00:00-05:00',
			'2024-01-01T08:00:00.000000Z',
			'2024-01-01T08:00Z',
		]) {
			expect([spelling, canonicalJson(spelling)]).toEqual([spelling, utc]);
		}
	});

	test('Date objects are the same as their UTC ISO string; an invalid Date is null', () => {
		expect(canonicalJson(new Date('2024-01-01T08:00:00Z'))).toBe('"2024-01-01T08:00:00.000Z"');
		expect(canonicalJson({ at: new Date('2024-01-01T10:00:00+02:00') })).toBe(
			canonicalJson({ at: '2024-01-01 08:00:00+00' }),
		);
		expect(canonicalJson(new Date('nope'))).toBe('null');
	});

	test('strings that are not zoned timestamps are kept verbatim', () => {
		// No zone: which instant it names is unknown, so it is not rewritten.
		expect(canonicalJson('2024-01-01T08:00:00')).toBe('"2024-01-01T08:00:00"');
		expect(canonicalJson('2024-01-01')).toBe('"2024-01-01"');
		expect(canonicalJson('hello 2024-01-01T08:00:00Z')).toBe('"hello 2024-01-01T08:00:00Z"');
		expect(canonicalJson('  ')).toBe('"  "');
	});

	test('an impossible zoned date is not rolled over into a real one', () => {
		// V8's Date.parse reads "2024-02-30" as March 1st; two different strings must not hash equal.
		expect(canonicalJson('2024-02-30T00:00:00Z')).not.toBe(canonicalJson('2024-03-01T00:00:00Z'));
		expect(canonicalJson('2024-02-30T00:00:00Z')).toBe('"2024-02-30T00:00:00Z"');
	});

	test('bigints: safe ones as numbers, unsafe ones as strings', () => {
		expect(canonicalJson(BigInt(42))).toBe('42');
		expect(canonicalJson(BigInt('123456789012345678901234567890'))).toBe(
			'"123456789012345678901234567890"',
		);
	});

	test('functions and symbols are null', () => {
		expect(canonicalJson(() => 1)).toBe('null');
		expect(canonicalJson(Symbol('x'))).toBe('null');
	});
});

describe('fingerprint', () => {
	const record = {
		id: 7,
		name: 'Ada',
		email: 'ada@example.com',
		tags: ['a', 'b'],
		address: { city: 'Paris', zip: '75001' },
	};

	test('is a 22-character base64url hash', () => {
		expect(fp(record)).toMatch(/^[A-Za-z0-9_-]{22}$/);
		expect(hashText('abc')).toBe(hashText('abc'));
		expect(hashText('abc')).not.toBe(hashText('abd'));
	});

	test('key order does not change it, at any depth', () => {
		const reordered = {
			address: { zip: '75001', city: 'Paris' },
			tags: ['a', 'b'],
			email: 'ada@example.com',
			name: 'Ada',
			id: 7,
		};
		expect(fp(reordered)).toBe(fp(record));
	});

	test('1 and 1.0, -0 and 0 are the same', () => {
		expect(fp({ n: 1 })).toBe(fp({ n: 1.0 }));
		expect(fp({ n: -0 })).toBe(fp({ n: 0 }));
		expect(fp({ nested: { n: -0 } })).toBe(fp({ nested: { n: 0 } }));
	});

	test('one instant spelled three ways is one fingerprint', () => {
		const a = fp({ at: '2024-01-01T10:00:00+02:00' });
		expect(fp({ at: '2024-01-01T08:00:00.000Z' })).toBe(a);
		expect(fp({ at: '2024-01-01 08:00:00+00' })).toBe(a);
		expect(fp({ at: new Date(Date.UTC(2024, 0, 1, 8)) })).toBe(a);
		expect(fp({ at: '2024-01-01T08:00:01Z' })).not.toBe(a);
	});

	test('undefined fields are dropped', () => {
		expect(fp({ a: 1, b: undefined })).toBe(fp({ a: 1 }));
		expect(fp({ a: { x: 1, y: undefined } })).toBe(fp({ a: { x: 1 } }));
	});

	test('a null field and an absent field are the same data (as field diff and sameValue treat them)', () => {
		// sameValue(null, undefined) is true and the field diff sees no changed field, so the
		// fingerprint must agree, or a system that omits nulls looks changed forever.
		expect(sameValue(null, undefined)).toBe(true);
		expect(fp({ a: 1, note: null })).toBe(fp({ a: 1 }));
	});

	test('nested objects and arrays take part', () => {
		expect(fp({ a: { b: [1, { c: 2 }] } })).toBe(fp({ a: { b: [1, { c: 2 }] } }));
		expect(fp({ a: { b: [1, { c: 2 }] } })).not.toBe(fp({ a: { b: [1, { c: 3 }] } }));
		expect(fp({ a: { b: 1 } })).not.toBe(fp({ a: { b: 1, c: 1 } }));
	});

	test('ignored fields do not matter', () => {
		// Default ignores: key, updated-at, tombstone.
		const a = { id: 1, updated_at: '2024-01-01T00:00:00Z', deleted: false, name: 'Ada' };
		const b = { id: 2, updated_at: '2030-05-05T00:00:00Z', name: 'Ada' };
		expect(fingerprint(a, IGNORED)).toBe(fingerprint(b, IGNORED));
		expect(fingerprint({ ...a, name: 'Bob' }, IGNORED)).not.toBe(fingerprint(b, IGNORED));
		const custom = new Set(['etag', 'synced_at']);
		expect(fingerprint({ x: 1, etag: 'a', synced_at: 1 }, custom)).toBe(
			fingerprint({ x: 1, etag: 'b' }, custom),
		);
	});

	test('different data gives a different fingerprint', () => {
		expect(fp({ name: 'Ada' })).not.toBe(fp({ name: 'Bob' }));
		expect(fp({ name: 'Ada' })).not.toBe(fp({ nom: 'Ada' }));
		expect(fp({ n: 1 })).not.toBe(fp({ n: '1' }));
		expect(fp({ b: true })).not.toBe(fp({ b: 'true' }));
		expect(fp({ a: {} })).not.toBe(fp({ a: [] }));
		expect(fp({})).not.toBe(fp({ a: 0 }));
	});

	test('array order matters', () => {
		expect(fp({ tags: ['a', 'b'] })).not.toBe(fp({ tags: ['b', 'a'] }));
	});

	test('canonicalRecord leaves out exactly the ignored fields', () => {
		expect(canonicalRecord({ id: 1, updated_at: 'x', deleted: true, z: 1, a: 2 }, IGNORED)).toBe(
			'{"a":2,"z":1}',
		);
	});

	test('DELETED_FINGERPRINT is not the hash of any record', () => {
		expect(DELETED_FINGERPRINT).toBe('deleted');
		expect(fp({})).not.toBe(DELETED_FINGERPRINT);
	});
});

describe('sameValue', () => {
	test('compares canonical forms', () => {
		expect(sameValue({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
		expect(sameValue('2024-01-01T10:00:00+02:00', '2024-01-01T08:00:00Z')).toBe(true);
		expect(sameValue(-0, 0)).toBe(true);
		expect(sameValue([1, 2], [2, 1])).toBe(false);
		expect(sameValue(1, '1')).toBe(false);
		expect(sameValue('a', 'b')).toBe(false);
	});
});

describe('toJson', () => {
	test('is a canonical deep copy sharing nothing with its input', () => {
		const input = { b: { c: [1, { d: 2 }] }, a: undefined, at: new Date(Date.UTC(2024, 0, 1)) };
		const out = toJson(input) as Record<string, unknown>;
		expect(out).toEqual({ b: { c: [1, { d: 2 }] }, at: '2024-01-01T00:00:00.000Z' });
		expect(out.b).not.toBe(input.b);
		expect(Object.keys(out)).toEqual(['at', 'b']);
	});
});

describe('isEmptyValue', () => {
	test.each([
		[null, true],
		[undefined, true],
		['', true],
		[[], true],
		[{}, true],
		[0, false],
		[false, false],
		[' ', false],
		[[null], false],
		[{ a: undefined }, false],
		[new Date(0), false],
	])('%p -> %p', (value, empty) => {
		expect(isEmptyValue(value)).toBe(empty);
	});
});

describe('canonical text of flat records (written natively) equals the field-by-field text', () => {
	// The field-by-field text, as canonicalObject wrote it for every record before the native path.
	const byField = (r: Record<string, unknown>, ignored: ReadonlySet<string>) =>
		`{${Object.keys(r)
			.filter((f) => !ignored.has(f) && r[f] !== null && r[f] !== undefined)
			.sort()
			.map((f) => `${JSON.stringify(f)}:${canonicalJson(r[f])}`)
			.join(',')}}`;
	const records: Array<Record<string, unknown>> = [
		{ id: 1, name: 'Ada', email: 'ada@x.io', balance: 12.5, active: true, updated_at: 'x' },
		{ name: 'quote " backslash \\ newline \n tab \t', z: -0, a: 1e21, m: 0.1 + 0.2 },
		{ emoji: '😀 é ü', lone: '\ud800', control: '\u0001', big: Number.MAX_SAFE_INTEGER },
		{ when: '2024-01-02T03:04:05+02:00', other: 'text' },
		{ empty: null, gone: undefined, kept: 'yes' },
		{ nested: { b: 2, a: 1 }, list: [3, { d: 1, c: 2 }] },
		{ inf: Infinity, nan: NaN, at: new Date(Date.UTC(2024, 0, 2)) },
		{ '1': 'numeric key', b: 'x', a: 'y' },
		{ '10': 'ten', '9': 'nine', b: 'x', a: 'y' },
		{ zeta: 1, alpha: 2, Beta: 3, _under: 4, 'with space': 5 },
	];

	test.each(records.map((r, i) => [i, r]))('record %i', (_i, r) => {
		expect(canonicalRecord(r, IGNORED)).toBe(byField(r, IGNORED));
	});

	test('records of one shape, then another, then the first again keep their own fields', () => {
		const a = { id: 1, name: 'Ada', phone: '1' };
		const b = { id: 2, phone: '2', name: 'Bea' };
		const c = { id: 3, name: 'Cy', phone: '3', extra: true };
		for (const r of [a, b, a, c, b, c])
			expect(canonicalRecord(r, IGNORED)).toBe(byField(r, IGNORED));
	});

	test('a record with a prototype of its own is written field by field (no toJSON called)', () => {
		const r = Object.assign(Object.create({ toJSON: () => 'hijacked' }), { name: 'Ada' });
		expect(canonicalRecord(r, IGNORED)).toBe('{"name":"Ada"}');
	});
});

test('hashText: 22 characters of the base64url sha256 digest', () => {
	expect(hashText('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7');
	expect(hashText('abc')).toHaveLength(22);
});

describe('assertReadable refuses what canonicalJson refuses, and nothing else', () => {
	const deep = (n: number) => {
		let v: unknown = 'leaf';
		for (let i = 0; i < n; i++) v = i % 2 ? [v] : { v };
		return v;
	};
	const values: unknown[] = [
		{ a: 1, b: [1, { c: 'x' }], d: null, e: new Date(0) },
		deep(63),
		deep(64),
		deep(65),
		JSON.parse('{"ok":1,"__proto__":{"x":1}}'),
		{ nested: [{ constructor: 1 }] },
		{ deeper: { prototype: 'x' } },
		'text',
		[1, 2, 3],
	];
	test.each(values.map((v, i) => [i, v]))('value %i', (_i, v) => {
		let expected: string | undefined;
		try {
			canonicalJson(v);
		} catch (error) {
			expected = (error as Error).message;
		}
		let got: string | undefined;
		try {
			assertReadable(v);
		} catch (error) {
			got = (error as Error).message;
		}
		expect(got).toBe(expected);
	});
});
