import { createHash } from 'node:crypto';

import { readTimestamp } from './time';

export type Json = null | boolean | number | string | Json[] | { [field: string]: Json };
export type RecordData = Record<string, unknown>;

// A timestamp with an explicit zone names one instant, so every system's spelling of it
// ("+02:00", "Z", a space instead of "T", more or fewer fraction digits) must hash the same.
const ZONED_TIMESTAMP =
	/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

function canonicalTimestamp(value: string): string {
	if (!ZONED_TIMESTAMP.test(value)) return value;
	// The strict parser: an impossible date ("2024-02-30") stays text, never rolls over.
	const { ms } = readTimestamp(value);
	return ms === undefined ? value : new Date(ms).toISOString();
}

function canonicalNumber(value: number): string {
	if (!Number.isFinite(value)) return JSON.stringify(String(value));
	return Object.is(value, -0) ? '0' : String(value);
}

/**
 * The canonical JSON text of a value: object keys sorted, undefined dropped, -0 as 0,
 * zoned timestamps and Dates as UTC ISO strings. Equal data gives equal text on every system.
 */
/** Deeper than this, a record is refused rather than walked (and the stack risked). */
export const MAX_NESTING = 64;

export class NestingError extends Error {}

export function canonicalJson(value: unknown, depth = 0): string {
	switch (typeof value) {
		case 'string':
			return JSON.stringify(canonicalTimestamp(value));
		case 'number':
			return canonicalNumber(value);
		case 'boolean':
			return value ? 'true' : 'false';
		case 'bigint':
			return Number.isSafeInteger(Number(value)) ? String(value) : JSON.stringify(String(value));
		case 'undefined':
		case 'function':
		case 'symbol':
			return 'null';
	}
	if (value === null) return 'null';
	if (value instanceof Date) {
		return Number.isNaN(value.getTime()) ? 'null' : JSON.stringify(value.toISOString());
	}
	if (depth >= MAX_NESTING) throw new NestingError(`nested deeper than ${MAX_NESTING} levels`);
	if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
	return canonicalObject(value as RecordData, undefined, depth + 1);
}

function canonicalObject(value: RecordData, skip?: ReadonlySet<string>, depth = 0): string {
	const fields = Object.keys(value)
		// null and absent are the same data: one system's NULL column is another's missing field.
		.filter((f) => value[f] !== undefined && value[f] !== null && !(skip && skip.has(f)))
		.sort();
	let out = '{';
	for (let i = 0; i < fields.length; i++) {
		if (i > 0) out += ',';
		out += `${JSON.stringify(fields[i])}:${canonicalJson(value[fields[i]], depth)}`;
	}
	return `${out}}`;
}

/** Canonical text of a record's compared fields (every field but the ignored ones). */
export function canonicalRecord(record: RecordData, ignored: ReadonlySet<string>): string {
	return canonicalObject(record, ignored);
}

/** Fingerprint of a tombstone: every deleted record looks the same, whatever fields it kept. */
export const DELETED_FINGERPRINT = 'deleted';

export function hashText(text: string): string {
	return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

export function fingerprint(record: RecordData, ignored: ReadonlySet<string>): string {
	return hashText(canonicalRecord(record, ignored));
}

/** fingerprint without throwing, for one-pass readers that collect bad records. */
export function readFingerprint(
	record: RecordData,
	ignored: ReadonlySet<string>,
): { fingerprint: string; error?: undefined } | { fingerprint?: undefined; error: string } {
	try {
		return { fingerprint: fingerprint(record, ignored) };
	} catch (error) {
		return {
			error:
				error instanceof NestingError ? error.message : `not readable: ${(error as Error).message}`,
		};
	}
}

/** True when two values are the same data in canonical form. */
export function sameValue(a: unknown, b: unknown): boolean {
	if (a === b) return true;
	return canonicalJson(a) === canonicalJson(b);
}

/** A deep copy holding only JSON data (so outputs never share objects with inputs). */
export function toJson(value: unknown): Json {
	return JSON.parse(canonicalJson(value)) as Json;
}

/** Empty means absent for "prefer non-empty": null, undefined, '', [], {}. */
export function isEmptyValue(value: unknown): boolean {
	if (value === null || value === undefined || value === '') return true;
	if (Array.isArray(value)) return value.length === 0;
	if (typeof value === 'object' && !(value instanceof Date)) return Object.keys(value).length === 0;
	return false;
}
