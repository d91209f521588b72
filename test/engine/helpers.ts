/**
 * Shared builders for the engine tests: index systems, build bases the way a validated sync
 * commits them, run the check and turn its keys into the plain-JSON CheckedKey ConflictResolve reads.
 */
import {
	type Base,
	baseEntryFor,
	type CheckedKey,
	checkConflicts,
	type CheckOptions,
	type CheckResult,
	DELETED_FINGERPRINT,
	fingerprint,
	ignoredFields,
	indexRecords,
	type IndexedSystem,
	type RecordData,
	recordKey,
	type RecordSpec,
	toCheckedKey,
} from '../../nodes/shared/engine';

export const SPEC: RecordSpec = {
	keyFields: ['id'],
	updatedAtField: 'updated_at',
	tombstoneField: 'deleted',
};
export const IGNORED = ignoredFields(SPEC);

export const T0 = '2024-01-01T00:00:00.000Z';
export const T1 = '2024-01-02T00:00:00.000Z';
export const T2 = '2024-01-03T00:00:00.000Z';
export const T3 = '2024-01-04T00:00:00.000Z';
export const ms = (iso: string) => Date.parse(iso);

/** Indexes one system's records; any input error fails the test (use indexRecords directly to test errors). */
export function sys(name: string, items: unknown[], spec: RecordSpec = SPEC): IndexedSystem {
	const { system, errors } = indexRecords(items, spec, { system: name });
	if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
	return system;
}

/** A base as a validated sync would commit it: one entry per record, DELETED for 'deleted'. */
export function baseOf(
	records: Array<RecordData | { deletedKey: string }>,
	opts: { keepValues?: boolean; watermark?: number; spec?: RecordSpec } = {},
): Base {
	const spec = opts.spec ?? SPEC;
	const ignored = ignoredFields(spec);
	const entries = new Map();
	for (const r of records) {
		if ('deletedKey' in r && typeof r.deletedKey === 'string' && Object.keys(r).length === 1) {
			entries.set(
				r.deletedKey,
				baseEntryFor(null, DELETED_FINGERPRINT, ignored, opts.keepValues ?? true),
			);
			continue;
		}
		const key = recordKey(r as RecordData, spec.keyFields);
		if (typeof key !== 'string') throw new Error('base record without key');
		entries.set(
			key,
			baseEntryFor(
				r as RecordData,
				fingerprint(r as RecordData, ignored),
				ignored,
				opts.keepValues ?? true,
			),
		);
	}
	return { entries, watermark: opts.watermark };
}

export type Systems = Array<[string, unknown[]]>;

export function check(
	systems: Systems,
	opts: Partial<Omit<CheckOptions, 'systems'>> & { spec?: RecordSpec } = {},
): CheckResult {
	const spec = opts.spec ?? SPEC;
	const { spec: _s, ...rest } = opts;
	void _s;
	return checkConflicts({
		scope: 'source',
		ignored: ignoredFields(spec),
		...rest,
		systems: systems.map(([name, items]) => sys(name, items, spec)),
	});
}

/** The single key of a check over one key. */
export function checkOne(systems: Systems, opts: Parameters<typeof check>[1] = {}) {
	const result = check(systems, opts);
	if (result.keys.length !== 1) throw new Error(`expected one key, got ${result.keys.length}`);
	return result.keys[0];
}

/** The CheckedKeys ConflictCheck would emit for these systems. */
export function checked(systems: Systems, opts: Parameters<typeof check>[1] = {}): CheckedKey[] {
	const spec = opts.spec ?? SPEC;
	const result = check(systems, opts);
	const names = systems.map(([n]) => n);
	return result.keys.map((k) => toCheckedKey(k, names, [...ignoredFields(spec)]));
}

export function checkedOne(systems: Systems, opts: Parameters<typeof check>[1] = {}): CheckedKey {
	const keys = checked(systems, opts);
	if (keys.length !== 1) throw new Error(`expected one key, got ${keys.length}`);
	return keys[0];
}

export function deepFreeze<T>(value: T): T {
	if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
		Object.freeze(value);
		for (const v of Object.values(value as object)) deepFreeze(v);
	}
	return value;
}
