import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import { BisectError, newSyncId, type PartitionRange } from '../../shared/engine';
import { itemJson } from '../../shared/errors';
import {
	NoChecksumsError,
	planByRanges,
	type PartitionResult,
} from '../../shared/transport/checksums';
import type { SystemConnection } from '../../shared/transport/systems';
import { newStats, retryPolicyFrom, TransportError } from '../../shared/transport/request';
import { checksumOptions, systemsToCompare } from '../helpers/checksums';

/** The most live records one system may hold in a planned range, unless the option says otherwise. */
export const DEFAULT_MAX_KEYS_PER_RANGE = 50000;

const differingRangesOnly = { show: { scope: ['differingRanges'] } };

/** This mode's parameters: what it outputs (its options sit in Options). */
export const description: INodeProperties[] = [
	{
		displayName:
			'Plans a partitioned sync: one item per key range whose range checksums differ between the connected systems (every range on a first sync), none holding more than Max Keys per Range records on any system (Options). No record is read. Reconcile each range in its own execution, e.g. Conflict Check reading by key range. Nothing differs: no item (set Always Output Data in Settings to go on anyway).',
		name: 'differingRangesNotice',
		type: 'notice',
		default: '',
		displayOptions: differingRangesOnly,
	},
];

/** Options > Max Keys per Range, checked. */
function maxKeysOf(ctx: IExecuteFunctions, options: IDataObject): number {
	const maxKeys = Number(options.maxKeys ?? DEFAULT_MAX_KEYS_PER_RANGE);
	if (!Number.isInteger(maxKeys) || maxKeys < 1) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Max Keys per Range must be a whole number of at least 1, not ${String(options.maxKeys)}`,
			{ description: 'Field: Options > Max Keys per Range.' },
		);
	}
	return maxKeys;
}

/** Why no plan could be made, as the node's error: what to change, where. */
function planError(ctx: IExecuteFunctions, error: unknown): NodeOperationError {
	const description =
		error instanceof NoChecksumsError
			? 'Planning ranges needs range checksums on every system: set Range Checksum Path in its credential (the demo systems: /records/checksums).'
			: error instanceof BisectError
				? 'A system’s checksum endpoint kept answering a range with itself: check that it cuts ranges into segments.'
				: undefined;
	if (error instanceof NoChecksumsError || error instanceof BisectError)
		return new NodeOperationError(ctx.getNode(), error.message, { description });
	if (error instanceof TransportError) return new NodeOperationError(ctx.getNode(), error.message);
	return new NodeOperationError(ctx.getNode(), error as Error);
}

async function plan(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: IDataObject,
	maxKeys: number,
): Promise<PartitionResult> {
	const transport = newStats();
	try {
		const planOptions = { ...checksumOptions(options), maxKeys };
		return await planByRanges(ctx, systems, planOptions, retryPolicyFrom(options), transport);
	} catch (error) {
		throw planError(ctx, error);
	}
}

/** The input's sync id (a sync request, a check summary ...), so the ranges carry it. */
function inputSyncId(input: INodeExecutionData[]): string | undefined {
	const syncId = input[0]?.json.syncId;
	return typeof syncId === 'string' && syncId !== '' ? syncId : undefined;
}

/**
 * Validate > Differing Key Ranges (Plan Partitions): one item per key range to reconcile, from
 * range checksums alone (engine planPartitions), in key order.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const maxKeys = maxKeysOf(this, options);
	const systems = await systemsToCompare(this);
	const { ranges, stats } = await plan(this, systems, options, maxKeys);

	const input = this.getInputData(0) ?? [];
	const planId = inputSyncId(input) ?? newSyncId();
	const plannedAt = new Date().toISOString();
	const planStats = { ...stats, durationMs: Date.now() - started };
	const pairedItem = input.length ? input.map((_, item) => ({ item })) : undefined;
	if (ranges.length === 0) {
		this.addExecutionHints({
			message: `No key range differs between ${systems.map((s) => s.name).join(', ')}: nothing to reconcile, so no item (Always Output Data in Settings goes on with an empty one).`,
			location: 'outputPane',
		});
	}
	const items = ranges.map(({ from, to, counts }, index) => ({
		json: itemJson<PartitionRange>({
			planId,
			from,
			to,
			counts,
			index,
			total: ranges.length,
			systems: systems.map((s) => s.name),
			maxKeys,
			planStats,
			plannedAt,
		}),
		pairedItem,
	}));
	return [items, []];
}
