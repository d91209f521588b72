import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { DEFAULT_CONCURRENCY } from '../shared/parameters/descriptions';
import {
	PlanError,
	RESOLVED_KEY,
	planKey,
	type PlannedSkip,
	type PlannedWrite,
	type ResolvedKey,
	type SyncMode,
} from '../shared/engine';
import { readItem, setAsideReason, withNodeLevelErrors } from '../shared/errors';
import { perRunParameter, systemList } from '../shared/parameters/read';
import { writeRecords, type WriteOutcome } from '../shared/transport/records';
import { connectedSystems, requireSystems } from '../shared/transport/systems';
import { newStats, retryPolicyFrom } from '../shared/transport/request';

const SYNC_TYPES: Record<string, SyncMode> = {
	bidirectional: 'bidirectional',
	real_time: 'bidirectional',
	realtime: 'bidirectional',
	'real-time': 'bidirectional',
	one_way: 'oneWay',
	oneway: 'oneWay',
	'one-way': 'oneWay',
};

export function readSyncType(
	ctx: IExecuteFunctions,
	i: number,
	read: (itemIndex: number) => unknown,
): { syncType: string; mode: SyncMode } {
	const raw = read(i);
	const syncType = typeof raw === 'string' && raw.trim() ? raw.trim() : 'bidirectional';
	const mode = SYNC_TYPES[syncType.toLowerCase()];
	if (!mode) {
		throw new NodeOperationError(ctx.getNode(), `Item ${i}: unknown sync type "${syncType}"`, {
			itemIndex: i,
			description: 'Field: sync_type. Use bidirectional, one_way or real_time.',
		});
	}
	return { syncType, mode };
}

interface Planned {
	itemIndex: number;
	input: ResolvedKey;
	writes: PlannedWrite[];
	skips: PlannedSkip[];
	syncType: string;
	targets: string[];
}

/** What every result item says about its key, so Sync Validate needs nothing else. */
function resultFields(p: Planned): IDataObject {
	return {
		syncId: p.input.syncId ?? null,
		key: p.input.key,
		sourceSystem: p.input.sourceSystem,
		syncType: p.syncType,
		targets: p.targets,
		systems: p.input.systems,
		strategy: p.input.audit?.strategy ?? null,
		audit: (p.input.audit ?? null) as unknown as IDataObject | null,
		expected: p.input.resolvedDeleted ? null : p.input.resolved,
		ignoredFields: p.input.ignoredFields,
		keyFields: p.input.keyFields ?? null,
		tombstoneField: p.input.tombstoneField ?? null,
	};
}

/**
 * Stops a sync that would delete more than the allowed share of a system's records (among the
 * records this sync covers), before anything is written: a wiped source must not wipe the rest.
 */
function massDeleteGuard(ctx: IExecuteFunctions, planned: Planned[], options: IDataObject): void {
	const maxShare = Number(options.maxDeleteShare ?? 50) / 100;
	const minDeletes = Number(options.guardFromDeletes ?? 10);
	const held = new Map<string, number>();
	const deletes = new Map<string, number>();
	for (const p of planned) {
		// Conflict Check says how many records each system held among all checked keys (in-sync
		// ones never reach this node); without it, count the records of the keys here.
		const checked = p.input.heldAmongCheckedKeys;
		for (const system of p.input.systems) {
			if (checked?.[system] !== undefined)
				held.set(system, Math.max(held.get(system) ?? 0, checked[system]));
			else if (p.input.records[system] && !p.input.deleted?.[system])
				held.set(system, (held.get(system) ?? 0) + 1);
		}
		for (const w of p.writes)
			if (w.op === 'delete') deletes.set(w.system, (deletes.get(w.system) ?? 0) + 1);
	}
	for (const [system, count] of deletes) {
		const total = held.get(system) ?? count;
		if (count >= minDeletes && count > maxShare * total) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Mass-delete guard: this sync would delete ${count} of ${total} records on ${system} (${Math.round((100 * count) / total)}%, over the ${Math.round(maxShare * 100)}% limit). Nothing was written.`,
				{
					description:
						'If the deletes are intended, raise Max Delete Share in the options, or sync in smaller parts.',
				},
			);
		}
	}
}

async function run(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const items = this.getInputData();
	const action = this.getNodeParameter('writeMode', 0) as 'write' | 'dryRun' | 'planOnly';
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const optimistic = options.optimistic !== false;
	const propagateDeletes = options.propagateDeletes !== false;

	const results: INodeExecutionData[] = [];
	const failed: INodeExecutionData[] = [];
	const conflicts: INodeExecutionData[] = [];
	const planned: Planned[] = [];
	// Usually one value per run (from the payload): evaluated once, not once per record.
	const readType = perRunParameter(this, 'syncType', 'bidirectional');
	const readTargets = perRunParameter(this, 'targetSystems', '');
	for (let i = 0; i < items.length; i++) {
		// An item an earlier node set aside (Continue, regular output): reported, never written.
		if (setAsideReason(items[i].json) !== undefined) {
			failed.push({ json: items[i].json, pairedItem: { item: i } });
			continue;
		}
		try {
			const input = readItem(this, RESOLVED_KEY, items[i].json, i);
			const { syncType, mode } = readSyncType(this, i, readType);
			const targets = systemList(readTargets(i), 'Target Systems');
			if (targets.length === 0) {
				throw new NodeOperationError(this.getNode(), `Item ${i}: no target systems`, {
					itemIndex: i,
					description: 'Field: target_systems',
				});
			}
			const plan = planKey(input, { mode, targets, propagateDeletes, optimistic });
			planned.push({ itemIndex: i, input, ...plan, syncType, targets });
		} catch (error) {
			const nodeError =
				error instanceof NodeOperationError
					? error
					: new NodeOperationError(this.getNode(), `Item ${i}: ${(error as Error).message}`, {
							itemIndex: i,
							description: error instanceof PlanError ? `Field: ${error.field}` : undefined,
						});
			if (!this.continueOnFail()) throw nodeError;
			failed.push({
				json: { error: nodeError.message, details: { description: nodeError.description ?? null } },
				pairedItem: { item: i },
			});
		}
	}

	const allWrites = planned.flatMap((p) => p.writes);
	// Plan-only writes are done by other nodes, but the guard holds for them just the same.
	if (action !== 'dryRun') massDeleteGuard(this, planned, options);

	const stats = newStats();
	const outcomes = new Map<PlannedWrite, WriteOutcome>();
	if (action === 'write' && allWrites.length > 0) {
		const systems = await connectedSystems(this);
		const bySystem = new Map<string, PlannedWrite[]>();
		for (const w of allWrites) {
			const list = bySystem.get(w.system);
			if (list) list.push(w);
			else bySystem.set(w.system, [w]);
		}
		// Every named system must be known before anything is written.
		const connections = requireSystems(this, systems, [...bySystem.keys()], 'target_systems');
		const policy = retryPolicyFrom(options);
		const versionField = planned.find((p) => p.input.versionField)?.input.versionField;
		const perSystem = await Promise.all(
			connections.map((system) =>
				writeRecords(
					this,
					system,
					bySystem.get(system.name)!,
					{
						batchSize: Number(options.batchSize ?? 100),
						concurrency: Number(options.concurrency ?? DEFAULT_CONCURRENCY),
						versionField,
					},
					policy,
					stats,
				),
			),
		);
		for (const o of perSystem.flat()) outcomes.set(o.write, o);
	}

	const counts = {
		written: 0,
		unchanged: 0,
		skipped: 0,
		failed: 0,
		conflicts: 0,
		planned: allWrites.length,
	};
	for (const p of planned) {
		const base = resultFields(p);
		for (const s of p.skips) {
			counts[s.action === 'unchanged' ? 'unchanged' : 'skipped']++;
			results.push({
				json: {
					...base,
					system: s.system,
					outcome: s.action,
					action: s.action,
					reason: s.reason,
					expectedFingerprint: s.expectedFingerprint,
				} as IDataObject,
				pairedItem: { item: p.itemIndex },
			});
		}
		for (const w of p.writes) {
			const o = outcomes.get(w);
			const common = {
				...base,
				system: w.system,
				op: w.op,
				idempotencyKey: w.idempotencyKey,
				expectedFingerprint: w.expectedFingerprint,
			};
			if (!o) {
				// Plan only: one item per write for other nodes to perform (`target` routes it,
				// `record` is the row). Dry run: the same, marked as not to be written.
				const json =
					action === 'planOnly'
						? { ...common, target: w.system, ...w, outcome: 'planned', action: w.op }
						: { ...common, outcome: 'planned', action: `would ${w.op}`, dryRun: true };
				results.push({ json: json as unknown as IDataObject, pairedItem: { item: p.itemIndex } });
				continue;
			}
			const json = {
				...common,
				outcome: o.outcome,
				action:
					o.outcome === 'written'
						? w.op === 'delete'
							? 'deleted'
							: w.op === 'create'
								? 'created'
								: 'updated'
						: null,
				status: o.status ?? null,
				version: o.version ?? null,
				attempts: o.attempts,
				replayed: o.replayed ?? false,
				...(o.reason ? { reason: o.reason } : {}),
			} as IDataObject;
			results.push({ json, pairedItem: { item: p.itemIndex } });
			if (o.outcome === 'written') counts.written++;
			else if (o.outcome === 'failed') {
				counts.failed++;
				failed.push({ json: { ...json }, pairedItem: { item: p.itemIndex } });
			} else {
				counts.conflicts++;
				// The key goes back out as a conflict, with what the check saw, for review or a re-run.
				conflicts.push({
					json: {
						...(p.input as unknown as IDataObject),
						kind: 'conflict',
						conflictType: 'concurrent_change',
						reason: o.reason,
						system: w.system,
						currentVersion: o.currentVersion ?? null,
					},
					pairedItem: { item: p.itemIndex },
				});
			}
		}
	}
	const phase = { action, durationMs: Date.now() - started, ...counts, transport: { ...stats } };
	for (const item of results) item.json.syncPhase = phase;
	return [results, failed, conflicts];
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await withNodeLevelErrors(this, run, 3);
}
