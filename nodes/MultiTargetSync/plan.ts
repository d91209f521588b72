import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	RESOLVED_KEY,
	planKey,
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

function planItem(ctx: IExecuteFunctions, json: IDataObject, i: number, read: Readers): Planned {
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
	const plan = planKey(input, { mode, targets, propagateDeletes, optimistic });
	return { itemIndex: i, input, ...plan, syncType, targets };
}

/**
 * Reads every input item as a resolved key and plans its writes. An item an earlier node set
 * aside is reported, never written; an item that cannot be planned stops the node, or under
 * continue-on-fail is set aside with its reason.
 */
export function planRun(ctx: IExecuteFunctions): PlannedRun {
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
			planned.push(planItem(ctx, items[i].json, i, read));
		} catch (error) {
			const nodeError = itemError(ctx, error, i);
			if (!ctx.continueOnFail()) throw nodeError;
			setAside.push(failedItem(nodeError, { item: i }));
		}
	}
	return { started, options, planned, setAside };
}
