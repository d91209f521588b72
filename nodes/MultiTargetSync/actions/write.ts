import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type {
	PlannedWrite,
	RequeuedConflict,
	ResolvedKey,
	SyncResult,
	WriteOp,
} from '../../shared/engine';
import { DEFAULT_CONCURRENCY } from '../../shared/parameters/descriptions';
import { connectedSystemsProperty } from '../../shared/parameters/systems';
import { writeRecords, type WriteOutcome } from '../../shared/transport/records';
import { newStats, retryPolicyFrom, type TransportStats } from '../../shared/transport/request';
import { connectedSystems, requireSystems } from '../../shared/transport/systems';
import { massDeleteGuard } from '../guard';
import { planRun, type Planned, type PlannedRun } from '../plan';
import {
	keyResults,
	syncOutputs,
	writeFields,
	type KeyResults,
	type WriteProblems,
} from '../results';

/** Write's own parameter: the systems it writes to over HTTP. */
export const description: INodeProperties[] = [connectedSystemsProperty({ writeMode: ['write'] })];

type Outcomes = Map<PlannedWrite, WriteOutcome>;

/** Every planned write, all systems at once (bounded per system): an outcome for each. */
async function writeAll(
	ctx: IExecuteFunctions,
	run: PlannedRun,
	stats: TransportStats,
): Promise<Outcomes> {
	const outcomes: Outcomes = new Map();
	const bySystem = new Map<string, PlannedWrite[]>();
	for (const w of run.planned.flatMap((p) => p.writes)) {
		const list = bySystem.get(w.system);
		if (list) list.push(w);
		else bySystem.set(w.system, [w]);
	}
	if (bySystem.size === 0) return outcomes;
	const systems = await connectedSystems(ctx);
	// Every named system must be known before anything is written.
	const connections = requireSystems(ctx, systems, [...bySystem.keys()], 'target_systems');
	const { options } = run;
	const policy = retryPolicyFrom(options);
	// Each write names its sync as its origin, so the sync can drop its own echoes.
	const syncIdOf = new Map<PlannedWrite, string>();
	for (const p of run.planned)
		if (p.input.syncId) for (const w of p.writes) syncIdOf.set(w, p.input.syncId);
	const limits = {
		batchSize: Number(options.batchSize ?? 100),
		concurrency: Number(options.concurrency ?? DEFAULT_CONCURRENCY),
		versionField: run.planned.find((p) => p.input.versionField)?.input.versionField,
		originOf: (w: PlannedWrite) => syncIdOf.get(w),
	};
	const perSystem = await Promise.all(
		connections.map((system) =>
			writeRecords(ctx, system, bySystem.get(system.name)!, limits, policy, stats),
		),
	);
	for (const o of perSystem.flat()) outcomes.set(o.write, o);
	return outcomes;
}

const WRITTEN: Record<WriteOp, string> = {
	create: 'created',
	update: 'updated',
	delete: 'deleted',
};

function writeResult(p: Planned, w: PlannedWrite, o: WriteOutcome): SyncResult {
	return {
		...writeFields(p, w),
		outcome: o.outcome,
		action: o.outcome === 'written' ? WRITTEN[w.op] : null,
		status: o.status ?? null,
		version: o.version ?? null,
		attempts: o.attempts,
		replayed: o.replayed ?? false,
		...(o.reason ? { reason: o.reason } : {}),
	};
}

/** The key goes back out as a conflict, with what the check saw, for review or a re-run. */
function requeued(input: ResolvedKey, o: WriteOutcome): RequeuedConflict {
	return {
		...input,
		kind: 'conflict',
		conflictType: 'concurrent_change',
		reason: o.reason ?? '',
		system: o.write.system,
		currentVersion: o.currentVersion ?? null,
	};
}

/** Failed writes (already among the results) and refused ones, in the order of the input. */
function writeProblems(run: PlannedRun, keys: KeyResults[], outcomes: Outcomes): WriteProblems {
	return {
		failed: keys.map(({ itemIndex, results }) => ({
			itemIndex,
			results: results.filter((r) => r.outcome === 'failed'),
		})),
		conflicts: run.planned.flatMap((p) =>
			p.writes
				.map((w) => outcomes.get(w)!)
				.filter((o) => o.outcome === 'conflict')
				.map((o) => ({ itemIndex: p.itemIndex, conflict: requeued(p.input, o) })),
		),
	};
}

/**
 * Write Mode > Write: every change written to the systems over HTTP, in batches where a system
 * has a batch endpoint, with an idempotency key and (optimistic) If-Match on each write. A write
 * that fails after its retries goes to Failed; one a target refused because its record changed
 * since the check goes back out on Conflicts.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const run = planRun(this);
	massDeleteGuard(this, run.planned, run.options);
	const stats = newStats();
	// writeRecords gives every write an outcome.
	const outcomes = await writeAll(this, run, stats);
	const keys = run.planned.map((p) => keyResults(p, (w) => writeResult(p, w, outcomes.get(w)!)));
	return syncOutputs(run, 'write', keys, stats, writeProblems(run, keys, outcomes));
}
