import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import {
	allRecordsReport,
	BisectError,
	ignoredFields,
	keyDifferences,
	liveRecordsByKey,
	type AllRecordsReport,
	type RecordData,
} from '../../shared/engine';
import { itemJson } from '../../shared/errors';
import { recordSpecProperties, REPORT_LIST_CAP } from '../../shared/parameters/descriptions';
import { readRecordSpec } from '../../shared/parameters/read';
import {
	diffByRanges,
	NoChecksumsError,
	type RangeDiffStats,
} from '../../shared/transport/checksums';
import { listRecords } from '../../shared/transport/records';
import type { SystemConnection } from '../../shared/transport/systems';
import {
	newStats,
	retryPolicyFrom,
	TransportError,
	type TransportStats,
} from '../../shared/transport/request';
import { checksumOptions, systemsToCompare } from '../helpers/checksums';

const allRecordsOnly = { show: { scope: ['allRecords'] } };

/** This mode's parameters: what it compares, and how records are read. */
export const description: INodeProperties[] = [
	{
		displayName:
			'Runs once per execution, whatever arrives on the input (a schedule, a webhook, the end of a sync). Compares every live record of every connected system by key; deleted and absent count as the same. Systems without a Range Checksum Path are read in full.',
		name: 'allRecordsNotice',
		type: 'notice',
		default: '',
		displayOptions: allRecordsOnly,
	},
	...recordSpecProperties.map((p) => ({ ...p, displayOptions: allRecordsOnly })),
];

/** What was read, and how. */
interface Read {
	method: AllRecordsReport['method'];
	/** Why the records were read in full. */
	fallback?: string;
	ranges?: RangeDiffStats;
	/** Each system's records to compare, in the systems' order. */
	records: Map<string, RecordData[]>;
	unreadable: string[];
}

/** A transport failure is a finding of the report; anything else stops the node. */
function unreadableOrThrow(ctx: IExecuteFunctions, error: unknown, unreadable: string[]): void {
	if (error instanceof TransportError || error instanceof BisectError)
		unreadable.push(error.message);
	else throw new NodeOperationError(ctx.getNode(), error as Error);
}

/** Every live record of every system, for systems without range checksums. */
async function readInFull(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: IDataObject,
	transport: TransportStats,
	read: Read,
): Promise<void> {
	const policy = retryPolicyFrom(options);
	const lists = await Promise.all(
		systems.map(async (s) => {
			try {
				return await listRecords(ctx, s, policy, transport);
			} catch (error) {
				unreadableOrThrow(ctx, error, read.unreadable);
				return undefined;
			}
		}),
	);
	read.records = new Map();
	systems.forEach((s, i) => {
		if (lists[i]) read.records.set(s.name, lists[i]);
	});
}

/** The records of the ranges whose checksums differ; every record where a system has no checksums. */
async function readDifferences(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: IDataObject,
	transport: TransportStats,
): Promise<Read> {
	const read: Read = { method: 'rangeChecksums', records: new Map(), unreadable: [] };
	const rangeOptions = { ...checksumOptions(options), leafSize: Number(options.leafSize ?? 64) };
	try {
		const diff = await diffByRanges(
			ctx,
			systems,
			rangeOptions,
			retryPolicyFrom(options),
			transport,
		);
		read.records = diff.records;
		read.ranges = diff.stats;
	} catch (error) {
		if (!(error instanceof NoChecksumsError)) unreadableOrThrow(ctx, error, read.unreadable);
		else {
			read.method = 'fullRead';
			read.fallback = error.message;
			await readInFull(ctx, systems, options, transport, read);
		}
	}
	return read;
}

/** What the report says about the transfer: checksum figures where ranges were compared. */
function transfer(read: Read, transport: TransportStats): AllRecordsReport['transfer'] {
	const { ranges } = read;
	return {
		...(ranges
			? {
					levels: ranges.levels,
					checksumRequests: ranges.checksumRequests,
					rangesCompared: ranges.rangesCompared,
					rangesRead: ranges.rangesRead,
					bytesReceived: ranges.bytesReceived,
				}
			: {}),
		recordsRead: [...read.records.values()].reduce((n, l) => n + l.length, 0),
		requests: transport.requests,
		retries: transport.retries,
	};
}

/**
 * Validate > Every Record on Every System: one report on whether every connected system holds
 * the same live records, found by range checksums (engine bisectRanges) or, for systems without
 * them, by reading everything.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const spec = readRecordSpec(this, 0);
	if (spec.keyFields.length === 0) {
		throw new NodeOperationError(this.getNode(), 'Key Fields is empty', {
			description: 'Field: Key Fields. Name the field that identifies a record on every system.',
		});
	}
	const systems = await systemsToCompare(this);
	const transport = newStats();
	const read = await readDifferences(this, systems, options, transport);

	// Key by key across the records read: live on every system, with the same fingerprint.
	const names = systems.map((s) => s.name);
	const { byKey, unkeyed } = liveRecordsByKey(read.records, spec.keyFields, spec.tombstoneField);
	const report = allRecordsReport({
		method: read.method,
		fallback: read.fallback,
		systems: names,
		unreadable: read.unreadable,
		keyFields: spec.keyFields,
		// Nothing to compare when a system could not be read: the report fails with the reason.
		differences: read.unreadable.length ? [] : keyDifferences(byKey, names, ignoredFields(spec)),
		unkeyed,
		keysRead: byKey.size,
		recordsPerSystem:
			read.ranges?.recordsPerSystem ??
			Object.fromEntries([...read.records].map(([s, list]) => [s, list.length])),
		transfer: transfer(read, transport),
		started,
		finished: Date.now(),
		listCap: REPORT_LIST_CAP,
	});
	const input = this.getInputData(0) ?? [];
	return [
		[
			{
				json: itemJson(report),
				pairedItem: input.length ? input.map((_, item) => ({ item })) : undefined,
			},
		],
		[],
	];
}
