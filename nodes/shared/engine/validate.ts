import { baseEntryFor, type BaseEntry } from './base';
import {
	DELETED_FINGERPRINT,
	differingFields,
	fingerprint,
	ignoredSet,
	type RecordData,
} from './canonical';
import type {
	BaseUpdate,
	KeyDifference,
	KeyFinding,
	SyncCounts,
	SyncReport,
	SyncResult,
	WriteFailure,
} from './items';
import { isTombstone, recordKey } from './records';

/**
 * Validation: what Multi Target Sync did, whether the systems read back hold the resolution, and
 * (Every Record) whether they hold the same records. Pure: the node reads the systems.
 */

/** One synced key, gathered from its per-system results. */
export interface SyncedKey {
	key: string;
	keyFields: string[];
	tombstoneField?: string;
	/** The resolved record every system should hold; null for a delete. */
	expected: RecordData | null;
	expectedFingerprint: string;
	systems: string[];
	ignored: ReadonlySet<string>;
	/** Outcome per system. */
	outcomes: Record<string, string>;
	/** The input items of this key, for pairing. */
	items: number[];
}

/** Multi Target Sync's result items, counted. */
export interface SyncTally {
	keys: Map<string, SyncedKey>;
	sync: SyncCounts;
	failures: WriteFailure[];
	/** Writes refused because the system changed after the check. */
	requeued: KeyFinding[];
	/** Keys per resolution strategy ('unknown' where the result names none). */
	strategies: Record<string, number>;
	/** How each conflict was resolved, for the sync log: nothing is overwritten unrecorded. */
	resolutions: SyncReport['resolutions'];
	/** The first result: the sync's id, type, source, targets and phase figures. */
	first?: SyncResult;
}

function newKey(r: SyncResult): SyncedKey {
	return {
		key: r.key,
		expected: r.expected ?? null,
		expectedFingerprint: r.expectedFingerprint,
		keyFields: r.keyFields ?? ['id'],
		tombstoneField: r.tombstoneField ?? undefined,
		systems: r.systems ?? [],
		ignored: ignoredSet(r.ignoredFields ?? []),
		outcomes: {},
		items: [],
	};
}

function countOutcome(tally: SyncTally, r: SyncResult): void {
	const { sync } = tally;
	const outcome = String(r.outcome);
	if (outcome === 'written') sync.written++;
	else if (outcome === 'unchanged') sync.unchanged++;
	else if (outcome === 'skipped') sync.skipped++;
	// Plan-only writes, done by other nodes; a dry run's plan is not a write.
	else if (outcome === 'planned' && r.dryRun !== true) sync.planned++;
	else if (outcome === 'failed') {
		sync.failed++;
		tally.failures.push({ key: r.key, system: r.system, reason: String(r.reason ?? 'failed') });
	} else if (outcome === 'conflict') {
		sync.conflicts++;
		tally.requeued.push({ key: r.key, system: r.system });
	}
}

/** One entry per key from Multi Target Sync's per-system results (`item`: the input item index). */
export function tallySyncResults(results: Array<{ item: number; result: SyncResult }>): SyncTally {
	const tally: SyncTally = {
		keys: new Map(),
		sync: { written: 0, unchanged: 0, skipped: 0, failed: 0, conflicts: 0, planned: 0 },
		failures: [],
		requeued: [],
		strategies: {},
		resolutions: [],
		first: results[0]?.result,
	};
	for (const { item, result: r } of results) {
		let entry = tally.keys.get(r.key);
		if (!entry) {
			entry = newKey(r);
			tally.keys.set(r.key, entry);
			const strategy = String(r.strategy ?? 'unknown');
			// Every resolution that replaced a value: the conflicts, and the clean changes merged
			// field by field from several systems (their losing values are the replaced ones).
			if (r.audit && (strategy !== 'cleanChange' || r.audit.winner === 'merged'))
				tally.resolutions.push({ key: r.key, ...r.audit });
			tally.strategies[strategy] = (tally.strategies[strategy] ?? 0) + 1;
		}
		entry.items.push(item);
		entry.outcomes[r.system] = String(r.outcome);
		countOutcome(tally, r);
	}
	return tally;
}

/** The systems the synced keys were written to, in order of first mention. */
export function syncedSystems(keys: Iterable<SyncedKey>): string[] {
	return [...new Set([...keys].flatMap((k) => k.systems))];
}

/** Whether the systems read back hold the resolution, key by key. */
export interface ReadBackVerdict {
	/** Live records absent where the resolution has one. */
	missing: KeyFinding[];
	/** Live records where the resolution deleted the key. */
	extra: KeyFinding[];
	/** Records whose data differs from the resolution, with the fields. */
	differing: KeyFinding[];
	/** Keys every system holds exactly as resolved: they advance the base. */
	passed: SyncedKey[];
}

/** What one system holds of one key, against the resolution; undefined when it agrees. */
function findingOn(
	k: SyncedKey,
	system: string,
	record: RecordData | undefined,
): { kind: 'missing' | 'extra' | 'differing'; finding: KeyFinding } | undefined {
	const live = record !== undefined && !(k.tombstoneField && isTombstone(record[k.tombstoneField]));
	if (k.expectedFingerprint === DELETED_FINGERPRINT)
		return live ? { kind: 'extra', finding: { key: k.key, system } } : undefined;
	if (!live) return { kind: 'missing', finding: { key: k.key, system } };
	if (fingerprint(record, k.ignored) === k.expectedFingerprint) return undefined;
	const fields = differingFields(record, k.expected ?? {}, k.ignored);
	return { kind: 'differing', finding: { key: k.key, system, fields } };
}

/**
 * A key passes when every system holds exactly the resolved data (or, for a delete, nothing
 * live). `actual`: each system's records by key, as read back; a system not in it was not read,
 * so its keys do not pass (and are not findings: the report names the unread system).
 */
export function readBackVerdict(
	keys: Iterable<SyncedKey>,
	actual: ReadonlyMap<string, ReadonlyMap<string, RecordData>>,
): ReadBackVerdict {
	const verdict: ReadBackVerdict = { missing: [], extra: [], differing: [], passed: [] };
	for (const k of keys) {
		let ok = true;
		for (const system of k.systems) {
			const held = actual.get(system);
			const found = held ? findingOn(k, system, held.get(k.key)) : undefined;
			if (!held || found) ok = false;
			if (found) verdict[found.kind].push(found.finding);
		}
		if (ok) verdict.passed.push(k);
	}
	return verdict;
}

/** The base entries of the keys that validated: validation is the commit point of the sync. */
export function validatedEntries(passed: SyncedKey[], keepValues: boolean): Map<string, BaseEntry> {
	const validated = new Map<string, BaseEntry>();
	for (const k of passed)
		validated.set(k.key, baseEntryFor(k.expected, k.expectedFingerprint, k.ignored, keepValues));
	return validated;
}

/** The Base Updates items: one per validated key. */
export function baseUpdates(
	validated: ReadonlyMap<string, BaseEntry>,
	syncedAt: string,
	syncId: string | null,
): BaseUpdate[] {
	return [...validated].map(([key, entry]) => ({
		key,
		fingerprint: entry.fingerprint,
		...(entry.values ? { values: entry.values } : {}),
		syncedAt,
		syncId,
	}));
}

/** Every system's live records, by key (Every Record): absent and deleted count the same. */
export function liveRecordsByKey(
	records: ReadonlyMap<string, RecordData[]>,
	keyFields: string[],
	tombstoneField?: string,
): { byKey: Map<string, Map<string, RecordData>>; unkeyed: number } {
	const byKey = new Map<string, Map<string, RecordData>>();
	let unkeyed = 0;
	for (const [system, list] of records) {
		for (const record of list) {
			if (tombstoneField && isTombstone(record[tombstoneField])) continue;
			const key = recordKey(record, keyFields);
			if (typeof key !== 'string') {
				unkeyed++;
				continue;
			}
			let held = byKey.get(key);
			if (!held) byKey.set(key, (held = new Map()));
			held.set(system, record);
		}
	}
	return { byKey, unkeyed };
}

/** One key across the systems: live on every one, with the first system's fingerprint. */
function keyDifference(
	key: string,
	held: ReadonlyMap<string, RecordData>,
	systems: string[],
	ignored: ReadonlySet<string>,
): KeyDifference | undefined {
	const absent = systems.filter((s) => !held.has(s));
	if (absent.length) return { key, kind: 'missing', systems: absent };
	const [first, ...rest] = systems.map((s) => held.get(s)!);
	const want = fingerprint(first, ignored);
	const fields = new Set<string>();
	const differ: string[] = [];
	rest.forEach((record, i) => {
		if (fingerprint(record, ignored) === want) return;
		differ.push(systems[i + 1]);
		for (const f of differingFields(record, first, ignored)) fields.add(f);
	});
	return differ.length
		? { key, kind: 'differing', systems: differ, fields: [...fields].sort() }
		: undefined;
}

/** The keys not the same on every system, sorted by key. */
export function keyDifferences(
	byKey: ReadonlyMap<string, ReadonlyMap<string, RecordData>>,
	systems: string[],
	ignored: ReadonlySet<string>,
): KeyDifference[] {
	const differences: KeyDifference[] = [];
	for (const [key, held] of byKey) {
		const difference = keyDifference(key, held, systems, ignored);
		if (difference) differences.push(difference);
	}
	return differences.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
