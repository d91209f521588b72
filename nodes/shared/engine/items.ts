import type { Json, RecordData } from './canonical';
import type { Basis, ConflictType, KeyKind, SystemState } from './check';
import type { WriteOp } from './plan';
import type { Audit, Strategy } from './resolve';
import type { KeyRange } from './bisect';
import type { ChangeOp, SyncScope, SyncTrigger, SyncType } from './syncRequest';

/**
 * The items that travel from node to node, one type each, and one input check per type.
 *
 * A node builds its output items as these types and reads its input items through `itemProblem`
 * (nodes/shared/errors.ts `readItem` turns a problem into an error naming the item and the field).
 * Each type's `fields` table lists every field of the type: renaming a field in the type without
 * renaming it in the table, in the node that writes it and in the node that reads it, fails the
 * build.
 */

/** Conflict Check > Conflicts / Changes: one key, classified, with every system's record. */
export interface CheckedKey {
	key: string;
	kind: KeyKind;
	basis: Basis;
	conflictType?: ConflictType;
	sourceSystem: string;
	systems: string[];
	states: Record<string, SystemState>;
	/** null where the system has no record. */
	records: Record<string, RecordData | null>;
	/** Systems whose record is a tombstone, whatever state the check gave it. */
	deleted: Record<string, boolean>;
	/** ISO updated-at per system, null where unknown. */
	updatedAt: Record<string, string | null>;
	conflictFields: string[];
	changedFields: Record<string, string[]>;
	/**
	 * A clean change's proposal: the system every system should take the record from, or 'merged'
	 * (systems changed different fields: the field-wise merge over `base.values`).
	 */
	proposedFrom?: string;
	/** Why the key got its kind, in words. */
	reason: string;
	base: { fingerprint: string; values?: Record<string, Json> } | null;
	/** Fields not compared (key, updated-at, version, tombstone, ignores). */
	ignoredFields: string[];
	keyFields?: string[];
	/** The record field holding each system's version (If-Match on writes). */
	versionField?: string;
	tombstoneField?: string;
	/** Live records each system held among all keys checked (the mass-delete guard's measure). */
	heldAmongCheckedKeys?: Record<string, number>;
	syncId?: string;
}

/** Conflict Resolve > Resolved: the check plus the record every system should hold. */
export interface ResolvedKey extends CheckedKey {
	resolved: RecordData | null;
	resolvedDeleted: boolean;
	audit?: Audit;
}

export type SyncOutcome = 'written' | 'unchanged' | 'skipped' | 'failed' | 'conflict' | 'planned';

/** What Multi Target Sync did in one run, on every result item. */
export interface SyncPhase extends SyncCounts {
	action: 'write' | 'dryRun' | 'planOnly';
	durationMs: number;
	transport: Record<string, number>;
}

/** Multi Target Sync > Results (and Failed, for writes): one key on one system. */
export interface SyncResult {
	syncId: string | null;
	key: string;
	sourceSystem: string;
	syncType: string;
	targets: string[];
	systems: string[];
	strategy: string | null;
	audit: Audit | null;
	/** The resolved record every system should hold; null for a delete. */
	expected: RecordData | null;
	ignoredFields: string[];
	keyFields: string[] | null;
	tombstoneField: string | null;
	system: string;
	outcome: SyncOutcome;
	/** In words: created / updated / deleted, unchanged, would update ... */
	action: string | null;
	reason?: string;
	expectedFingerprint: string;
	op?: WriteOp;
	idempotencyKey?: string;
	status?: number | null;
	version?: string | number | null;
	attempts?: number;
	replayed?: boolean;
	dryRun?: boolean;
	/** Plan Only: the system the write is for, and the write itself. */
	target?: string;
	record?: RecordData;
	ifMatch?: string | number;
	ifNoneMatch?: boolean;
	syncPhase?: SyncPhase;
}

/**
 * Multi Target Sync > Conflicts: a key a target changed after the check (its write was refused),
 * back out as a conflict with what the check saw, for review or a re-run.
 */
export interface RequeuedConflict extends Omit<ResolvedKey, 'kind' | 'conflictType' | 'reason'> {
	kind: 'conflict';
	conflictType: 'concurrent_change';
	reason: string;
	/** The target that changed, and the version it holds now (null when it did not say). */
	system: string;
	currentVersion: string | number | null;
}

/** Conflict Check > Summary: one item per run. */
export interface CheckSummary {
	syncId: string;
	sourceSystem: string;
	systems: string[];
	keyFields: string[];
	scope: string;
	base: string;
	watermark: string | null;
	counts: Record<string, unknown>;
	heldAmongCheckedKeys: Record<string, number>;
	notChecked: {
		count: number | null;
		note?: string;
		bySystem?: Record<string, number>;
		/** A few of the keys not checked. */
		sample?: string[];
	};
	durationMs: number;
	transport?: Record<string, number>;
	staleSourceRecords?: { count: number; keys: string[] };
	notAtSource?: { count: number; keys: string[] };
	/** The key range checked (Read Records: Key Range): every system was read within it. */
	range?: KeyRange;
	checkedAt: string;
}

/** Sync Validate > Base Updates, and Conflict Check's Base input: one validated key. */
export interface BaseUpdate {
	key: string;
	fingerprint: string;
	values?: Record<string, Json>;
	syncedAt?: string;
	syncId?: string | null;
}

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'any';
/** A field's check: its kind; `?` = may be absent or null. */
type FieldCheck = Kind | `${Kind}?`;

export interface ItemType<T> {
	/** What the item is, for errors: "a Conflict Check result". */
	name: string;
	/** How to get such items, for errors. */
	connect: string;
	/** Every field of T, and how to check it. */
	fields: { [K in keyof Required<T>]: FieldCheck };
}

export interface ItemProblem {
	field: string;
	message: string;
}

function kindOf(value: unknown): Kind {
	if (Array.isArray(value)) return 'array';
	const t = typeof value;
	return t === 'string' || t === 'number' || t === 'boolean' || t === 'object' ? t : 'any';
}

interface CompiledField {
	field: string;
	kind: Kind;
	optional: boolean;
}
/** Each type's field checks, read once: every item of a run is checked against the same type. */
const compiled = new WeakMap<object, CompiledField[]>();

function compiledFields(fields: Record<string, FieldCheck>): CompiledField[] {
	let list = compiled.get(fields);
	if (!list) {
		list = Object.entries(fields).map(([field, check]) => {
			const optional = check.endsWith('?');
			return { field, optional, kind: (optional ? check.slice(0, -1) : check) as Kind };
		});
		compiled.set(fields, list);
	}
	return list;
}

/** The first field of this item that its type does not allow, or undefined when it is one. */
export function itemProblem<T>(
	type: ItemType<T>,
	json: Record<string, unknown>,
): ItemProblem | undefined {
	for (const { field, optional, kind } of compiledFields(type.fields)) {
		const value = json[field];
		if (value === undefined || value === null) {
			if (optional || (value === null && kind === 'any')) continue;
			if (value === undefined) return { field, message: `field "${field}" is missing` };
			return { field, message: `field "${field}" is null` };
		}
		if (kind !== 'any' && kindOf(value) !== kind)
			return {
				field,
				message: `field "${field}" must be ${kind === 'array' ? 'an' : 'a'} ${kind}`,
			};
	}
	return undefined;
}

const checkedKeyFields: ItemType<CheckedKey>['fields'] = {
	key: 'string',
	kind: 'string',
	basis: 'string?',
	conflictType: 'string?',
	sourceSystem: 'string',
	systems: 'array',
	states: 'object',
	records: 'object',
	deleted: 'object',
	updatedAt: 'object',
	conflictFields: 'array?',
	changedFields: 'object?',
	proposedFrom: 'string?',
	reason: 'string?',
	base: 'object?',
	ignoredFields: 'array',
	keyFields: 'array?',
	versionField: 'string?',
	tombstoneField: 'string?',
	heldAmongCheckedKeys: 'object?',
	syncId: 'string?',
};

export const CHECKED_KEY: ItemType<CheckedKey> = {
	name: 'Conflict Check result',
	connect: 'Connect the Conflicts or Changes output of a Conflict Check node.',
	fields: checkedKeyFields,
};

export const RESOLVED_KEY: ItemType<ResolvedKey> = {
	name: 'Conflict Resolve result',
	connect: 'Connect the Resolved output of a Conflict Resolve node.',
	fields: {
		...checkedKeyFields,
		// Written by Conflict Resolve; a hand-made item (plan-only tests, other tools) may carry
		// fewer of the check's fields, but never these.
		kind: 'string?',
		deleted: 'object?',
		updatedAt: 'object?',
		resolved: 'any',
		resolvedDeleted: 'boolean',
		audit: 'object?',
	},
};

export const SYNC_RESULT: ItemType<SyncResult> = {
	name: 'Multi Target Sync result',
	connect: 'Connect the Results output of Multi Target Sync.',
	fields: {
		syncId: 'string?',
		key: 'string',
		sourceSystem: 'string?',
		syncType: 'string?',
		targets: 'array?',
		systems: 'array?',
		strategy: 'string?',
		audit: 'object?',
		expected: 'object?',
		ignoredFields: 'array?',
		keyFields: 'array?',
		tombstoneField: 'string?',
		system: 'string',
		outcome: 'string',
		action: 'string?',
		reason: 'string?',
		expectedFingerprint: 'string',
		op: 'string?',
		idempotencyKey: 'string?',
		status: 'number?',
		version: 'any?',
		attempts: 'number?',
		replayed: 'boolean?',
		dryRun: 'boolean?',
		target: 'string?',
		record: 'object?',
		ifMatch: 'any?',
		ifNoneMatch: 'boolean?',
		syncPhase: 'object?',
	},
};

export const REQUEUED_CONFLICT: ItemType<RequeuedConflict> = {
	name: 'Multi Target Sync conflict',
	connect: 'Connect the Conflicts output of Multi Target Sync.',
	fields: {
		...RESOLVED_KEY.fields,
		kind: 'string',
		conflictType: 'string',
		reason: 'string',
		system: 'string',
		currentVersion: 'any?',
	},
};

export const CHECK_SUMMARY: ItemType<CheckSummary> = {
	name: 'Conflict Check summary',
	connect: 'Connect the Summary output of Conflict Check.',
	fields: {
		syncId: 'string',
		sourceSystem: 'string',
		systems: 'array',
		keyFields: 'array?',
		scope: 'string?',
		base: 'string?',
		watermark: 'string?',
		counts: 'object',
		heldAmongCheckedKeys: 'object?',
		notChecked: 'object?',
		durationMs: 'number?',
		transport: 'object?',
		staleSourceRecords: 'object?',
		notAtSource: 'object?',
		range: 'object?',
		checkedAt: 'string?',
	},
};

export const BASE_UPDATE: ItemType<BaseUpdate> = {
	name: 'base entry',
	connect:
		'Feed the Base Updates output of Sync Validate, or rows of the table they were stored in (key, fingerprint, values).',
	fields: {
		key: 'string',
		fingerprint: 'string',
		values: 'object?',
		syncedAt: 'string?',
		syncId: 'string?',
	},
};

/**
 * Sync Validate > Differing Key Ranges: one key range to reconcile in its own execution (a
 * partition of the sync), found by range checksums.
 */
export interface PartitionRange {
	/** The plan these ranges belong to: the input's sync id when it has one, else a new id. */
	planId: string;
	/** First key (inclusive); null = from the first key. */
	from: string | null;
	/** The key the range ends before (exclusive); null = to the last key. */
	to: string | null;
	/** Live records each system holds in the range (none above the plan's maxKeys). */
	counts: Record<string, number>;
	/** This range's place in the plan, from 0, in key order; `total` ranges in all. */
	index: number;
	total: number;
	systems: string[];
	/** Max Keys per Range the plan was made with. */
	maxKeys: number;
	/** How the plan was found: checksum levels and requests, live records per system, duration. */
	planStats: Record<string, unknown>;
	plannedAt: string;
}

export const PARTITION_RANGE: ItemType<PartitionRange> = {
	name: 'key range to reconcile',
	connect: 'Connect the output of Sync Validate with Validate set to Differing Key Ranges.',
	fields: {
		planId: 'string',
		from: 'string?',
		to: 'string?',
		counts: 'object',
		index: 'number',
		total: 'number',
		systems: 'array',
		maxKeys: 'number?',
		planStats: 'object?',
		plannedAt: 'string?',
	},
};

/** A key on one system that did not validate, or whose write came back as a conflict. */
export interface KeyFinding {
	key: string;
	system: string;
	/** Differing only: the fields that differ from the resolution. */
	fields?: string[];
}

/** A write that failed after its retries. */
export interface WriteFailure {
	key: string;
	system: string;
	reason: string;
}

/** Multi Target Sync's outcomes, counted over its result items. */
export interface SyncCounts {
	written: number;
	unchanged: number;
	skipped: number;
	failed: number;
	conflicts: number;
	planned: number;
}

export type SyncStatus = 'passed' | 'failed' | 'nothing_to_sync';

/** Sync Validate > Report (The Keys This Sync Wrote): one item per run. */
export interface SyncReport {
	syncId: string | null;
	syncType: string | null;
	sourceSystem: string | null;
	targetSystems: string[];
	systems: string[];
	status: SyncStatus;
	reasons: string[];
	insights: string[];
	counts: {
		check: Record<string, unknown>;
		resolve: { conflictsResolved: number; byStrategy: Record<string, number> };
		sync: SyncCounts;
		validate: {
			keys: number;
			passed: number;
			failed: number;
			missing: number;
			extra: number;
			differing: number;
		};
	};
	durations: { checkMs: number | null; syncMs: number | null; validateMs: number };
	transport: { sync: Record<string, number> | null; validate: Record<string, number> };
	missing: KeyFinding[];
	extra: KeyFinding[];
	differing: KeyFinding[];
	failures: WriteFailure[];
	conflictsRequeued: KeyFinding[];
	/** Every conflict's audit, uncapped. */
	resolutions: Array<{ key: string } & Partial<Audit>>;
	/** Where the base went, in words. */
	base: string;
	validatedAt: string;
}

/** The flat fields the Day 66 workflow's log and report read (workflows/day66-data-sync.json). */
export interface Day66LogFields {
	sync_id: string | null;
	sync_type: string | null;
	source_system: string | null;
	target_systems: string[];
	records_processed: number;
	conflicts_detected: number;
	conflicts_resolved: number;
	records_written: number;
	failed_writes: number;
	validation_status: SyncStatus;
	timestamp: string;
}

/** A key that is not the same on every system (Validate > Every Record on Every System). */
export interface KeyDifference {
	key: string;
	kind: 'missing' | 'differing';
	/** missing: the systems without a live record; differing: those that differ from the first. */
	systems: string[];
	fields?: string[];
}

/** Sync Validate > Report (Every Record on Every System): one item per run. */
export interface AllRecordsReport {
	validation: 'allRecords';
	method: 'rangeChecksums' | 'fullRead';
	methodNote?: string;
	systems: string[];
	status: 'passed' | 'failed';
	reasons: string[];
	counts: {
		recordsPerSystem: Record<string, number>;
		/** Keys read record by record (the rest were proved equal by checksums). */
		keysRead: number;
		differences: number;
		missing: number;
		differing: number;
	};
	transfer: {
		levels?: number;
		checksumRequests?: number;
		rangesCompared?: number;
		rangesRead?: number;
		bytesReceived?: number;
		recordsRead: number;
		requests: number;
		retries: number;
	};
	differences: KeyDifference[];
	differingKeys: string[];
	durations: { validateMs: number };
	validatedAt: string;
	/** Day 66 log fields. */
	validation_status: 'passed' | 'failed';
	records_processed: number;
	timestamp: string;
}

/** One change a system reports: a key it wrote or deleted, and who wrote it. */
export interface ChangeEntry {
	/** The change's place in the system's change feed; null when the system did not say. */
	seq: number | null;
	key: string;
	op: ChangeOp;
	/** The writer: a sync id for a sync's own write (an echo), null for a person's edit. */
	origin: string | null;
	at: string | null;
}

/**
 * Data Sync Trigger and Data Sync Poll Trigger: one sync to run, checked, with every default
 * applied. Carries nothing of the request's headers.
 */
export interface SyncRequest {
	syncId: string;
	syncType: SyncType;
	sourceSystem: string;
	targetSystems: string[];
	strategy: Strategy;
	scope: SyncScope;
	/** The keys to sync: those of the records sent, or those a change event named. */
	keys: string[];
	/** The source system's records as sent; null when a change named keys without records. */
	records: RecordData[] | null;
	/** What started the sync: a sync request, a pushed change event, or the polled change feed. */
	trigger: SyncTrigger;
	/** The changes that started it (echoes of a sync's own writes left out); null for a request. */
	changes: ChangeEntry[] | null;
	/** Changes left out because a sync wrote them (their origin is a sync id). */
	echoesDropped: number;
	/**
	 * A partition of a larger sync: the keys from `from` (inclusive) to `to` (exclusive; null =
	 * open), read from every system by range. Null for records sent or keys named.
	 */
	range: KeyRange | null;
	receivedAt: string;
}

export const SYNC_REQUEST: ItemType<SyncRequest> = {
	name: 'sync request',
	connect: 'Start the workflow with the Data Sync Trigger or the Data Sync Poll Trigger.',
	fields: {
		syncId: 'string',
		syncType: 'string',
		sourceSystem: 'string',
		targetSystems: 'array',
		strategy: 'string',
		scope: 'string',
		keys: 'array',
		records: 'array?',
		trigger: 'string',
		changes: 'array?',
		echoesDropped: 'number',
		range: 'object?',
		receivedAt: 'string',
	},
};
