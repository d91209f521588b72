import type { KeyCheck } from './check';
import type { CheckedKey } from './items';
import { isoOrNull } from './time';

/**
 * A copy that shares nothing with its source: a shallow copy where every value is a string,
 * finite number, boolean or null (most records: several times cheaper than a JSON round trip),
 * else the JSON round trip.
 */
function copyJson(value: object): unknown {
	let flat = true;
	for (const k in value) {
		const v = (value as Record<string, unknown>)[k];
		const t = typeof v;
		if (
			!(v === null || t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(v)))
		) {
			flat = false;
			break;
		}
	}
	return flat && Object.getPrototypeOf(value) === Object.prototype
		? { ...value }
		: JSON.parse(JSON.stringify(value));
}

/** The plain-JSON form of a classified key that ConflictCheck emits and ConflictResolve reads. */
export function toCheckedKey(
	check: KeyCheck,
	systems: string[],
	ignoredFields: readonly string[],
	/** How records are read, so later nodes need not repeat it. */
	fields: { keyFields?: string[]; versionField?: string; tombstoneField?: string } = {},
): CheckedKey {
	const records: CheckedKey['records'] = {};
	const updatedAt: CheckedKey['updatedAt'] = {};
	const deleted: CheckedKey['deleted'] = {};
	for (const s of systems) {
		const r = check.records[s];
		records[s] = r ? (copyJson(r.data) as CheckedKey['records'][string]) : null;
		updatedAt[s] = isoOrNull(r?.updatedAt);
		deleted[s] = r?.deleted ?? false;
	}
	// What a person reads first comes first: the key, its verdict and why; the records after.
	return {
		key: check.key,
		kind: check.kind,
		...(check.conflictType ? { conflictType: check.conflictType } : {}),
		reason: check.reason,
		conflictFields: [...check.conflictFields],
		changedFields: Object.fromEntries(
			Object.entries(check.changedFields).map(([f, s]) => [f, [...s]]),
		),
		states: { ...check.states },
		...(check.proposedFrom ? { proposedFrom: check.proposedFrom } : {}),
		basis: check.basis,
		sourceSystem: systems[0],
		systems,
		records,
		deleted,
		updatedAt,
		base: check.baseEntry ? (copyJson(check.baseEntry) as CheckedKey['base']) : null,
		ignoredFields: [...ignoredFields],
		...(fields.keyFields ? { keyFields: [...fields.keyFields] } : {}),
		...(fields.versionField ? { versionField: fields.versionField } : {}),
		...(fields.tombstoneField ? { tombstoneField: fields.tombstoneField } : {}),
	};
}
