import { DELETED_FINGERPRINT, readFingerprint, type RecordData } from './canonical';

import { SyncInputError } from './errors';
import { readTimestamp } from './time';

/** How records are read: the same for every system in one sync. */
export interface RecordSpec {
	keyFields: string[];
	updatedAtField?: string;
	versionField?: string;
	/** A record whose tombstone field is truthy is a delete marker. */
	tombstoneField?: string;
	/** Fields left out of comparison besides key, updated-at, version and tombstone. */
	ignoreFields?: string[];
}

export interface SyncRecord {
	key: string;
	data: RecordData;
	fingerprint: string;
	updatedAt?: number;
	version?: string | number;
	deleted: boolean;
	/** Position of the item the record came from, on its input. */
	itemIndex: number;
}

export interface IndexedSystem {
	name: string;
	records: Map<string, SyncRecord>;
	/** Keys in input order, so outputs are in a stable order. */
	order: string[];
}

/** Fields that never take part in comparison for this spec. */
export function ignoredFields(spec: RecordSpec): Set<string> {
	const ignored = new Set(spec.keyFields);
	for (const f of [spec.updatedAtField, spec.versionField, spec.tombstoneField])
		if (f) ignored.add(f);
	for (const f of spec.ignoreFields ?? []) ignored.add(f);
	return ignored;
}

function keyPart(value: unknown): string | undefined {
	if (typeof value === 'string') return value.length > 0 ? value : undefined;
	if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
	if (typeof value === 'bigint') return String(value);
	return undefined;
}

/**
 * The key of a record as one string. A number and its digits are the same key, because
 * systems disagree on key types (a Postgres serial against a JSON string id).
 * Composite keys are a JSON array of their parts in field order.
 */
export function recordKey(data: RecordData, keyFields: string[]): string | { missing: string } {
	if (keyFields.length === 1) {
		const part = keyPart(data[keyFields[0]]);
		return part === undefined ? { missing: keyFields[0] } : part;
	}
	const parts: string[] = [];
	for (const field of keyFields) {
		const part = keyPart(data[field]);
		if (part === undefined) return { missing: field };
		parts.push(part);
	}
	return JSON.stringify(parts);
}

/** Records by their key, as read back from a system; a record without a readable key is left out. */
export function recordsByKey<T extends RecordData>(
	records: Iterable<T>,
	keyFields: string[],
): Map<string, T> {
	const byKey = new Map<string, T>();
	for (const record of records) {
		const key = recordKey(record, keyFields);
		if (typeof key === 'string') byKey.set(key, record);
	}
	return byKey;
}

/** The key's field values, for output and for building a record from a key. */
export function keyValues(key: string, keyFields: string[]): Record<string, string> {
	const parts = keyFields.length === 1 ? [key] : (JSON.parse(key) as string[]);
	return Object.fromEntries(keyFields.map((f, i) => [f, parts[i]]));
}

/** Whether a tombstone field's value marks a delete (true, a deletion time, 1, "true"). */
export function isTombstone(value: unknown): boolean {
	if (value === undefined || value === null || value === false || value === 0 || value === '')
		return false;
	return value !== 'false' && value !== '0';
}

export interface IndexOptions {
	system: string;
	inputIndex?: number;
	/** Path inside the item that the record came from, for error messages ("sync_data[3]"). */
	label?: (itemIndex: number) => string;
}

/**
 * Reads one system's records into a hash index by key, in one pass.
 * Bad records are returned as errors, never guessed at; every record sharing a duplicate key
 * is rejected, since no one can tell which of them is the real one.
 */
export function indexRecords(
	items: readonly unknown[],
	spec: RecordSpec,
	options: IndexOptions,
): { system: IndexedSystem; errors: SyncInputError[] } {
	const ignored = ignoredFields(spec);
	const records = new Map<string, SyncRecord>();
	const order: string[] = [];
	const errors: SyncInputError[] = [];
	const duplicates = new Map<string, number[]>();
	const { system, inputIndex = 0 } = options;
	const where = (i: number) => (options.label ? options.label(i) : `item ${i}`);
	const fail = (i: number, field: string, message: string, key?: string) =>
		errors.push(
			new SyncInputError(`${system}: ${where(i)}: ${message}`, i, field, system, inputIndex, key),
		);

	for (let i = 0; i < items.length; i++) {
		const data = items[i];
		if (data === null || typeof data !== 'object' || Array.isArray(data)) {
			fail(
				i,
				'(record)',
				`the record must be a JSON object, got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}`,
			);
			continue;
		}
		const record = data as RecordData;
		// Field names that would reach an object's prototype when a record is rebuilt are refused.
		const unsafe = Object.hasOwn(record, '__proto__')
			? '__proto__'
			: Object.hasOwn(record, 'constructor')
				? 'constructor'
				: Object.hasOwn(record, 'prototype')
					? 'prototype'
					: undefined;
		if (unsafe !== undefined) {
			fail(i, unsafe, `field name "${unsafe}" is not allowed in a record`);
			continue;
		}
		const key = recordKey(record, spec.keyFields);
		if (typeof key !== 'string') {
			fail(i, key.missing, `the record has no key: field "${key.missing}" is missing or empty`);
			continue;
		}
		let updatedAt: number | undefined;
		if (spec.updatedAtField) {
			const read = readTimestamp(record[spec.updatedAtField]);
			if (read.error !== undefined) {
				fail(i, spec.updatedAtField, `field "${spec.updatedAtField}": ${read.error}`, key);
				continue;
			}
			updatedAt = read.ms;
		}
		const earlier = records.get(key);
		if (earlier || duplicates.has(key)) {
			const seen = duplicates.get(key) ?? [earlier!.itemIndex];
			seen.push(i);
			duplicates.set(key, seen);
			records.delete(key);
			continue;
		}
		const deleted = spec.tombstoneField ? isTombstone(record[spec.tombstoneField]) : false;
		const version = spec.versionField ? record[spec.versionField] : undefined;
		let print = DELETED_FINGERPRINT;
		if (!deleted) {
			const result = readFingerprint(record, ignored);
			if (result.error !== undefined) {
				fail(i, '(record)', `the record is ${result.error}`, key);
				continue;
			}
			print = result.fingerprint;
		}
		records.set(key, {
			key,
			data: record,
			fingerprint: print,
			updatedAt,
			version: typeof version === 'string' || typeof version === 'number' ? version : undefined,
			deleted,
			itemIndex: i,
		});
		order.push(key);
	}
	for (const [key, indexes] of duplicates) {
		const field = spec.keyFields.join(', ');
		for (const i of indexes) {
			fail(i, field, `duplicate key ${key}: ${indexes.map(where).join(', ')} share it`, key);
		}
	}
	errors.sort((a, b) => a.itemIndex - b.itemIndex);
	return {
		system: {
			name: system,
			records,
			order: duplicates.size ? order.filter((k) => records.has(k)) : order,
		},
		errors,
	};
}

/**
 * Reads a dotted path ("body.sync_data") from an item or a response body; own properties only,
 * so a path cannot reach an object's prototype. An empty path is the value itself.
 */
export function getPath(value: unknown, path: string): unknown {
	if (!path) return value;
	let current = value;
	for (const part of path.split('.')) {
		if (current === null || typeof current !== 'object') return undefined;
		if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
		current = (current as Record<string, unknown>)[part];
	}
	return current;
}
