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
import { writeRecords, type OriginOf, type WriteOutcome } from '../../shared/transport/records';
import {
	newStats,
	retryPolicyFrom,
	type RetryPolicy,
	type TransportStats,
} from '../../shared/transport/request';
import {
	connectedSystems,
	requireSystems,
	type SystemConnection,
} from '../../shared/transport/systems';
import { massDeleteGuard } from '../guard';
import { WriteQueue } from '../queue';
import { planRun, type PlannedRun } from '../plan';
import {
	keyResults,
	syncOutputs,
	writeFields,
	type KeyFields,
	type KeyResults,
	type WriteProblems,
} from '../results';

/** Write's own parameter: the systems it writes to over HTTP. */
export const description: INodeProperties[] = [connectedSystemsProperty({ writeMode: ['write'] })];

type Outcomes = Map<PlannedWrite, WriteOutcome>;

/** What every system's writes share. */
interface Writing {
	ctx: IExecuteFunctions;
	queue: WriteQueue;
	limits: { batchSize: number; concurrency: number; versionField?: string; originOf: OriginOf };
	policy: RetryPolicy;
	stats: TransportStats;
}

/**
 * The connected systems this run writes to, all known before anything is written. The deferred
 * keys' systems are checked without planning them; on any doubt (an unknown name, a credential
 * problem) every key is planned and only the systems with writes are checked, as ever.
 */
async function targetSystems(ctx: IExecuteFunctions, queue: WriteQueue, run: PlannedRun) {
	const mayWrite = queue.systems();
	if (mayWrite.length > 0) {
		try {
			return requireSystems(ctx, await connectedSystems(ctx), mayWrite, 'target_systems');
		} catch {
			// Checked again below, exactly.
		}
	}
	queue.planAll();
	const names = [...new Set(run.planned.flatMap((p) => p.writes.map((w) => w.system)))];
	if (queue.error || names.length === 0) return [];
	return requireSystems(ctx, await connectedSystems(ctx), names, 'target_systems');
}

/** One system's writes, `concurrency` requests in flight, each batch planned as it is sent. */
async function writeSystem(w: Writing, system: SystemConnection): Promise<WriteOutcome[]> {
	const size = system.shape.batchPath ? w.limits.batchSize : 1;
	const limits = { ...w.limits, concurrency: 1 };
	const outcomes: WriteOutcome[] = [];
	const worker = async () => {
		let chunk = await w.queue.take(system.name, size);
		while (chunk.length > 0) {
			outcomes.push(...(await writeRecords(w.ctx, system, chunk, limits, w.policy, w.stats)));
			chunk = await w.queue.take(system.name, size);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, w.limits.concurrency) }, worker));
	return outcomes;
}

/**
 * Every planned write, all systems at once (bounded per system): an outcome for each. Keys are
 * planned as their batches go out; a key that cannot be planned then stops the writes (or, under
 * continue-on-fail, goes to Failed).
 */
async function writeAll(
	ctx: IExecuteFunctions,
	run: PlannedRun,
	stats: TransportStats,
): Promise<{ outcomes: Outcomes; failed: INodeExecutionData[] }> {
	// Each write names its sync as its origin, so the sync can drop its own echoes.
	const syncIdOf = new Map<PlannedWrite, string>();
	const queue = new WriteQueue(ctx, run.planned, (p, w) => {
		if (p.input.syncId) syncIdOf.set(w, p.input.syncId);
	});
	const connections = await targetSystems(ctx, queue, run);
	const { options } = run;
	const writing: Writing = {
		ctx,
		queue,
		limits: {
			batchSize: Number(options.batchSize ?? 100),
			concurrency: Number(options.concurrency ?? DEFAULT_CONCURRENCY),
			versionField: run.planned.find((p) => p.input.versionField)?.input.versionField,
			originOf: (w) => syncIdOf.get(w),
		},
		policy: retryPolicyFrom(options),
		stats,
	};
	const perSystem = await Promise.all(connections.map((system) => writeSystem(writing, system)));
	queue.planAll();
	if (queue.error) throw queue.error;
	const outcomes: Outcomes = new Map();
	for (const o of perSystem.flat()) outcomes.set(o.write, o);
	return { outcomes, failed: queue.failed };
}

const WRITTEN: Record<WriteOp, string> = {
	create: 'created',
	update: 'updated',
	delete: 'deleted',
};

function writeResult(key: KeyFields, w: PlannedWrite, o: WriteOutcome): SyncResult {
	return writeFields(key, w, {
		outcome: o.outcome,
		action: o.outcome === 'written' ? WRITTEN[w.op] : null,
		status: o.status ?? null,
		version: o.version ?? null,
		attempts: o.attempts,
		replayed: o.replayed ?? false,
		...(o.reason ? { reason: o.reason } : {}),
	});
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
		failed: keys
			.filter(({ results }) => results.some((r) => r.outcome === 'failed'))
			.map(({ itemIndex, results }) => ({
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

const inItemOrder = (items: INodeExecutionData[]) => items.sort((a, b) => itemOf(a) - itemOf(b));
const itemOf = (item: INodeExecutionData) =>
	typeof item.pairedItem === 'object' && !Array.isArray(item.pairedItem) ? item.pairedItem.item : 0;

/**
 * Write Mode > Write: every change written to the systems over HTTP, in batches where a system
 * has a batch endpoint, with an idempotency key and (optimistic) If-Match on each write. A write
 * that fails after its retries goes to Failed; one a target refused because its record changed
 * since the check goes back out on Conflicts.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const run = planRun(this, true);
	massDeleteGuard(this, run.planned, run.options);
	const stats = newStats();
	// writeRecords gives every write an outcome.
	const { outcomes, failed } = await writeAll(this, run, stats);
	if (failed.length > 0) run.setAside = inItemOrder([...run.setAside, ...failed]);
	const keys = run.planned.map((p) =>
		keyResults(p, (key, w) => writeResult(key, w, outcomes.get(w)!)),
	);
	return syncOutputs(run, 'write', keys, stats, writeProblems(run, keys, outcomes));
}
