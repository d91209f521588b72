import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	baseIsStale,
	checkConflicts,
	ignoredFields,
	newSyncId,
	parseTimestamp,
} from '../../shared/engine';
import { errorItem, toNodeError } from '../../shared/errors';
import { loadBase } from './base';
import {
	heldAmongCheckedKeys,
	keyItems,
	summaryItem,
	type PairOther,
	type SummaryExtras,
} from './items';
import type { CheckParameters, Scope } from './parameters';
import type { ReadSystems, SourceRecords } from './source';

/** What a mode has read, and how its items pair: all the rest of the check is the same. */
export interface ModeRead {
	started: number;
	parameters: CheckParameters;
	scope: Scope;
	/** How many items arrived on the source input. */
	sourceItems: number;
	src: SourceRecords;
	/** The source first, then the others; with every record refused on the way. */
	read: ReadSystems;
	/** The input the Base arrives on (Base Input). */
	baseInput: number;
	pairOther: PairOther;
	/** Other systems read by the source keys only: what else they hold is not known. */
	byKey: boolean;
	summaryExtras: SummaryExtras;
}

/**
 * A key with a rejected record anywhere is held back: checking it without that record would
 * read the system as missing and overwrite it.
 */
function holdBackRejectedKeys({ systems, errors }: ReadSystems): void {
	const rejected = new Set(errors.map((e) => e.key).filter((k): k is string => k !== undefined));
	if (rejected.size === 0) return;
	for (const key of rejected) for (const s of systems) s.records.delete(key);
	for (const s of systems) s.order = s.order.filter((k) => s.records.has(k));
}

function readWatermark(ctx: IExecuteFunctions, options: IDataObject): number | undefined {
	try {
		return parseTimestamp(options.watermark || undefined);
	} catch (error) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Option "Last Sync Watermark": ${(error as Error).message}`,
		);
	}
}

function hintNotChecked(ctx: IExecuteFunctions, notChecked: { count: number; sample: string[] }) {
	ctx.addExecutionHints({
		message: `${notChecked.count} key(s) that only other systems hold were not checked (e.g. ${notChecked.sample.slice(0, 3).join(', ')}): set Keys to Check to Every Key on Any System to bring them over.`,
		location: 'outputPane',
	});
}

/**
 * The check itself, the same in both modes: bad records stop the node or go aside, the base is
 * loaded, the engine classifies every key, and the outputs are Conflicts, Changes and Summary.
 */
export function finishCheck(ctx: IExecuteFunctions, run: ModeRead): INodeExecutionData[][] {
	const { parameters: p, read } = run;
	const { options } = p;
	const { errors, systems } = read;
	if (errors.length > 0 && !ctx.continueOnFail())
		throw toNodeError(ctx, errors[0], errors.length - 1);
	// An all-or-nothing input (a webhook payload): one bad record rejects every record in it.
	if (errors.length > 0 && options.rejectAll) return [errors.map(errorItem), [], []];
	holdBackRejectedKeys(read);
	const loaded = loadBase(ctx, p.baseSource, run.baseInput, options);
	const watermark = readWatermark(ctx, options);
	const ignored = ignoredFields(p.spec);
	const result = checkConflicts({
		systems,
		base: loaded.base,
		watermark,
		scope: run.scope,
		ignored,
		missingMeansDeleted: Boolean(options.missingMeansDeleted),
		// In-sync keys the base already holds go on only when asked for: no check object for them.
		keepInSync: Boolean(options.includeInSync),
	});
	const syncId = String(options.syncId || '') || newSyncId();
	const held = heldAmongCheckedKeys(p.systemNames, result);
	const { conflicts, changes } = keyItems(result, {
		syncId,
		systems,
		spec: p.spec,
		ignored,
		sourceOrigin: run.src.origin,
		pairOther: run.pairOther,
		heldAmongCheckedKeys: held,
		// A key every system agrees on still goes on when the base does not know that state yet
		// (the first sync, or a base another run lost), so Sync Validate can commit it.
		emit: (check) =>
			check.kind !== 'in_sync' ||
			Boolean(options.includeInSync) ||
			(loaded.keepsBase && baseIsStale(check)),
	});
	const summary = summaryItem(
		p,
		{
			started: run.started,
			syncId,
			scope: run.scope,
			base: loaded,
			watermark,
			result,
			rejected: errors.length,
			heldAmongCheckedKeys: held,
			byKey: run.byKey,
			extras: run.summaryExtras,
		},
		run.sourceItems,
	);
	if (!run.byKey && result.notChecked.count > 0) hintNotChecked(ctx, result.notChecked);
	conflicts.push(...errors.map(errorItem));
	return [conflicts, changes, [summary]];
}
