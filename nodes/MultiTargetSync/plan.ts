import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	RESOLVED_KEY,
	assertReadable,
	isObject,
	planKey,
	writeSystems,
	type PlanOptions,
	type PlannedSkip,
	type PlannedWrite,
	type ResolvedKey,
	type SyncMode,
} from '../shared/engine';
import { failedItem, itemError, readItem, setAsideReason } from '../shared/errors';
import { perRunParameter, systemList } from '../shared/parameters/read';

const SYNC_TYPES: Record<string, SyncMode> = {
	bidirectional: 'bidirectional',
	real_time: 'bidirectional',
	realtime: 'bidirectional',
	'real-time': 'bidirectional',
	one_way: 'oneWay',
	oneway: 'oneWay',
	'one-way': 'oneWay',
};

type Reader = (itemIndex: number) => unknown;

export function readSyncType(
	ctx: IExecuteFunctions,
	i: number,
	read: Reader,
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

/** One input key with the writes it needs and the systems that need none. */
export interface Planned {
	itemIndex: number;
	input: ResolvedKey;
	writes: PlannedWrite[];
	skips: PlannedSkip[];
	syncType: string;
	targets: string[];
	/** A key Write plans just before its batch is sent: until then, how to plan it. */
	deferred?: Deferred;
}

/** How to plan a deferred key, and the systems its writes may go to. */
export interface Deferred {
	options: PlanOptions;
	systems: string[];
}

/** Every mode starts here: the run's options, its planned keys and the items it set aside. */
export interface PlannedRun {
	started: number;
	options: IDataObject;
	planned: Planned[];
	/** Items an earlier node set aside, and (continue-on-fail) items this node could not plan. */
	setAside: INodeExecutionData[];
}

interface Readers {
	syncType: Reader;
	targets: Reader;
	propagateDeletes: boolean;
	optimistic: boolean;
}

/** Whether fingerprinting this record cannot throw: the engine's check, without the text. */
function readable(record: unknown): boolean {
	try {
		assertReadable(record);
		return true;
	} catch {
		return false;
	}
}

/**
 * A key whose plan cannot fail once it is read (its records are plain and its systems were
 * checked): its planning can wait. Deletes are planned up front, as the mass-delete guard counts
 * them before anything is written; so is any key whose planning could still fail, so that its
 * error stops the node before the first write, as ever.
 */
function deferredPlan(input: ResolvedKey, options: PlanOptions): Deferred | undefined {
	if (input.resolvedDeleted || !isObject(input.resolved) || !readable(input.resolved))
		return undefined;
	// Throws as planKey would: after the resolved record's fingerprint, before the others'.
	const systems = writeSystems(input, options);
	const current = systems.map((s) => input.records[s]);
	const plain = current.every((r) => r === null || (isObject(r) && readable(r)));
	return plain ? { options, systems } : undefined;
}

/** Plans a deferred key now: its writes and skips, as planRun would have. */
export function planDeferred(p: Planned): void {
	const { options } = p.deferred!;
	p.deferred = undefined;
	const plan = planKey(p.input, options);
	p.writes = plan.writes;
	p.skips = plan.skips;
}

function planItem(
	ctx: IExecuteFunctions,
	json: IDataObject,
	i: number,
	read: Readers,
	defer: boolean,
): Planned {
	const input = readItem(ctx, RESOLVED_KEY, json, i);
	const { syncType, mode } = readSyncType(ctx, i, read.syncType);
	const targets = systemList(read.targets(i), 'Target Systems');
	if (targets.length === 0) {
		throw new NodeOperationError(ctx.getNode(), `Item ${i}: no target systems`, {
			itemIndex: i,
			description: 'Field: target_systems',
		});
	}
	const { propagateDeletes, optimistic } = read;
	const options: PlanOptions = { mode, targets, propagateDeletes, optimistic };
	const deferred = defer ? deferredPlan(input, options) : undefined;
	if (deferred) return { itemIndex: i, input, writes: [], skips: [], syncType, targets, deferred };
	return { itemIndex: i, input, ...planKey(input, options), syncType, targets };
}

/**
 * Reads every input item as a resolved key and plans its writes. An item an earlier node set
 * aside is reported, never written; an item that cannot be planned stops the node, or under
 * continue-on-fail is set aside with its reason. With `defer`, keys whose plan cannot fail are
 * only read and checked here, and planned later by `planDeferred`.
 */
export function planRun(ctx: IExecuteFunctions, defer = false): PlannedRun {
	const started = Date.now();
	const items = ctx.getInputData();
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	// Usually one value per run (from the payload): evaluated once, not once per record.
	const read: Readers = {
		syncType: perRunParameter(ctx, 'syncType', 'bidirectional'),
		targets: perRunParameter(ctx, 'targetSystems', ''),
		propagateDeletes: options.propagateDeletes !== false,
		optimistic: options.optimistic !== false,
	};
	const planned: Planned[] = [];
	const setAside: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		if (setAsideReason(items[i].json) !== undefined) {
			setAside.push({ json: items[i].json, pairedItem: { item: i } });
			continue;
		}
		try {
			planned.push(planItem(ctx, items[i].json, i, read, defer));
		} catch (error) {
			const nodeError = itemError(ctx, error, i);
			if (!ctx.continueOnFail()) throw nodeError;
			setAside.push(failedItem(nodeError, { item: i }));
		}
	}
	return { started, options, planned, setAside };
}
