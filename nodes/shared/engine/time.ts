// Epoch numbers below this are seconds, above are milliseconds: 1e11 s is the year 5138,
// 1e11 ms is March 1973, so no real updated-at is misread either way.
const SECONDS_MS_BOUNDARY = 1e11;
const NUMERIC = /^-?\d+(?:\.\d+)?$/;
const ISO =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

export class TimestampError extends Error {}

/** Date.UTC with years 0-99 taken literally (Date.UTC reads them as 1900-1999). */
function utc(year: number, month: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
	const date = new Date(0);
	date.setUTCFullYear(year, month, day);
	date.setUTCHours(h, mi, s, ms);
	return date.getTime();
}

function daysInMonth(year: number, month: number): number {
	return new Date(utc(year, month, 0)).getUTCDate();
}

/** 9999-12-31T23:59:59.999Z: the last instant ISO 8601's four-digit years can write. */
const LAST_MS = 253_402_300_799_999;

function fromEpoch(value: number): number {
	// No record was updated before 1970: a negative epoch is a wrong value, not a date.
	if (value < 0) throw new TimestampError(`${value} is a negative epoch number (before 1970)`);
	const ms = value < SECONDS_MS_BOUNDARY ? Math.round(value * 1000) : Math.round(value);
	if (ms > LAST_MS) throw new TimestampError(`${value} is past the year 9999`);
	return ms;
}

function fromIso(text: string): number {
	const m = ISO.exec(text);
	if (!m) throw new TimestampError(`"${text}" is not an ISO 8601 timestamp or epoch number`);
	const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
	const year = Number(y);
	const month = Number(mo);
	const day = Number(d);
	if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
		throw new TimestampError(`"${text}" has no such calendar date`);
	}
	if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
		throw new TimestampError(`"${text}" has no such time of day`);
	}
	const ms = Number(frac.padEnd(3, '0').slice(0, 3));
	let instant = utc(year, month - 1, day, Number(h), Number(mi), Number(s), ms);
	// A timestamp without a zone is read as UTC, never as this machine's local time.
	if (zone && zone.toUpperCase() !== 'Z') {
		const sign = zone[0] === '-' ? -1 : 1;
		const digits = zone.slice(1).replace(':', '');
		const hours = Number(digits.slice(0, 2));
		const minutes = Number(digits.slice(2, 4) || '0');
		if (hours > 23 || minutes > 59) throw new TimestampError(`"${text}" has no such zone offset`);
		instant -= sign * (hours * 60 + minutes) * 60_000;
	}
	return instant;
}

/**
 * Reads an updated-at value as epoch milliseconds: ISO 8601 strings, epoch seconds or epoch
 * milliseconds (numbers or digit strings), Dates. Absent (null, undefined, '') gives undefined;
 * anything else malformed throws, because a guessed timestamp would pick the wrong winner.
 */
export function parseTimestamp(value: unknown): number | undefined {
	if (value === null || value === undefined || value === '') return undefined;
	if (typeof value === 'number') {
		if (!Number.isFinite(value)) throw new TimestampError(`${value} is not a finite epoch number`);
		return fromEpoch(value);
	}
	if (value instanceof Date) {
		const ms = value.getTime();
		if (Number.isNaN(ms)) throw new TimestampError('the Date is invalid');
		return ms;
	}
	if (typeof value === 'string') {
		// Fast path: the canonical form itself ("2025-06-01T09:00:00.000Z"), as most systems
		// write it: read digit by digit, validated as strictly as fromIso, no Date object.
		if (value.length === 24 && value.charCodeAt(23) === 90) {
			const ms = fastIso(value);
			if (ms !== undefined) return ms;
		}
		const text = value.trim();
		if (NUMERIC.test(text)) return fromEpoch(Number(text));
		return fromIso(text);
	}
	throw new TimestampError(`a ${Array.isArray(value) ? 'array' : typeof value} is not a timestamp`);
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const d2 = (t: string, i: number) => {
	const a = t.charCodeAt(i) - 48;
	const b = t.charCodeAt(i + 1) - 48;
	return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/** "YYYY-MM-DDTHH:MM:SS.sssZ" (years 1000-9999) as epoch ms, or undefined for anything else. */
function fastIso(t: string): number | undefined {
	if (t.charCodeAt(4) !== 45 || t.charCodeAt(7) !== 45 || t.charCodeAt(10) !== 84) return undefined;
	if (t.charCodeAt(13) !== 58 || t.charCodeAt(16) !== 58 || t.charCodeAt(19) !== 46)
		return undefined;
	const hi = d2(t, 0);
	const lo = d2(t, 2);
	const month = d2(t, 5);
	const day = d2(t, 8);
	const h = d2(t, 11);
	const mi = d2(t, 14);
	const s = d2(t, 17);
	const m1 = d2(t, 20);
	const m2 = t.charCodeAt(22) - 48;
	if (hi < 10 || lo < 0 || m1 < 0 || m2 < 0 || m2 > 9) return undefined;
	const year = hi * 100 + lo;
	const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
	if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS[month - 1]))
		return undefined;
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return undefined;
	return Date.UTC(year, month - 1, day, h, mi, s, m1 * 10 + m2);
}

export function isoOrNull(ms: number | undefined): string | null {
	return ms === undefined ? null : new Date(ms).toISOString();
}

/** parseTimestamp without throwing: for one-pass readers that collect errors. */
export function readTimestamp(value: unknown): { ms?: number; error?: string } {
	try {
		return { ms: parseTimestamp(value) };
	} catch (error) {
		return { error: (error as Error).message };
	}
}
