import type { KeyCheck } from './check';
import type { CheckedKey } from './resolve';
import { isoOrNull } from './time';

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
		records[s] = r ? (JSON.parse(JSON.stringify(r.data)) as CheckedKey['records'][string]) : null;
		updatedAt[s] = isoOrNull(r?.updatedAt);
		deleted[s] = r?.deleted ?? false;
	}
	return {
		key: check.key,
		kind: check.kind,
		basis: check.basis,
		...(check.conflictType ? { conflictType: check.conflictType } : {}),
		sourceSystem: systems[0],
		systems,
		states: { ...check.states },
		records,
		deleted,
		updatedAt,
		conflictFields: [...check.conflictFields],
		changedFields: Object.fromEntries(
			Object.entries(check.changedFields).map(([f, s]) => [f, [...s]]),
		),
		...(check.proposedFrom ? { proposedFrom: check.proposedFrom } : {}),
		reason: check.reason,
		base: check.baseEntry ? JSON.parse(JSON.stringify(check.baseEntry)) : null,
		ignoredFields: [...ignoredFields],
		...(fields.keyFields ? { keyFields: [...fields.keyFields] } : {}),
		...(fields.versionField ? { versionField: fields.versionField } : {}),
		...(fields.tombstoneField ? { tombstoneField: fields.tombstoneField } : {}),
	};
}
