import type { INodeExecutionData } from 'n8n-workflow';

import type {
	PlannedWrite,
	RequeuedConflict,
	SyncOutcome,
	SyncPhase,
	SyncResult,
} from '../shared/engine';
import { itemJson } from '../shared/errors';
import { newStats, type TransportStats } from '../shared/transport/request';
import type { Planned, PlannedRun } from './plan';

/** The results of one input key, in order: the systems needing no write, then each write. */
export interface KeyResults {
	itemIndex: number;
	results: SyncResult[];
}

/** What every result item says about its key, so Sync Validate needs nothing else. */
function keyFields(p: Planned) {
	return {
		syncId: p.input.syncId ?? null,
		key: p.input.key,
		sourceSystem: p.input.sourceSystem,
		syncType: p.syncType,
		targets: p.targets,
		systems: p.input.systems,
		strategy: p.input.audit?.strategy ?? null,
		audit: p.input.audit ?? null,
		expected: p.input.resolvedDeleted ? null : p.input.resolved,
		ignoredFields: p.input.ignoredFields,
		keyFields: p.input.keyFields ?? null,
		tombstoneField: p.input.tombstoneField ?? null,
	};
}

/** A key's fields, read once for all of its results. */
export type KeyFields = ReturnType<typeof keyFields>;

/** A result of a planned write: the key's fields, the write's, then what the mode adds. */
export function writeFields<T extends object>(key: KeyFields, w: PlannedWrite, what: T) {
	return {
		...key,
		system: w.system,
		op: w.op,
		idempotencyKey: w.idempotencyKey,
		expectedFingerprint: w.expectedFingerprint,
		...what,
	};
}

/** A key's results: its unchanged and skipped systems first, then `writeResult` of each write. */
export function keyResults(
	p: Planned,
	writeResult: (key: KeyFields, w: PlannedWrite) => SyncResult,
): KeyResults {
	const key = keyFields(p);
	const results: SyncResult[] = [];
	for (const s of p.skips) {
		results.push({
			...key,
			system: s.system,
			outcome: s.action,
			action: s.action,
			reason: s.reason,
			expectedFingerprint: s.expectedFingerprint,
		});
	}
	for (const w of p.writes) results.push(writeResult(key, w));
	return { itemIndex: p.itemIndex, results };
}

/** How many results had each outcome, in one pass. */
function countOutcomes(keys: KeyResults[]): Map<SyncOutcome, number> {
	const counts = new Map<SyncOutcome, number>();
	for (const { results } of keys)
		for (const { outcome } of results) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
	return counts;
}

function phaseOf(
	run: PlannedRun,
	action: SyncPhase['action'],
	keys: KeyResults[],
	stats: TransportStats,
): SyncPhase {
	const counts = countOutcomes(keys);
	const count = (outcome: SyncOutcome) => counts.get(outcome) ?? 0;
	return {
		action,
		durationMs: Date.now() - run.started,
		written: count('written'),
		unchanged: count('unchanged'),
		skipped: count('skipped'),
		failed: count('failed'),
		conflicts: count('conflict'),
		planned: run.planned.reduce((n, p) => n + p.writes.length, 0),
		transport: { ...stats },
	};
}

/** Failed writes, and keys going back out as conflicts, each paired with its input item. */
export interface WriteProblems {
	failed: KeyResults[];
	conflicts: Array<{ itemIndex: number; conflict: RequeuedConflict }>;
}

/**
 * The node's three outputs. Results: every key on every system, each with the run's Sync Phase.
 * Failed: the items set aside while planning, then the failed writes. Conflicts: re-queued keys.
 */
export function syncOutputs(
	run: PlannedRun,
	action: SyncPhase['action'],
	keys: KeyResults[],
	stats: TransportStats = newStats(),
	problems: WriteProblems = { failed: [], conflicts: [] },
): INodeExecutionData[][] {
	// Failed items are copies, taken before the results (this node's own objects) get the phase.
	const failed = problems.failed.flatMap(({ itemIndex, results }) =>
		results.map((r) => ({ json: itemJson({ ...r }), pairedItem: { item: itemIndex } })),
	);
	const phase = phaseOf(run, action, keys, stats);
	const results = keys.flatMap(({ itemIndex, results }) =>
		results.map((r) => {
			r.syncPhase = phase;
			return { json: itemJson(r), pairedItem: { item: itemIndex } };
		}),
	);
	return [
		results,
		[...run.setAside, ...failed],
		problems.conflicts.map(({ itemIndex, conflict }) => ({
			json: itemJson(conflict),
			pairedItem: { item: itemIndex },
		})),
	];
}
