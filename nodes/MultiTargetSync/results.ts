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

/** The fields every result of a planned write starts with; the mode adds what became of it. */
export function writeFields(p: Planned, w: PlannedWrite) {
	return {
		...keyFields(p),
		system: w.system,
		op: w.op,
		idempotencyKey: w.idempotencyKey,
		expectedFingerprint: w.expectedFingerprint,
	};
}

/** A key's results: its unchanged and skipped systems first, then `writeResult` of each write. */
export function keyResults(p: Planned, writeResult: (w: PlannedWrite) => SyncResult): KeyResults {
	const skips: SyncResult[] = p.skips.map((s) => ({
		...keyFields(p),
		system: s.system,
		outcome: s.action,
		action: s.action,
		reason: s.reason,
		expectedFingerprint: s.expectedFingerprint,
	}));
	return { itemIndex: p.itemIndex, results: [...skips, ...p.writes.map(writeResult)] };
}

const count = (results: SyncResult[], outcome: SyncOutcome) =>
	results.filter((r) => r.outcome === outcome).length;

function phaseOf(
	run: PlannedRun,
	action: SyncPhase['action'],
	results: SyncResult[],
	stats: TransportStats,
): SyncPhase {
	return {
		action,
		durationMs: Date.now() - run.started,
		written: count(results, 'written'),
		unchanged: count(results, 'unchanged'),
		skipped: count(results, 'skipped'),
		failed: count(results, 'failed'),
		conflicts: count(results, 'conflict'),
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
	const phase = phaseOf(
		run,
		action,
		keys.flatMap((k) => k.results),
		stats,
	);
	const items = (list: KeyResults[], extra: Partial<SyncResult> = {}) =>
		list.flatMap(({ itemIndex, results }) =>
			results.map((r) => ({ json: itemJson({ ...r, ...extra }), pairedItem: { item: itemIndex } })),
		);
	return [
		items(keys, { syncPhase: phase }),
		[...run.setAside, ...items(problems.failed)],
		problems.conflicts.map(({ itemIndex, conflict }) => ({
			json: itemJson(conflict),
			pairedItem: { item: itemIndex },
		})),
	];
}
