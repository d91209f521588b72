import { createHash, hash } from 'node:crypto';

import { readTimestamp } from './time';

export type Json = null | boolean | number | string | Json[] | { [field: string]: Json };
export type RecordData = Record<string, unknown>;

/** A JSON object (not null, not an array): what a record must be. */
export const isObject = (value: unknown): value is RecordData =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

// A timestamp with an explicit zone names one instant, so every system's spelling of it
// ("+02:00", "Z", a space instead of "T", more or fewer fraction digits) must hash the same.
const ZONED_TIMESTAMP =
	/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

const isDigit = (c: number) => c >= 48 && c <= 57;

/** Whether a string could be a zoned timestamp (canonical text writes those in UTC). */
const mayBeTimestamp = (value: string) =>
	value.length >= 16 &&
	value.charCodeAt(4) === 45 &&
	value.charCodeAt(7) === 45 &&
	isDigit(value.charCodeAt(0));

function canonicalTimestamp(value: string): string {
	if (!mayBeTimestamp(value)) return value;
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

/** Field names that reach an object's prototype when a record is rebuilt: refused at any depth. */
export const UNSAFE_FIELD_NAMES: ReadonlySet<string> = new Set([
	'__proto__',
	'constructor',
	'prototype',
]);

export class UnsafeFieldError extends Error {}

const unsafeField = (name: string) =>
	new UnsafeFieldError(`holding a field named "${name}", which is not allowed at any depth`);

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

/**
 * Throws where canonicalJson would (NestingError, UnsafeFieldError) without writing any text: the
 * check that a record received can be read and rebuilt safely.
 */
export function assertReadable(value: unknown, depth = 0): void {
	if (value === null || typeof value !== 'object' || value instanceof Date) return;
	if (depth >= MAX_NESTING) throw new NestingError(`nested deeper than ${MAX_NESTING} levels`);
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) assertReadable(value[i], depth + 1);
		return;
	}
	for (const field of Object.keys(value)) {
		if (UNSAFE_FIELD_NAMES.has(field)) throw unsafeField(field);
		assertReadable((value as RecordData)[field], depth + 1);
	}
}

interface Shape {
	/** The record's own field names, in order, as Object.keys gave them. */
	keys: string[];
	/** Compared fields, sorted. */
	fields: string[];
	/** Their names as JSON text. */
	names: string[];
}
const NO_SKIP: ReadonlySet<string> = new Set();
/** Shapes by ignored-field set, then by the record's field names in order (bounded). */
const shapes = new WeakMap<ReadonlySet<string>, Map<string, Shape>>();
/** The shape each ignored-field set saw last: records of one system mostly share it. */
const lastShapes = new WeakMap<ReadonlySet<string>, Shape>();
const MAX_SHAPES = 1000;

/** Whether a record's own field names are exactly the shape's, in its order (no allocation). */
function hasShape(value: RecordData, shape: Shape): boolean {
	const { keys } = shape;
	let i = 0;
	for (const field in value) if (field !== keys[i++]) return false;
	return i === keys.length;
}

/** Records of one system mostly share one shape: sort and quote their field names once. */
function shapeOf(value: RecordData, skip: ReadonlySet<string>): Shape {
	const last = lastShapes.get(skip);
	if (last && hasShape(value, last)) return last;
	const keys = Object.keys(value);
	let cache = shapes.get(skip);
	if (!cache) shapes.set(skip, (cache = new Map()));
	const id = keys.join('\u0000');
	let shape = cache.get(id);
	if (!shape) {
		// Checked once per new shape: cached shapes are known to be safe.
		const unsafe = keys.find((f) => UNSAFE_FIELD_NAMES.has(f));
		if (unsafe !== undefined) throw unsafeField(unsafe);
		const fields = keys.filter((f) => !skip.has(f)).sort();
		shape = {
			keys,
			fields,
			names: fields.map((f) => JSON.stringify(f)),
		};
		if (cache.size < MAX_SHAPES) cache.set(id, shape);
	}
	lastShapes.set(skip, shape);
	return shape;
}

/**
 * Whether canonical text of these fields is what JSON.stringify writes for them: only strings
 * that are no timestamp, finite numbers (JSON writes -0 as 0 too) and booleans; null, undefined,
 * objects, Dates and the rest take the field-by-field path.
 */
function plainFields(value: RecordData, fields: string[]): boolean {
	for (let i = 0; i < fields.length; i++) {
		const v = value[fields[i]];
		switch (typeof v) {
			case 'string':
				if (mayBeTimestamp(v)) return false;
				break;
			case 'number':
				if (!Number.isFinite(v)) return false;
				break;
			case 'boolean':
				break;
			default:
				return false;
		}
	}
	return true;
}

function canonicalObject(
	value: RecordData,
	skip: ReadonlySet<string> = NO_SKIP,
	depth = 0,
): string {
	const { fields, names } = shapeOf(value, skip);
	// The common flat record: JSON.stringify with the sorted field list writes the very same text
	// natively (a plain object has no toJSON of its own to call). A sorted copy without the list
	// is faster on one shape, but slower where records of many shapes meet (a real n8n): its
	// keyed stores turn megamorphic.
	if (plainFields(value, fields) && Object.getPrototypeOf(value) === Object.prototype)
		return JSON.stringify(value, fields);
	let out = '{';
	for (let i = 0; i < fields.length; i++) {
		const v = value[fields[i]];
		// null and absent are the same data: one system's NULL column is another's missing field.
		if (v === undefined || v === null) continue;
		out += `${out.length > 1 ? ',' : ''}${names[i]}:${canonicalJson(v, depth)}`;
	}
	return `${out}}`;
}

/** The ignored-field sets by their field list: bounded, like the shapes. */
const ignoredSets = new Map<string, ReadonlySet<string>>();

/**
 * One Set per list of ignored fields, shared by every item that names the same fields: the
 * shapes above are cached per Set, so a new Set per item would miss them every time.
 */
export function ignoredSet(fields: readonly string[]): ReadonlySet<string> {
	const id = fields.join('\u0000');
	let set = ignoredSets.get(id);
	if (!set) {
		set = new Set(fields);
		if (ignoredSets.size < MAX_SHAPES) ignoredSets.set(id, set);
	}
	return set;
}

/** Canonical text of a record's compared fields (every field but the ignored ones). */
export function canonicalRecord(record: RecordData, ignored: ReadonlySet<string>): string {
	return canonicalObject(record, ignored);
}

/** Fingerprint of a tombstone: every deleted record looks the same, whatever fields it kept. */
export const DELETED_FINGERPRINT = 'deleted';

export function hashText(text: string): string {
	// One-shot hash (Node >= 20.12): no Hash object per record.
	const digest =
		typeof hash === 'function'
			? hash('sha256', text, 'base64url')
			: createHash('sha256').update(text).digest('base64url');
	// A flat copy of the first 22 characters: slice() would make a sliced string that keeps the
	// whole 43-character digest alive, about 100 bytes per fingerprint kept instead of 44.
	return Buffer.from(digest, 'latin1').toString('latin1', 0, 22);
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
				error instanceof NestingError || error instanceof UnsafeFieldError
					? error.message
					: `not readable: ${(error as Error).message}`,
		};
	}
}

/** The compared fields whose values differ between two records, sorted. */
export function differingFields(
	a: RecordData,
	b: RecordData,
	ignored: ReadonlySet<string>,
): string[] {
	const fields = new Set([...Object.keys(a), ...Object.keys(b)].filter((f) => !ignored.has(f)));
	return [...fields].filter((f) => canonicalJson(a[f]) !== canonicalJson(b[f])).sort();
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
