import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import { recordKey, type RecordData, type RecordSpec } from '../../shared/engine';
import { toNodeError } from '../../shared/errors';
import type { TransportStats } from '../../shared/transport/request';
import type { SystemConnection } from '../../shared/transport/systems';
import type { SummaryExtras } from './items';
import { currentSource, indexOthers, readSystem, sourceCheckSummary } from './overHttp';
import type { CheckParameters } from './parameters';
import {
	addRangeRecords,
	describeRange,
	inRange,
	refuseOutOfRange,
	type KeyRangeRead,
} from './range';
import { indexSource, type ReadSystems, type SourceRecords } from './source';

const count = (n: number) => n.toLocaleString('en-US');

/**
 * One system's records in the range, page by page, never more than Max Keys per Range + 1 held:
 * past the bound the node stops before anything is written. A record outside the range means the
 * system ignored `from`/`to`: checking it here could overwrite what another range's execution
 * owns, so that stops the node too.
 */
async function readRange(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	{ range, maxKeys }: KeyRangeRead,
	spec: RecordSpec,
	stats: TransportStats,
): Promise<RecordData[]> {
	const advice = 'Check the system and its credential, then run the sync again.';
	const records = await readSystem(ctx, system, { range, max: maxKeys }, stats, advice);
	if (records.length > maxKeys) {
		throw new NodeOperationError(
			ctx.getNode(),
			`${system.name} holds more than ${count(maxKeys)} keys in the Key Range (${describeRange(range)}): cut the range smaller`,
			{
				description: `Max Keys per Range is ${count(maxKeys)}; reading stopped at ${count(records.length)} keys and nothing was written. Split the range into smaller ones, each checked in its own execution, or raise Max Keys per Range if one execution can hold more.`,
			},
		);
	}
	const stray = records
		.map((r) => recordKey(r, spec.keyFields))
		.find((key) => typeof key === 'string' && !inRange(key, range));
	if (stray !== undefined) {
		throw new NodeOperationError(
			ctx.getNode(),
			`${system.name} answered with key ${JSON.stringify(stray)}, outside the Key Range (${describeRange(range)}): it does not list by the from and to query parameters`,
			{
				description: `Nothing was written. Read Records: Key Range needs systems whose GET ${system.shape.recordsPath} takes from and to; read this one with Automatic or Every Record.`,
			},
		);
	}
	return records;
}

/** Every read, settled before the first failure is thrown: no request outlives the node. */
async function readAll(reads: Array<Promise<RecordData[]>>): Promise<RecordData[][]> {
	const settled = await Promise.allSettled(reads);
	const failed = settled.find((r) => r.status === 'rejected');
	if (failed) throw failed.reason;
	return settled.map((r) => (r as PromiseFulfilledResult<RecordData[]>).value);
}

/** What a reading of the systems gives the check. */
export interface HttpRead {
	read: ReadSystems;
	byKey: boolean;
	summaryExtras: SummaryExtras;
}

/**
 * Read Records > Key Range: every system, the source included, read within the range page by
 * page, so a key only another system holds there is found too. The records sent on the input
 * must lie in the range; they are checked against the source's current records (Re-Read Stale
 * Source Records), and the source's other records in the range join them.
 */
export async function readByRange(
	ctx: IExecuteFunctions,
	p: CheckParameters,
	src: SourceRecords,
	systems: { source: SystemConnection; others: SystemConnection[] },
	keyRange: KeyRangeRead,
	stats: TransportStats,
): Promise<HttpRead> {
	const refused = refuseOutOfRange(src, keyRange.range, p.spec, p.source);
	// Refused input stops the node before any system is read, unless continue-on-fail sets it aside.
	if (refused.length > 0 && !ctx.continueOnFail())
		throw toNodeError(ctx, refused[0], refused.length - 1);
	const [sourceNow, ...othersNow] = await readAll(
		[systems.source, ...systems.others].map(
			async (system) => await readRange(ctx, system, keyRange, p.spec, stats),
		),
	);
	const checked =
		p.options.verifySource !== false
			? await currentSource(ctx, systems.source, src, p.spec, stats, sourceNow)
			: undefined;
	addRangeRecords(src, sourceNow, p.spec, p.source);
	const source = indexSource(src, p.source, p.spec);
	const others = indexOthers(systems.others, othersNow, p.spec);
	return {
		read: {
			systems: [source.system, ...others.systems],
			errors: [...refused, ...source.errors, ...others.errors],
		},
		byKey: false,
		summaryExtras: {
			transport: { ...stats },
			...(checked ? sourceCheckSummary(checked.found) : {}),
			range: keyRange.range,
		},
	};
}
