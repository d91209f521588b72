import type { INodeExecutionData, IPairedItemData } from 'n8n-workflow';

import {
	toCheckedKey,
	type Base,
	type CheckedKey,
	type CheckResult,
	type CheckSummary,
	type IndexedSystem,
	type KeyCheck,
	type RecordSpec,
} from '../../shared/engine';
import { itemJson } from '../../shared/errors';
import type { CheckParameters, Scope } from './parameters';

/** Pairs a key no source record holds with an item of the first other system holding it. */
export type PairOther = (input: number, itemIndex: number) => IPairedItemData;

/** What the key items need besides the check: who they are for and how to pair them. */
export interface KeyItemContext {
	syncId: string;
	/** Source first, then the others, as checked. */
	systems: IndexedSystem[];
	spec: RecordSpec;
	ignored: ReadonlySet<string>;
	/** The input item each source record came from. */
	sourceOrigin: number[];
	pairOther: PairOther;
	heldAmongCheckedKeys: Record<string, number>;
	emit: (check: KeyCheck) => boolean;
}

function pairKey(check: KeyCheck, ctx: KeyItemContext): IPairedItemData {
	const sourceRecord = check.records[ctx.systems[0].name];
	if (sourceRecord) return { item: ctx.sourceOrigin[sourceRecord.itemIndex] };
	const n = ctx.systems.findIndex((s) => check.records[s.name]);
	return ctx.pairOther(n, check.records[ctx.systems[n].name]!.itemIndex);
}

/** One item per key on the Conflicts or Changes output, each paired to the item it came from. */
export function keyItems(
	result: CheckResult,
	ctx: KeyItemContext,
): { conflicts: INodeExecutionData[]; changes: INodeExecutionData[] } {
	const names = ctx.systems.map((s) => s.name);
	const ignoredList = [...ctx.ignored].sort();
	const conflicts: INodeExecutionData[] = [];
	const changes: INodeExecutionData[] = [];
	for (const check of result.keys) {
		if (!ctx.emit(check)) continue;
		const checked: CheckedKey = toCheckedKey(check, names, ignoredList, ctx.spec);
		checked.heldAmongCheckedKeys = ctx.heldAmongCheckedKeys;
		checked.syncId = ctx.syncId;
		const item = { json: itemJson(checked), pairedItem: pairKey(check, ctx) };
		(check.kind === 'conflict' ? conflicts : changes).push(item);
	}
	return { conflicts, changes };
}

/**
 * Live records each system holds among the checked keys (not all it holds): the measure of the
 * mass-delete guard.
 */
export function heldAmongCheckedKeys(
	systemNames: string[],
	result: CheckResult,
): Record<string, number> {
	return Object.fromEntries(
		systemNames.map((name) => {
			const s = result.counts.states[name];
			return [name, s.unchanged + s.changed + s.created];
		}),
	);
}

/** What the mode adds to the summary: HTTP traffic, the source re-read, the key range checked. */
export type SummaryExtras = Pick<
	CheckSummary,
	'transport' | 'staleSourceRecords' | 'notAtSource' | 'range'
>;

export interface SummaryFacts {
	started: number;
	syncId: string;
	scope: Scope;
	base: { base?: Base; baseNote: string };
	watermark: number | undefined;
	result: CheckResult;
	rejected: number;
	heldAmongCheckedKeys: Record<string, number>;
	/** Other systems read by the source keys only: what else they hold is not known. */
	byKey: boolean;
	extras: SummaryExtras;
}

const isoOrNull = (ms: number | undefined) =>
	ms !== undefined ? new Date(ms).toISOString() : null;

/** The Summary output's one item, paired with every source item. */
export function summaryItem(
	p: CheckParameters,
	facts: SummaryFacts,
	sourceItems: number,
): INodeExecutionData {
	const { result } = facts;
	const { range, ...extras } = facts.extras;
	const summary: CheckSummary = {
		syncId: facts.syncId,
		sourceSystem: p.source,
		systems: p.systemNames,
		keyFields: p.spec.keyFields,
		scope: facts.scope,
		...(range ? { range } : {}),
		base: facts.base.baseNote,
		watermark: isoOrNull(facts.watermark ?? facts.base.base?.watermark),
		counts: { ...result.counts, rejected: facts.rejected },
		heldAmongCheckedKeys: facts.heldAmongCheckedKeys,
		notChecked: facts.byKey
			? {
					count: null,
					note: 'not known: the other systems were read by the source keys only (Read Records: By Key)',
				}
			: { ...result.notChecked },
		durationMs: Date.now() - facts.started,
		...extras,
		checkedAt: new Date(facts.started).toISOString(),
	};
	return {
		json: itemJson(summary),
		pairedItem: Array.from({ length: sourceItems }, (_, item) => ({ item })),
	};
}
