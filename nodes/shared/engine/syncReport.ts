import type {
	AllRecordsReport,
	CheckSummary,
	Day66LogFields,
	KeyDifference,
	SyncReport,
	SyncStatus,
} from './items';
import { syncedSystems, type ReadBackVerdict, type SyncTally } from './validate';

/** Every Record lists at most this many differing keys (beside the capped differences). */
const DIFFERING_KEYS_CAP = 1000;

/** A system that could not be read back, and why. */
export interface Unreadable {
	system: string;
	reason: string;
}

/** An input item an earlier node set aside (an error item in place of a result), and why. */
export interface SetAside {
	item: number;
	reason: string;
}

/** Everything a sync report is made of; pure data, gathered by the node. */
export interface SyncReportInput {
	tally: SyncTally;
	verdict: ReadBackVerdict;
	unreadable: Unreadable[];
	/** Conflict Check's summary, when connected. */
	summary?: Partial<CheckSummary>;
	/** Result items an earlier node set aside under Continue (regular output), with their reasons. */
	setAside?: SetAside[];
	/** Transport figures of the read-back. */
	transport: Record<string, number>;
	/** Where the base went, in words. */
	base: string;
	/** Epoch ms. */
	started: number;
	finished: number;
	/** How many entries each list keeps (the counts stay exact). */
	listCap: number;
}

/** The check's and resolution's figures the report and its insights use. */
function conflictFigures(input: SyncReportInput) {
	const check = (input.summary?.counts ?? {}) as Record<string, unknown>;
	const conflictsResolved = Object.entries(input.tally.strategies)
		.filter(([s]) => s !== 'cleanChange' && s !== 'unknown')
		.reduce((n, [, c]) => n + c, 0);
	return {
		check,
		conflictsDetected: Number(check.conflicts ?? 0),
		conflictsResolved,
		keysChecked: Number(check.keys ?? input.tally.keys.size),
	};
}

export function syncStatus(input: SyncReportInput): SyncStatus {
	const { tally, verdict, unreadable, setAside = [] } = input;
	if (unreadable.length || setAside.length || verdict.passed.length < tally.keys.size)
		return 'failed';
	return tally.keys.size === 0 ? 'nothing_to_sync' : 'passed';
}

/** "2 result item(s) set aside by an earlier node (items 0, 3): <each distinct reason>". */
function setAsideReason(setAside: SetAside[], cap: number): string {
	const list = (values: Array<string | number>, separator: string) =>
		values.slice(0, cap).join(separator) + (values.length > cap ? `${separator}…` : '');
	const items = list(
		setAside.map((s) => s.item),
		', ',
	);
	const reasons = list([...new Set(setAside.map((s) => s.reason))], '; ');
	return `${setAside.length} result item(s) set aside by an earlier node (item ${items}): ${reasons}`;
}

/** Why the sync did not pass, one line per cause. */
export function syncReasons(input: SyncReportInput): string[] {
	const { verdict, tally, setAside = [] } = input;
	const reasons = input.unreadable.map((u) => `could not read ${u.system}: ${u.reason}`);
	if (setAside.length) reasons.push(setAsideReason(setAside, input.listCap));
	if (verdict.missing.length)
		reasons.push(`${verdict.missing.length} record(s) missing where they should exist`);
	if (verdict.extra.length)
		reasons.push(`${verdict.extra.length} record(s) still live where they were deleted`);
	if (verdict.differing.length)
		reasons.push(`${verdict.differing.length} record(s) differ from the resolution`);
	if (tally.failures.length) reasons.push(`${tally.failures.length} write(s) failed after retries`);
	if (tally.requeued.length)
		reasons.push(`${tally.requeued.length} write(s) refused: the system changed after the check`);
	return reasons;
}

/** What to look at, and what to do next. */
export function syncInsights(input: SyncReportInput): string[] {
	const { tally } = input;
	const { conflictsDetected, conflictsResolved, keysChecked } = conflictFigures(input);
	const insights: string[] = [];
	if (keysChecked > 0)
		insights.push(
			`conflict rate ${((100 * conflictsDetected) / keysChecked).toFixed(1)}% (${conflictsDetected} of ${keysChecked} keys)`,
		);
	if (tally.failures.length) {
		const bySystem = [...new Set(tally.failures.map((f) => f.system))];
		insights.push(
			`writes failed on ${bySystem.join(', ')}: check that system, then send the same sync again (idempotency keys make the re-run safe)`,
		);
	}
	if (tally.requeued.length)
		insights.push(
			'some systems changed during the sync: their keys are on the Conflicts output; send the sync again to resolve them',
		);
	if (conflictsDetected > conflictsResolved) {
		insights.push(
			`${conflictsDetected - conflictsResolved} conflict(s) were not resolved automatically (manual review or errors)`,
		);
	}
	return insights;
}

/** Sync Validate's report of one sync: who, what happened in each phase, and the verdict. */
export function syncReport(input: SyncReportInput): SyncReport {
	const { tally, verdict, summary } = input;
	const cap = <T>(list: T[]) => list.slice(0, input.listCap);
	const { check, conflictsResolved } = conflictFigures(input);
	const first = tally.first;
	const phase = first?.syncPhase;
	const systems = syncedSystems(tally.keys.values());
	return {
		syncId: first?.syncId ?? summary?.syncId ?? null,
		syncType: first?.syncType ?? null,
		sourceSystem: first?.sourceSystem ?? summary?.sourceSystem ?? null,
		targetSystems: first?.targets ?? [],
		systems: systems.length ? systems : (summary?.systems ?? []),
		status: syncStatus(input),
		reasons: syncReasons(input),
		insights: syncInsights(input),
		counts: {
			check,
			resolve: { conflictsResolved, byStrategy: tally.strategies },
			sync: tally.sync,
			validate: {
				keys: tally.keys.size,
				passed: verdict.passed.length,
				failed: tally.keys.size - verdict.passed.length,
				missing: verdict.missing.length,
				extra: verdict.extra.length,
				differing: verdict.differing.length,
			},
		},
		durations: {
			checkMs: summary?.durationMs ?? null,
			syncMs: phase?.durationMs ?? null,
			validateMs: input.finished - input.started,
		},
		transport: { sync: phase?.transport ?? null, validate: { ...input.transport } },
		missing: cap(verdict.missing),
		extra: cap(verdict.extra),
		differing: cap(verdict.differing),
		failures: cap(tally.failures),
		conflictsRequeued: cap(tally.requeued),
		// Every resolution, uncapped: this is the audit the sync log keeps, and a conflict resolved
		// without an entry here would be an overwrite nobody can trace.
		resolutions: tally.resolutions,
		base: input.base,
		validatedAt: new Date(input.finished).toISOString(),
	};
}

/**
 * The flat fields workflows/day66-data-sync.json logs and reports, read off a sync report (kept on
 * the report item, after its own fields).
 */
export function day66LogFields(report: SyncReport): Day66LogFields {
	const { check, resolve, sync, validate } = report.counts;
	return {
		sync_id: report.syncId,
		sync_type: report.syncType,
		source_system: report.sourceSystem,
		target_systems: report.targetSystems,
		records_processed: Number(check.keys ?? validate.keys),
		conflicts_detected: Number(check.conflicts ?? 0),
		conflicts_resolved: resolve.conflictsResolved,
		records_written: sync.written + sync.planned,
		failed_writes: sync.failed,
		validation_status: report.status,
		timestamp: report.validatedAt,
	};
}

/** What Validate > Every Record found, and how. */
export interface AllRecordsInput {
	method: AllRecordsReport['method'];
	/** Why the records were read in full, where they were. */
	fallback?: string;
	systems: string[];
	/** Systems (or requests) that could not be read, with the reason. */
	unreadable: string[];
	keyFields: string[];
	differences: KeyDifference[];
	unkeyed: number;
	keysRead: number;
	recordsPerSystem: Record<string, number>;
	transfer: AllRecordsReport['transfer'];
	started: number;
	finished: number;
	/** How many differences the report lists (the counts stay exact). */
	listCap: number;
}

/** Validate > Every Record's report, with the Day 66 log fields it shares with the sync report. */
export function allRecordsReport(input: AllRecordsInput): AllRecordsReport {
	const { differences, unreadable } = input;
	const missing = differences.filter((d) => d.kind === 'missing').length;
	const differing = differences.length - missing;
	const status = unreadable.length || differences.length ? 'failed' : 'passed';
	const reasons = unreadable.map((u) => `could not read: ${u}`);
	if (missing) reasons.push(`${missing} key(s) live on some systems and not on others`);
	if (differing) reasons.push(`${differing} key(s) hold different data on different systems`);
	if (input.unkeyed)
		reasons.push(`${input.unkeyed} record(s) without a value in ${input.keyFields.join(', ')}`);
	const at = new Date(input.finished).toISOString();
	return {
		validation: 'allRecords',
		method: input.method,
		...(input.fallback ? { methodNote: `read in full: ${input.fallback}` } : {}),
		systems: input.systems,
		status,
		reasons,
		counts: {
			recordsPerSystem: input.recordsPerSystem,
			keysRead: input.keysRead,
			differences: differences.length,
			missing,
			differing,
		},
		transfer: input.transfer,
		differences: differences.slice(0, input.listCap),
		differingKeys: differences.slice(0, DIFFERING_KEYS_CAP).map((d) => d.key),
		durations: { validateMs: input.finished - input.started },
		validatedAt: at,
		validation_status: status,
		records_processed: Math.max(0, ...Object.values(input.recordsPerSystem)),
		timestamp: at,
	};
}
