import { isoOrNull, parseTimestamp, TimestampError } from '../../nodes/shared/engine';

const AT_10_UTC = Date.UTC(2024, 0, 1, 10, 0, 0);

describe('parseTimestamp: ISO 8601', () => {
	test.each([
		['2024-01-01T10:00:00Z', AT_10_UTC],
		['2024-01-01T10:00:00.000Z', AT_10_UTC],
		['2024-01-01t10:00:00z', AT_10_UTC],
		['2024-01-01T12:00:00+02:00', AT_10_UTC],
		['2024-01-01T12:00:00+0200', AT_10_UTC],
		['2024-01-01T12:00:00+02', AT_10_UTC],
		['2024-01-01 12:00:00+02', AT_10_UTC],
		['2024-01-01T04:30:00-05:30', AT_10_UTC],
		['2024-01-01T10:00Z', AT_10_UTC],
		['2024-01-01T00:00:00+00:00', Date.UTC(2024, 0, 1)],
		['2024-01-01T01:00:00+02:00', Date.UTC(2023, 11, 31, 23)],
	])('%s', (text, expected) => {
		expect(parseTimestamp(text)).toBe(expected);
	});

	test('without a zone it is UTC', () => {
		expect(parseTimestamp('2024-01-01T10:00:00')).toBe(AT_10_UTC);
		expect(parseTimestamp('2024-01-01 10:00:00')).toBe(AT_10_UTC);
		expect(parseTimestamp('2024-01-01T10:00')).toBe(AT_10_UTC);
		expect(parseTimestamp('2024-01-01')).toBe(Date.UTC(2024, 0, 1));
	});

	test('without a zone it is UTC whatever the machine time zone is', () => {
		const saved = process.env.TZ;
		try {
			const seen: number[] = [];
			for (const tz of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Asia/Kolkata']) {
				process.env.TZ = tz;
				seen.push(parseTimestamp('2024-07-01T10:00:00')!, parseTimestamp('2024-07-01')!);
			}
			expect(new Set(seen)).toEqual(new Set([Date.UTC(2024, 6, 1, 10), Date.UTC(2024, 6, 1)]));
		} finally {
			if (saved === undefined) delete process.env.TZ;
			else process.env.TZ = saved;
		}
	});

	test('fractional seconds are read to the millisecond (extra digits truncated)', () => {
		expect(parseTimestamp('2024-01-01T10:00:00.5Z')).toBe(AT_10_UTC + 500);
		expect(parseTimestamp('2024-01-01T10:00:00.05Z')).toBe(AT_10_UTC + 50);
		expect(parseTimestamp('2024-01-01T10:00:00.123Z')).toBe(AT_10_UTC + 123);
		expect(parseTimestamp('2024-01-01T10:00:00.123456Z')).toBe(AT_10_UTC + 123);
		expect(parseTimestamp('2024-01-01T10:00:00.999999999Z')).toBe(AT_10_UTC + 999);
		expect(parseTimestamp('2024-01-01T12:00:00.250+02:00')).toBe(AT_10_UTC + 250);
	});

	test('surrounding whitespace is ignored', () => {
		expect(parseTimestamp('  2024-01-01T10:00:00Z\n')).toBe(AT_10_UTC);
	});

	test('leap days', () => {
		expect(parseTimestamp('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
		expect(parseTimestamp('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
	});

	test('years before 100 are not read as 19xx', () => {
		// Date.UTC maps years 0-99 to 1900-1999.
		expect(parseTimestamp('0050-01-01T00:00:00Z')).toBe(new Date('0050-01-01T00:00:00Z').getTime());
	});
});

describe('parseTimestamp: epoch numbers', () => {
	const S = 1704103200; // 2024-01-01T10:00:00Z in seconds

	test('epoch seconds, as number and as digit string', () => {
		expect(S * 1000).toBe(AT_10_UTC);
		expect(parseTimestamp(S)).toBe(AT_10_UTC);
		expect(parseTimestamp(String(S))).toBe(AT_10_UTC);
		expect(parseTimestamp(` ${S} `)).toBe(AT_10_UTC);
	});

	test('epoch seconds with a fraction', () => {
		expect(parseTimestamp(S + 0.25)).toBe(AT_10_UTC + 250);
		expect(parseTimestamp(`${S}.5`)).toBe(AT_10_UTC + 500);
	});

	test('epoch milliseconds, as number and as digit string', () => {
		expect(parseTimestamp(AT_10_UTC)).toBe(AT_10_UTC);
		expect(parseTimestamp(String(AT_10_UTC))).toBe(AT_10_UTC);
		expect(parseTimestamp(AT_10_UTC + 1)).toBe(AT_10_UTC + 1);
	});

	test('the seconds/milliseconds boundary is 1e11', () => {
		expect(parseTimestamp(99_999_999_999)).toBe(99_999_999_999_000);
		expect(parseTimestamp(100_000_000_000)).toBe(100_000_000_000);
		expect(parseTimestamp(0)).toBe(0);
		// No record changed before 1970: a negative epoch is refused (found by the reliability suite).
		expect(() => parseTimestamp(-1)).toThrow('-1 is a negative epoch number (before 1970)');
		expect(() => parseTimestamp('-5')).toThrow(/negative epoch/);
		expect(() => parseTimestamp(1e20)).toThrow('100000000000000000000 is past the year 9999');
		expect(parseTimestamp(253_402_300_799_999)).toBe(253_402_300_799_999);
	});
});

describe('parseTimestamp: Dates and absent values', () => {
	test('a Date is its own instant', () => {
		expect(parseTimestamp(new Date(AT_10_UTC))).toBe(AT_10_UTC);
	});

	test.each([null, undefined, ''])('%p is absent', (value) => {
		expect(parseTimestamp(value)).toBeUndefined();
	});
});

describe('parseTimestamp: malformed values throw TimestampError', () => {
	test.each([
		['2024-02-30'],
		['2023-02-29'],
		['2024-13-01'],
		['2024-00-10'],
		['2024-01-00'],
		['2024-04-31T00:00:00Z'],
		['yesterday'],
		['25:00'],
		['2024-01-01T25:00:00Z'],
		['2024-01-01T24:00:00Z'],
		['2024-01-01T10:60:00Z'],
		['2024-01-01T10:00:60Z'],
		['2024-1-1'],
		['01/02/2024'],
		['2024-01-01T10:00:00+25:00'],
		['2024-01-01T10:00:00+02:60'],
		['1.7e9'],
	])('%p', (text) => {
		expect(() => parseTimestamp(text)).toThrow(TimestampError);
	});

	test.each([
		['{}', {}],
		['[]', []],
		['NaN', NaN],
		['Infinity', Infinity],
		['-Infinity', -Infinity],
		['true', true],
		['an invalid Date', new Date('nope')],
	])('%s', (_label, value) => {
		expect(() => parseTimestamp(value)).toThrow(TimestampError);
	});

	test('the message names the value', () => {
		expect(() => parseTimestamp('yesterday')).toThrow('"yesterday"');
		expect(() => parseTimestamp('2024-02-30')).toThrow('no such calendar date');
		expect(() => parseTimestamp('2024-01-01T25:00:00Z')).toThrow('no such time of day');
		expect(() => parseTimestamp([])).toThrow('array');
	});
});

describe('isoOrNull', () => {
	test('ISO string for ms, null for undefined', () => {
		expect(isoOrNull(AT_10_UTC)).toBe('2024-01-01T10:00:00.000Z');
		expect(isoOrNull(0)).toBe('1970-01-01T00:00:00.000Z');
		expect(isoOrNull(undefined)).toBeNull();
	});
});
