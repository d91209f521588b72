import type { KeyCheck } from './check';
import type { CheckedKey } from './items';
import type { SyncRecord } from './records';
import { isoOrNull, readTimestamp } from './time';

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

/** The ISO text of a record's updated-at: its own text when that already is the canonical form. */
function updatedAtText(r: SyncRecord, field: string | undefined): string | null {
	if (r.updatedAt === undefined) return null;
	const raw = field === undefined ? undefined : r.data[field];
	// Only "YYYY-MM-DDTHH:MM:SS.sssZ" reads back to the very same instant in these 24 characters.
	if (
		typeof raw === 'string' &&
		raw.length === 24 &&
		raw.charCodeAt(10) === 84 &&
		raw.charCodeAt(23) === 90 &&
		readTimestamp(raw).ms === r.updatedAt
	)
		return raw;
	return isoOrNull(r.updatedAt);
}

/** The plain-JSON form of a classified key that ConflictCheck emits and ConflictResolve reads. */
export function toCheckedKey(
	check: KeyCheck,
	systems: string[],
	ignoredFields: readonly string[],
	/** How records are read, so later nodes need not repeat it. */
	fields: {
		keyFields?: string[];
		updatedAtField?: string;
		versionField?: string;
		tombstoneField?: string;
	} = {},
): CheckedKey {
	const records: CheckedKey['records'] = {};
	const updatedAt: CheckedKey['updatedAt'] = {};
	const deleted: CheckedKey['deleted'] = {};
	for (const s of systems) {
		const r = check.records[s];
		records[s] = r ? (copyJson(r.data) as CheckedKey['records'][string]) : null;
		updatedAt[s] = r ? updatedAtText(r, fields.updatedAtField) : null;
		deleted[s] = r?.deleted ?? false;
	}
	const changedFields: CheckedKey['changedFields'] = {};
	for (const f in check.changedFields) changedFields[f] = [...check.changedFields[f]];
	// What a person reads first comes first: the key, its verdict and why; the records after.
	// Built field by field in that order (optional fields only when set), no spread per key.
	const out = { key: check.key, kind: check.kind } as CheckedKey;
	if (check.conflictType) out.conflictType = check.conflictType;
	out.reason = check.reason;
	out.conflictFields = [...check.conflictFields];
	out.changedFields = changedFields;
	out.states = { ...check.states };
	if (check.proposedFrom) out.proposedFrom = check.proposedFrom;
	out.basis = check.basis;
	out.sourceSystem = systems[0];
	out.systems = systems;
	out.records = records;
	out.deleted = deleted;
	out.updatedAt = updatedAt;
	out.base = check.baseEntry ? (copyJson(check.baseEntry) as CheckedKey['base']) : null;
	out.ignoredFields = [...ignoredFields];
	if (fields.keyFields) out.keyFields = [...fields.keyFields];
	if (fields.versionField) out.versionField = fields.versionField;
	if (fields.tombstoneField) out.tombstoneField = fields.tombstoneField;
	return out;
}
