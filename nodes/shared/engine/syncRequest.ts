import { assertReadable, isObject, type RecordData } from './canonical';
import type { KeyRange } from './bisect';
import type { ChangeEntry, SyncRequest } from './items';
import { recordKey } from './records';
import { STRATEGIES, type Strategy } from './resolve';

/**
 * What the Data Sync Trigger accepts, as pure functions: a sync request (records from a client)
 * or a change event (a system saying which keys changed, and who wrote them), each checked with
 * every reason it fails, turned into one typed SyncRequest with the trigger's defaults applied.
 * Changes written by a sync (their origin is a sync id) are echoes: dropped and counted.
 */

export const SYNC_TYPES = ['bidirectional', 'one_way', 'real_time'] as const;
export type SyncType = (typeof SYNC_TYPES)[number];
export const SYNC_SCOPES = ['source', 'all'] as const;
export type SyncScope = (typeof SYNC_SCOPES)[number];
export const CHANGE_OPS = ['upsert', 'delete'] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];
export type SyncTrigger = 'request' | 'changeEvent' | 'changeFeed';

/** Problems listed one by one per list (records, changes); past this they are counted. */
export const MAX_LISTED_PROBLEMS = 20;
export const DEFAULT_MAX_RECORDS = 10000;

/** The trigger's parameters: the defaults a request may leave out, and how records are keyed. */
export interface TriggerSettings {
	sourceSystem: string;
	targetSystems: string[];
	syncType: SyncType;
	strategy: Strategy;
	scope: SyncScope;
	keyFields: string[];
	/** Most records (or changes) one request may carry. */
	maxRecords: number;
}

/** What the trigger stamps on a request it accepts. */
export interface Stamp {
	syncId: string;
	receivedAt: string;
}

export type InboundVerdict =
	| { kind: 'sync'; request: SyncRequest }
	/** Every change was a sync's own write: nothing to sync. */
	| { kind: 'echoes'; system: string; echoesDropped: number }
	| { kind: 'invalid'; reasons: string[] };

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Whether a change's origin is a sync id (a UUIDv7, engine/syncId.ts): the sync wrote it. */
export function isSyncId(origin: unknown): boolean {
	return typeof origin === 'string' && UUID_V7.test(origin);
}

/** Every system the trigger syncs: the default source, then the default targets. */
export function triggerSystems(settings: TriggerSettings): string[] {
	return [...new Set([settings.sourceSystem, ...settings.targetSystems].filter((s) => s !== ''))];
}

/** A value as a reason shows it: JSON, cut short. */
function shown(value: unknown): string {
	const text = JSON.stringify(value) ?? String(value);
	return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Collects problems of one list, listing the first few and counting the rest. */
class Problems {
	private listed: string[] = [];
	private more = 0;

	constructor(private readonly what: string) {}

	add(problem: string): void {
		if (this.listed.length < MAX_LISTED_PROBLEMS) this.listed.push(problem);
		else this.more++;
	}

	get count(): number {
		return this.listed.length + this.more;
	}

	into(reasons: string[]): void {
		reasons.push(...this.listed);
		if (this.more > 0) reasons.push(`... and ${this.more} more ${this.what} with problems`);
	}
}

function oneOf<T extends string>(
	body: Record<string, unknown>,
	field: string,
	allowed: readonly T[],
	fallback: T,
	reasons: string[],
): T {
	const value = body[field];
	if (value === undefined || value === null) return fallback;
	if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
		return value as T;
	reasons.push(`${field} must be one of ${allowed.join(', ')}, not ${shown(value)}`);
	return fallback;
}

/** A record with its key. */
export interface KeyedRecord {
	key: string;
	record: RecordData;
}

/** An object, safe to rebuild (not too deep, no prototype field names), with its key. */
function checkRecord(record: unknown, at: string, keyFields: string[]): KeyedRecord | string {
	if (!isObject(record)) return `${at} must be an object (a record), not ${shown(record)}`;
	try {
		assertReadable(record);
	} catch (error) {
		return `${at} is ${(error as Error).message}`;
	}
	const key = recordKey(record, keyFields);
	if (typeof key !== 'string')
		return `${at} has no key: "${key.missing}" is missing, empty, or not a string or number`;
	return { key, record };
}

/** Each record checked, no key twice; `allowedKeys`: the keys a record may have. */
function checkRecords(
	field: string,
	list: unknown[],
	keyFields: string[],
	problems: Problems,
	allowedKeys?: ReadonlySet<string>,
): KeyedRecord[] {
	const out: KeyedRecord[] = [];
	const firstAt = new Map<string, number>();
	list.forEach((record, i) => {
		const at = `${field}[${i}]`;
		const checked = checkRecord(record, at, keyFields);
		if (typeof checked === 'string') return problems.add(checked);
		const earlier = firstAt.get(checked.key);
		if (earlier !== undefined)
			return problems.add(`${at} repeats the key ${shown(checked.key)} of ${field}[${earlier}]`);
		if (allowedKeys && !allowedKeys.has(checked.key))
			return problems.add(`${at} has the key ${shown(checked.key)}, which no change names`);
		firstAt.set(checked.key, i);
		out.push(checked);
	});
	return out;
}

function checkList(
	body: Record<string, unknown>,
	field: string,
	what: string,
	maxRecords: number,
	reasons: string[],
): unknown[] | undefined {
	const list = body[field];
	if (list === undefined || list === null) {
		reasons.push(`${field} is missing: send a non-empty array of ${what}`);
		return undefined;
	}
	if (!Array.isArray(list)) {
		reasons.push(`${field} must be an array of ${what}, not ${shown(list)}`);
		return undefined;
	}
	if (list.length === 0) {
		reasons.push(`${field} is empty: send at least one of the ${what}`);
		return undefined;
	}
	if (list.length > maxRecords) {
		reasons.push(`${field} holds ${list.length} ${what}, over the limit of ${maxRecords}`);
		return undefined;
	}
	return list;
}

function systemName(
	body: Record<string, unknown>,
	field: string,
	reasons: string[],
): string | undefined {
	const value = body[field];
	if (value === undefined || value === null) return undefined;
	if (typeof value === 'string' && value.trim() !== '') return value.trim();
	reasons.push(`${field} must be a system name (a non-empty string), not ${shown(value)}`);
	return undefined;
}

function targetSystems(
	body: Record<string, unknown>,
	source: string,
	fallback: string[],
	reasons: string[],
): string[] {
	const value = body.target_systems;
	if (value === undefined || value === null) {
		if (fallback.length === 0)
			reasons.push('target_systems is missing, and the trigger has no default Target Systems');
		return fallback.filter((t) => t !== source);
	}
	if (!Array.isArray(value) || value.length === 0) {
		reasons.push(`target_systems must be a non-empty array of system names, not ${shown(value)}`);
		return [];
	}
	const targets: string[] = [];
	value.forEach((name, i) => {
		if (typeof name !== 'string' || name.trim() === '')
			reasons.push(`target_systems[${i}] must be a system name, not ${shown(name)}`);
		else if (name.trim() === source)
			reasons.push(`target_systems[${i}] is the source system ${shown(source)}`);
		else if (targets.includes(name.trim()))
			reasons.push(`target_systems[${i}] repeats ${shown(name.trim())}`);
		else targets.push(name.trim());
	});
	return targets;
}

/** One end of `key_range`: a key, or null (or absent) for an open end. */
function rangeEnd(value: unknown, field: string, reasons: string[]): string | null {
	if (value === undefined || value === null) return null;
	if (typeof value === 'string' && value !== '') return value;
	reasons.push(`${field} must be a key (a non-empty string) or null, not ${shown(value)}`);
	return null;
}

/** `key_range: {from, to}`: the keys from `from` (inclusive) to `to` (exclusive), null = open. */
function readKeyRange(value: unknown, reasons: string[]): KeyRange | undefined {
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		reasons.push(`key_range must be an object {from, to}, not ${shown(value)}`);
		return undefined;
	}
	const { from: f, to: t } = value as Record<string, unknown>;
	const range = {
		from: rangeEnd(f, 'key_range.from', reasons),
		to: rangeEnd(t, 'key_range.to', reasons),
	};
	if (range.from !== null && range.to !== null && range.from >= range.to)
		reasons.push(
			`key_range.from (${shown(range.from)}) must sort before key_range.to (${shown(range.to)})`,
		);
	return range;
}

/** The records of a request, or its key range (a partition: the records are read by range). */
function recordsOrRange(
	body: Record<string, unknown>,
	settings: TriggerSettings,
	reasons: string[],
): { checked: KeyedRecord[]; range: KeyRange | null } {
	if (body.key_range !== undefined) {
		if (body.sync_data !== undefined)
			reasons.push('send sync_data or key_range, not both: a key range is read from the systems');
		return { checked: [], range: readKeyRange(body.key_range, reasons) ?? null };
	}
	const list = checkList(body, 'sync_data', 'records', settings.maxRecords, reasons);
	const problems = new Problems('records');
	const checked = list ? checkRecords('sync_data', list, settings.keyFields, problems) : [];
	problems.into(reasons);
	return { checked, range: null };
}

/**
 * A sync request: `{sync_data, source_system?, target_systems?, sync_type?, strategy?, scope?}`
 * (the Day 66 payload), or, for one partition of a larger sync, `key_range: {from, to}` in place
 * of `sync_data`. Every field the request leaves out takes the trigger's default.
 */
export function readSyncRequest(
	body: Record<string, unknown>,
	settings: TriggerSettings,
	stamp: Stamp,
): InboundVerdict {
	const reasons: string[] = [];
	const { checked, range } = recordsOrRange(body, settings, reasons);
	const syncType = oneOf(body, 'sync_type', SYNC_TYPES, settings.syncType, reasons);
	const strategy = oneOf(body, 'strategy', STRATEGIES, settings.strategy, reasons);
	const scope = oneOf(body, 'scope', SYNC_SCOPES, settings.scope, reasons);
	const sourceSystem = systemName(body, 'source_system', reasons) ?? settings.sourceSystem;
	if (sourceSystem === '')
		reasons.push('source_system is missing, and the trigger has no default Source System');
	const targets = targetSystems(body, sourceSystem, settings.targetSystems, reasons);
	if (reasons.length > 0) return { kind: 'invalid', reasons };
	return {
		kind: 'sync',
		request: {
			syncId: stamp.syncId,
			syncType,
			sourceSystem,
			targetSystems: targets,
			strategy,
			scope,
			keys: checked.map((r) => r.key),
			records: range ? null : checked.map((r) => r.record),
			trigger: 'request',
			changes: null,
			echoesDropped: 0,
			range,
			receivedAt: stamp.receivedAt,
		},
	};
}

/** An optional field: null when absent, undefined when present but not readable. */
function optional<T>(value: unknown, read: (v: unknown) => T | undefined): T | null | undefined {
	return value === undefined || value === null ? null : read(value);
}

function changeKey(value: unknown): string | undefined {
	if (typeof value === 'string') return value === '' ? undefined : value;
	return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

const isChangeOp = (value: unknown): value is ChangeOp =>
	(CHANGE_OPS as readonly unknown[]).includes(value);

/** One change entry, or undefined (with its problems added). */
function readChange(change: unknown, at: string, problems: Problems): ChangeEntry | undefined {
	if (!isObject(change)) {
		problems.add(`${at} must be an object (a change), not ${shown(change)}`);
		return undefined;
	}
	const key = changeKey(change.key);
	const origin = optional(change.origin, (v) => (typeof v === 'string' ? v : undefined));
	const seq = optional(change.seq, (v) =>
		typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined,
	);
	const when = optional(change.at, (v) =>
		typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? v : undefined,
	);
	const before = problems.count;
	if (key === undefined)
		problems.add(`${at}.key must be a non-empty string, not ${shown(change.key)}`);
	if (!isChangeOp(change.op))
		problems.add(`${at}.op must be upsert or delete, not ${shown(change.op)}`);
	if (origin === undefined)
		problems.add(
			`${at}.origin must be a sync id, a writer's name or null, not ${shown(change.origin)}`,
		);
	if (seq === undefined)
		problems.add(`${at}.seq must be a non-negative integer, not ${shown(change.seq)}`);
	if (when === undefined)
		problems.add(`${at}.at must be an ISO 8601 date-time, not ${shown(change.at)}`);
	if (
		problems.count > before ||
		key === undefined ||
		!isChangeOp(change.op) ||
		origin === undefined ||
		seq === undefined ||
		when === undefined
	)
		return undefined;
	return { seq, key, op: change.op, origin, at: when };
}

/**
 * Echoes out, the rest as one real-time sync with `system` as its source and every other
 * system of the trigger as targets. Records: those of the kept keys, when the changes came
 * with records.
 */
export function requestFromChanges(
	system: string,
	changes: ChangeEntry[],
	records: KeyedRecord[] | null,
	settings: TriggerSettings,
	stamp: Stamp,
	trigger: 'changeEvent' | 'changeFeed',
): InboundVerdict {
	const kept = changes.filter((change) => !isSyncId(change.origin));
	const echoesDropped = changes.length - kept.length;
	if (kept.length === 0) return { kind: 'echoes', system, echoesDropped };
	const keys = [...new Set(kept.map((change) => change.key))];
	const wanted = new Set(keys);
	return {
		kind: 'sync',
		request: {
			syncId: stamp.syncId,
			syncType: 'real_time',
			sourceSystem: system,
			targetSystems: triggerSystems(settings).filter((name) => name !== system),
			strategy: settings.strategy,
			scope: 'source',
			keys,
			records:
				records === null ? null : records.filter((r) => wanted.has(r.key)).map((r) => r.record),
			trigger,
			changes: kept,
			echoesDropped,
			range: null,
			receivedAt: stamp.receivedAt,
		},
	};
}

/**
 * A change event: `{type: "changes", system, changes: [{seq, key, op, origin, at}], records?}`.
 * The system must be one of the trigger's systems; the records, when sent, are the current
 * records of keys the changes name.
 */
export function readChangeEvent(
	body: Record<string, unknown>,
	settings: TriggerSettings,
	stamp: Stamp,
): InboundVerdict {
	const reasons: string[] = [];
	const systems = triggerSystems(settings);
	const system = systemName(body, 'system', reasons);
	if (system === undefined && (body.system === undefined || body.system === null))
		reasons.push('system is missing: name the system whose records changed');
	else if (system !== undefined && !systems.includes(system))
		reasons.push(
			`system ${shown(system)} is not one of this trigger's systems: ${systems.join(', ')}`,
		);
	const list = checkList(body, 'changes', 'changes', settings.maxRecords, reasons);
	const changeProblems = new Problems('changes');
	const changes = (list ?? [])
		.map((change, i) => readChange(change, `changes[${i}]`, changeProblems))
		.filter((change): change is ChangeEntry => change !== undefined);
	changeProblems.into(reasons);
	let records: KeyedRecord[] | null = null;
	if (body.records !== undefined && body.records !== null) {
		if (!Array.isArray(body.records)) {
			reasons.push(`records must be an array of records, not ${shown(body.records)}`);
		} else if (body.records.length > settings.maxRecords) {
			reasons.push(
				`records holds ${body.records.length} records, over the limit of ${settings.maxRecords}`,
			);
		} else {
			const recordProblems = new Problems('records');
			const named = new Set(changes.map((change) => change.key));
			records = checkRecords('records', body.records, settings.keyFields, recordProblems, named);
			recordProblems.into(reasons);
		}
	}
	if (reasons.length > 0) return { kind: 'invalid', reasons };
	return requestFromChanges(system!, changes, records, settings, stamp, 'changeEvent');
}

/** A request body, whichever kind: a change event when `type` is "changes", else a sync request. */
export function readInbound(
	body: unknown,
	settings: TriggerSettings,
	stamp: Stamp,
): InboundVerdict {
	if (!isObject(body))
		return { kind: 'invalid', reasons: [`the body must be a JSON object, not ${shown(body)}`] };
	if (body.type === 'changes') return readChangeEvent(body, settings, stamp);
	if (body.type !== undefined && body.type !== null)
		return {
			kind: 'invalid',
			reasons: [
				`type must be "changes" (a change event) or absent (a sync request), not ${shown(body.type)}`,
			],
		};
	return readSyncRequest(body, settings, stamp);
}

/** One entry of a system's change feed: a change, with the record as the feed gives it. */
export interface FeedChange extends ChangeEntry {
	seq: number;
	/** The record after the change; null for a delete or when the feed did not include it. */
	record: RecordData | null;
}

/** One answer of `GET <changes path>?since=<seq>&limit=<n>`. */
export interface FeedPage {
	changes: FeedChange[];
	lastSeq: number;
	hasMore: boolean;
}

/**
 * Reads one change feed answer: `{changes: [{seq, key, op, origin, at, record}], last_seq,
 * has_more}`. A feed that answers something else is a broken feed: every problem is listed.
 */
export function readFeedPage(body: unknown): { page: FeedPage } | { problems: string[] } {
	if (!isObject(body)) return { problems: [`the answer is not a JSON object: ${shown(body)}`] };
	const reasons: string[] = [];
	const list = body.changes;
	if (!Array.isArray(list)) reasons.push(`changes must be an array, not ${shown(list)}`);
	const lastSeq = body.last_seq;
	if (typeof lastSeq !== 'number' || !Number.isSafeInteger(lastSeq) || lastSeq < 0)
		reasons.push(`last_seq must be a non-negative integer, not ${shown(lastSeq)}`);
	if (typeof body.has_more !== 'boolean')
		reasons.push(`has_more must be true or false, not ${shown(body.has_more)}`);
	const problems = new Problems('changes');
	const changes: FeedChange[] = [];
	(Array.isArray(list) ? list : []).forEach((entry, i) => {
		const change = readChange(entry, `changes[${i}]`, problems);
		if (!change) return;
		const record = isObject(entry) ? entry.record : undefined;
		if (change.seq === null) {
			problems.add(`changes[${i}].seq is missing: a feed entry needs its seq`);
			return;
		}
		if (record !== undefined && record !== null && !isObject(record)) {
			problems.add(`changes[${i}].record must be an object or null, not ${shown(record)}`);
			return;
		}
		changes.push({ ...change, seq: change.seq, record: (record as RecordData) ?? null });
	});
	problems.into(reasons);
	if (reasons.length > 0) return { problems: reasons };
	return { page: { changes, lastSeq: lastSeq as number, hasMore: body.has_more as boolean } };
}

/**
 * Where the next read of the feed starts after this page. While the feed has more, from the
 * last change read (whatever `last_seq` means to the system); at its end, from `last_seq` too.
 * Never backwards, and a page that says "more" must move forward, or the feed is stuck.
 */
export function feedCursor(page: FeedPage, since: number): number | { stuck: string } {
	const lastRead = page.changes.reduce((max, change) => Math.max(max, change.seq), since);
	const next = page.hasMore
		? page.changes.length > 0
			? lastRead
			: Math.max(since, page.lastSeq)
		: Math.max(lastRead, page.lastSeq);
	if (page.hasMore && next <= since)
		return { stuck: `the feed says it has more after ${since} but gave nothing past it` };
	return next;
}

/**
 * The changes polled from one system's feed as one real-time sync: echoes dropped, the record
 * of each kept key from its latest change (the newest state the feed showed), deletes without.
 */
export function requestFromFeed(
	system: string,
	changes: FeedChange[],
	settings: TriggerSettings,
	stamp: Stamp,
): InboundVerdict {
	const latest = new Map<string, FeedChange>();
	for (const change of [...changes].sort((a, b) => a.seq - b.seq)) latest.set(change.key, change);
	const problems = new Problems('records');
	const records: KeyedRecord[] = [];
	for (const change of latest.values()) {
		if (change.op !== 'upsert' || change.record === null) continue;
		const checked = checkRecord(
			change.record,
			`the record of change seq ${change.seq}`,
			settings.keyFields,
		);
		if (typeof checked === 'string') problems.add(checked);
		else if (checked.key !== change.key)
			problems.add(
				`the record of change seq ${change.seq} has the key ${shown(checked.key)}, not ${shown(change.key)}`,
			);
		else records.push(checked);
	}
	if (problems.count > 0) {
		const reasons: string[] = [];
		problems.into(reasons);
		return { kind: 'invalid', reasons };
	}
	const entries: ChangeEntry[] = changes.map((c) => ({
		seq: c.seq,
		key: c.key,
		op: c.op,
		origin: c.origin,
		at: c.at,
	}));
	return requestFromChanges(system, entries, records, settings, stamp, 'changeFeed');
}
