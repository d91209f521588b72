import type { Base, BaseEntry } from './base';
import { canonicalJson, DELETED_FINGERPRINT } from './canonical';
import type { IndexedSystem, SyncRecord } from './records';

export type SystemState = 'unchanged' | 'changed' | 'created' | 'deleted' | 'missing';
export type KeyKind = 'conflict' | 'change' | 'in_sync';
/** What the classification stood on: the base entry, the watermark, or nothing. */
export type Basis = 'base' | 'watermark' | 'none';
export type ConflictType = 'update_update' | 'update_delete' | 'create_create' | 'divergent';

export interface KeyCheck {
	key: string;
	kind: KeyKind;
	basis: Basis;
	conflictType?: ConflictType;
	states: Record<string, SystemState>;
	records: Record<string, SyncRecord | undefined>;
	/** Fields two or more systems changed to different values. */
	conflictFields: string[];
	/** Each field that differs, with the systems that changed it. */
	changedFields: Record<string, string[]>;
	/**
	 * For a clean change: the system whose state every system should take, or MERGED when systems
	 * changed different fields and every system should take the field-wise merge.
	 */
	proposedFrom?: string;
	reason: string;
	baseEntry?: BaseEntry;
}

export interface CheckOptions {
	/** Source first, then every other system. */
	systems: IndexedSystem[];
	base?: Base;
	/** Epoch ms of the last sync; the base's own watermark is used when this is absent. */
	watermark?: number;
	/** 'source': only keys in the source's records; 'all': every key any system holds. */
	scope: 'source' | 'all';
	ignored: ReadonlySet<string>;
	/** With a base, a key absent from a system that the base knows counts as deleted there. */
	missingMeansDeleted?: boolean;
	/**
	 * Keep the checks of in-sync keys in `keys` (default true). False: an in-sync key the base
	 * already holds as it is is counted only (no check object is made for it); one the base lacks
	 * is kept, since a validated sync still has to commit it (see baseIsStale).
	 */
	keepInSync?: boolean;
}

export interface CheckCounts {
	keys: number;
	conflicts: number;
	changes: number;
	inSync: number;
	basis: Record<Basis, number>;
	conflictTypes: Partial<Record<ConflictType, number>>;
	states: Record<string, Record<SystemState, number>>;
}

/** Keys other systems hold that the source did not send: left alone under scope 'source'. */
export interface NotChecked {
	count: number;
	bySystem: Record<string, number>;
	/** The first few, in the order the systems hold them. */
	sample: string[];
}

export interface CheckResult {
	keys: KeyCheck[];
	counts: CheckCounts;
	notChecked: NotChecked;
}

const NOT_CHECKED_SAMPLE = 20;

/** proposedFrom of a clean change that no one system holds: the field-wise merge over the base. */
export const MERGED = 'merged';

/** Why a record is decided as a whole, where field-level merge would need what is not there. */
export const NO_BASE_VALUES =
	'no base values: field-level merge needs the values of the last validated sync';

/** One pass over the other systems' keys, looked up in the source's index. */
function keysNotChecked(systems: IndexedSystem[]): NotChecked {
	const [source, ...others] = systems;
	const seen = new Set<string>();
	const result: NotChecked = { count: 0, bySystem: {}, sample: [] };
	for (const s of others) {
		let n = 0;
		for (const key of s.order) {
			if (source.records.has(key)) continue;
			n++;
			if (seen.has(key)) continue;
			seen.add(key);
			if (result.sample.length < NOT_CHECKED_SAMPLE) result.sample.push(key);
		}
		result.bySystem[s.name] = n;
	}
	result.count = seen.size;
	return result;
}

const CHANGE_STATES: ReadonlySet<SystemState> = new Set(['changed', 'created', 'deleted']);

function stateOf(
	record: SyncRecord | undefined,
	entry: BaseEntry | undefined,
	watermark: number | undefined,
	missingMeansDeleted: boolean,
): SystemState {
	if (entry) {
		if (!record)
			return missingMeansDeleted && entry.fingerprint !== DELETED_FINGERPRINT
				? 'deleted'
				: 'missing';
		if (record.deleted) return entry.fingerprint === DELETED_FINGERPRINT ? 'unchanged' : 'deleted';
		if (record.fingerprint === entry.fingerprint) return 'unchanged';
		return entry.fingerprint === DELETED_FINGERPRINT ? 'created' : 'changed';
	}
	if (!record) return 'missing';
	// Without a base entry, a record last touched before the last sync did not change since.
	if (watermark !== undefined && record.updatedAt !== undefined && record.updatedAt <= watermark) {
		return 'unchanged';
	}
	return record.deleted ? 'deleted' : 'created';
}

/** What a system holds for the key: a fingerprint, DELETED, or undefined when it has nothing. */
function heldFingerprint(record: SyncRecord | undefined, state: SystemState): string | undefined {
	if (record) return record.fingerprint;
	return state === 'deleted' ? DELETED_FINGERPRINT : undefined;
}

/** Whether these systems' records hold the very same value in a field (so the same data). */
function identical(check: KeyCheck, names: string[], field: string): boolean {
	const first = check.records[names[0]]!.data[field];
	for (let i = 1; i < names.length; i++)
		if (check.records[names[i]]!.data[field] !== first) return false;
	return true;
}

function fieldDiff(
	check: KeyCheck,
	systems: IndexedSystem[],
	ignored: ReadonlySet<string>,
	candidates: string[],
): void {
	const values = check.baseEntry?.values;
	const live = systems
		.filter((s) => check.records[s.name] && !check.records[s.name]!.deleted)
		.map((s) => s.name);
	const fieldsOf = (names: string[], extra?: Record<string, unknown>) => {
		const fields = new Set<string>(extra ? Object.keys(extra) : []);
		for (const n of names)
			for (const f of Object.keys(check.records[n]!.data)) if (!ignored.has(f)) fields.add(f);
		return [...fields].sort();
	};
	if (values && check.basis === 'base') {
		const changers = candidates.filter((n) => live.includes(n));
		for (const field of fieldsOf(changers, values)) {
			let base: string | undefined;
			const byValue = new Map<string, string[]>();
			for (const n of changers) {
				const raw = check.records[n]!.data[field];
				// The very same value is the same data: no canonical text needed.
				if (raw === values[field]) continue;
				base ??= canonicalJson(values[field]);
				const v = canonicalJson(raw);
				if (v === base) continue;
				byValue.set(v, [...(byValue.get(v) ?? []), n]);
			}
			if (byValue.size === 0) continue;
			check.changedFields[field] = [...byValue.values()].flat();
			if (byValue.size > 1) check.conflictFields.push(field);
		}
		return;
	}
	// No base values: a field differs when live records disagree on it. Who changed it is known
	// only from the candidates (systems changed since the watermark, or all of them without one).
	for (const field of fieldsOf(live)) {
		if (identical(check, live, field)) continue;
		const byValue = new Map<string, string[]>();
		for (const n of live) {
			const v = canonicalJson(check.records[n]!.data[field]);
			byValue.set(v, [...(byValue.get(v) ?? []), n]);
		}
		if (byValue.size < 2) continue;
		const changers = candidates.filter((n) => live.includes(n));
		check.changedFields[field] = changers.length ? changers : live;
		const candidateValues = new Set(
			changers.map((n) => canonicalJson(check.records[n]!.data[field])),
		);
		if (check.kind === 'conflict' && (candidateValues.size > 1 || changers.length === 0)) {
			check.conflictFields.push(field);
		}
	}
}

/**
 * Two or more systems changed the key, and the base holds its values: when no field was changed
 * to different values, the edits merge field by field into a clean change (no edit is lost).
 * True when it made the key that clean change.
 */
function mergeDisjointEdits(check: KeyCheck, candidates: string[]): boolean {
	if (check.conflictFields.length > 0) return false;
	const changes = Object.values(check.changedFields);
	// A system that made every change (the others made some of them too) holds the merge already.
	const holder = candidates.find((n) => changes.every((s) => s.includes(n)));
	check.kind = 'change';
	check.proposedFrom = holder ?? MERGED;
	const who = candidates.join(', ');
	check.reason = holder
		? `${who} changed it since the last validated sync, never one field to different values: ${holder} holds every change`
		: `${who} changed different fields since the last validated sync (${Object.entries(
				check.changedFields,
			)
				.map(([f, s]) => `${f}: ${s.join(', ')}`)
				.join('; ')}): merged field by field`;
	return true;
}

/** Why a key is a conflict; without base values, why it is decided as a whole. */
function conflictReason(check: KeyCheck, candidates: string[]): string {
	const who = candidates.join(', ');
	if (check.basis === 'none')
		return `no base and no watermark (no earlier validated sync to compare with): ${who} hold different data and nothing tells which changed, so each counts as created and every difference is a conflict`;
	const entry = check.baseEntry;
	const since =
		check.basis === 'base' && entry
			? 'last validated sync'
			: check.basis === 'watermark'
				? 'watermark'
				: 'base';
	const reason = `${who} changed it to different values since the ${since}`;
	if (entry && !entry.values && check.conflictType === 'update_update')
		return `${reason}; ${NO_BASE_VALUES}, so the record is decided as a whole`;
	return reason;
}

/** Why a key is a clean change, in words a learner reads right, with or without a base. */
function changeReason(check: KeyCheck, candidates: string[], systems: IndexedSystem[]): string {
	const who = candidates.join(', ');
	if (check.basis === 'none') {
		const without = systems.map((s) => s.name).filter((n) => check.states[n] === 'missing');
		return `no base and no watermark (no earlier validated sync to compare with): only ${who} ${candidates.length === 1 ? 'holds' : 'hold'} it, so it counts as created there and goes to ${without.join(', ')}`;
	}
	const states = new Set(candidates.map((n) => check.states[n]));
	const verb = states.size === 1 ? [...states][0] : 'changed';
	const since = check.basis === 'watermark' ? 'the watermark' : 'the last validated sync';
	return `only ${who} ${verb} it since ${since}`;
}

/** Whether every system holds this fingerprint (a deleted one: a tombstone or nothing). */
function holdsEverywhere(held: Array<string | undefined>, fp: string): boolean {
	for (const h of held)
		if (!(h === fp || (fp === DELETED_FINGERPRINT && h === undefined))) return false;
	return true;
}

function classify(
	key: string,
	entry: BaseEntry | undefined,
	systems: IndexedSystem[],
	base: Base | undefined,
	watermark: number | undefined,
	options: CheckOptions,
): KeyCheck {
	const basis: Basis = entry
		? 'base'
		: watermark !== undefined
			? 'watermark'
			: base
				? 'base'
				: 'none';
	const check: KeyCheck = {
		key,
		kind: 'in_sync',
		basis,
		states: {},
		records: {},
		conflictFields: [],
		changedFields: {},
		reason: '',
		baseEntry: entry,
	};
	const candidates: string[] = [];
	// The distinct fingerprints the changed systems hold (a few at most: an array beats a Set).
	const candidateFps: string[] = [];
	// What each system holds (by position in `systems`): a fingerprint, DELETED or undefined.
	const held: Array<string | undefined> = new Array(systems.length);
	for (let i = 0; i < systems.length; i++) {
		const system = systems[i];
		const record = system.records.get(key);
		const state = stateOf(record, entry, watermark, options.missingMeansDeleted ?? false);
		check.states[system.name] = state;
		check.records[system.name] = record;
		const fp = heldFingerprint(record, state);
		held[i] = fp;
		if (CHANGE_STATES.has(state)) {
			candidates.push(system.name);
			if (!candidateFps.includes(fp!)) candidateFps.push(fp!);
		}
	}
	const source = systems[0].name;

	// With the base's values, who changed which field is known: edits to different fields merge.
	const mergeable =
		basis === 'base' && entry?.values !== undefined && !candidateFps.includes(DELETED_FINGERPRINT);
	const compareFieldsFirst = candidateFps.length >= 2 && mergeable;
	if (compareFieldsFirst) {
		fieldDiff(check, systems, options.ignored, candidates);
		if (mergeDisjointEdits(check, candidates)) return check;
	}
	if (candidateFps.length >= 2) {
		check.kind = 'conflict';
		const states = candidates.map((n) => check.states[n]);
		check.conflictType = candidateFps.includes(DELETED_FINGERPRINT)
			? 'update_delete'
			: states.every((s) => s === 'created')
				? 'create_create'
				: 'update_update';
		check.reason = conflictReason(check, candidates);
	} else if (candidateFps.length === 1) {
		const [fp] = candidateFps;
		check.proposedFrom = candidates.includes(source) ? source : candidates[0];
		if (holdsEverywhere(held, fp)) {
			check.reason = 'every system already holds the same data';
		} else {
			check.kind = 'change';
			check.reason = changeReason(check, candidates, systems);
		}
	} else {
		const holders = held.flatMap((fp, i) =>
			fp === undefined ? [] : [[systems[i].name, fp] as const],
		);
		const distinct = new Set(holders.map(([, fp]) => fp));
		if (distinct.size >= 2) {
			check.kind = 'conflict';
			check.conflictType = 'divergent';
			check.reason = 'systems hold different data, yet none changed it since the watermark';
		} else if (distinct.size === 1 && !holdsEverywhere(held, [...distinct][0]!)) {
			check.kind = 'change';
			check.proposedFrom = held[0] !== undefined ? source : holders[0][0];
			check.reason = 'unchanged where it exists, missing elsewhere';
		} else {
			check.reason = 'every system already holds the same data';
		}
	}
	if (check.kind !== 'in_sync' && !compareFieldsFirst)
		fieldDiff(check, systems, options.ignored, candidates);
	return check;
}

/** Whether the base lacks the state every system now agrees on (an in-sync key's). */
export function baseIsStale(check: KeyCheck): boolean {
	const held = Object.values(check.records).find((r) => r !== undefined);
	const agreed = held ? held.fingerprint : DELETED_FINGERPRINT;
	return check.baseEntry?.fingerprint !== agreed;
}

/**
 * The common case, told without a check object: every system holds a live record with the
 * base's fingerprint (unchanged everywhere, and the base already holds it).
 */
function unchangedEverywhere(key: string, entry: BaseEntry, systems: IndexedSystem[]): boolean {
	if (entry.fingerprint === DELETED_FINGERPRINT) return false;
	for (let i = 0; i < systems.length; i++) {
		const record = systems[i].records.get(key);
		if (record === undefined || record.deleted || record.fingerprint !== entry.fingerprint)
			return false;
	}
	return true;
}

function emptyCounts(systems: IndexedSystem[]): CheckCounts {
	return {
		keys: 0,
		conflicts: 0,
		changes: 0,
		inSync: 0,
		basis: { base: 0, watermark: 0, none: 0 },
		conflictTypes: {},
		states: Object.fromEntries(
			systems.map((s) => [
				s.name,
				{ unchanged: 0, changed: 0, created: 0, deleted: 0, missing: 0 },
			]),
		),
	};
}

function countCheck(counts: CheckCounts, check: KeyCheck, systems: IndexedSystem[]): void {
	counts.keys++;
	counts.basis[check.basis]++;
	if (check.kind === 'conflict') {
		counts.conflicts++;
		counts.conflictTypes[check.conflictType!] =
			(counts.conflictTypes[check.conflictType!] ?? 0) + 1;
	} else if (check.kind === 'change') counts.changes++;
	else counts.inSync++;
	for (const s of systems) counts.states[s.name][check.states[s.name]]++;
}

/** Counts the keys unchangedEverywhere found, as countCheck would their checks. */
function countUnchanged(counts: CheckCounts, systems: IndexedSystem[], n: number): void {
	counts.keys += n;
	counts.basis.base += n;
	counts.inSync += n;
	for (const s of systems) counts.states[s.name].unchanged += n;
}

/**
 * Classifies every key across systems in one pass over hash indexes: each system's records are
 * looked up by key, never scanned per key.
 */
export function checkConflicts(options: CheckOptions): CheckResult {
	const { systems, scope } = options;
	const base =
		options.base && (options.base.entries.size > 0 || options.base.watermark !== undefined)
			? options.base
			: undefined;
	const watermark = options.watermark ?? base?.watermark;
	let keys: Iterable<string> = systems[0].order;
	if (scope === 'all') {
		const all = new Set<string>();
		for (const s of systems) for (const k of s.order) all.add(k);
		keys = all;
	}
	const counts = emptyCounts(systems);
	const result: KeyCheck[] = [];
	const keepInSync = options.keepInSync !== false;
	// How many of the checked keys each system holds a record for: when that is all it holds,
	// no key went unchecked and the other systems need not be scanned again.
	const held: number[] = systems.map(() => 0);
	let unchanged = 0;
	for (const key of keys) {
		const entry = base?.entries.get(key);
		if (!keepInSync && entry && unchangedEverywhere(key, entry, systems)) {
			unchanged++;
			continue;
		}
		const check = classify(key, entry, systems, base, watermark, options);
		if (check.kind !== 'in_sync' || keepInSync || baseIsStale(check)) result.push(check);
		countCheck(counts, check, systems);
		for (let i = 0; i < held.length; i++) if (check.records[systems[i].name]) held[i]++;
	}
	// Every system holds each of those keys: counted once, after the loop.
	countUnchanged(counts, systems, unchanged);
	for (let i = 0; i < held.length; i++) held[i] += unchanged;
	const allChecked = systems.every((s, i) => s.records.size === held[i]);
	const notChecked: NotChecked =
		scope === 'source' && !allChecked
			? keysNotChecked(systems)
			: {
					count: 0,
					bySystem: Object.fromEntries(systems.slice(1).map((s) => [s.name, 0])),
					sample: [],
				};
	return { keys: result, counts, notChecked };
}
