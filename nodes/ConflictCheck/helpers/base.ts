import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { DEFAULT_MAX_BASE_KEYS } from '../../shared/parameters/descriptions';
import { BASE_UPDATE, baseFromStored, parseTimestamp, type Base } from '../../shared/engine';
import { readItem } from '../../shared/errors';
import { baseSlot } from '../../shared/parameters/read';
import type { BaseSource } from './parameters';

/** A stored base or a watermark that cannot be read stops the node, saying it is the base. */
function aboutBase<T>(ctx: IExecuteFunctions, read: () => T): T {
	try {
		return read();
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Base: ${(error as Error).message}`);
	}
}

/** A table that keeps `values` as JSON text (a MariaDB JSON column) gives it back parsed. */
function valuesAsObject(json: IDataObject): IDataObject {
	if (typeof json.values !== 'string') return json;
	try {
		return { ...json, values: JSON.parse(json.values) as IDataObject };
	} catch {
		return json; // not JSON: the item check names the field
	}
}

/**
 * The Base input: one row per key ({key, fingerprint, values}, as Sync Validate's Base Updates),
 * a whole stored base ({v: 1, keys}), or a watermark row.
 */
function readBaseInput(ctx: IExecuteFunctions, items: INodeExecutionData[]): Base {
	const base: Base = { entries: new Map() };
	items.forEach(({ json }, i) => {
		// A lookup that found no row (a Data Table or database node with Always Output Data)
		// sends one empty item: no base entry, not a bad one.
		if (Object.keys(json).length === 0) return;
		if (json.v === 1 && typeof json.keys === 'object') {
			const stored = aboutBase(ctx, () => baseFromStored(json))!;
			for (const [k, e] of stored.entries) base.entries.set(k, e);
			base.watermark = stored.watermark ?? base.watermark;
			return;
		}
		if (json.watermark !== undefined && json.key === undefined) {
			base.watermark = aboutBase(ctx, () => parseTimestamp(json.watermark));
			return;
		}
		const row = readItem(ctx, BASE_UPDATE, valuesAsObject(json), i, `Base item ${i}`);
		base.entries.set(
			row.key,
			row.values
				? { fingerprint: row.fingerprint, values: row.values }
				: { fingerprint: row.fingerprint },
		);
	});
	return base;
}

export interface LoadedBase {
	base?: Base;
	/** Where the base came from, in words, for the summary. */
	baseNote: string;
	/** Whether this run has a base to keep (Sync Validate commits to it). */
	keepsBase: boolean;
}

const MANUAL_RUN_HINT =
	'Manual run: n8n keeps workflow static data only for production runs of an active workflow, so this run has no base and every difference between systems counts as a conflict. Activate the workflow, or feed a base on a Base input.';

/**
 * The base from where the parameters say, in words for the summary; no size check yet. A bad Base
 * input row is an error naming its item and field.
 */
function readBase(
	ctx: IExecuteFunctions,
	baseSource: BaseSource,
	baseInput: number,
	syncName: string,
): Omit<LoadedBase, 'keepsBase'> {
	const manual = ctx.getMode() === 'manual';
	if (baseSource === 'input') {
		const base = readBaseInput(ctx, ctx.getInputData(baseInput) ?? []);
		return { base, baseNote: `base input (${base.entries.size} keys)` };
	}
	if (baseSource === 'staticData' && !manual) {
		const stored = ctx.getWorkflowStaticData('global')[baseSlot(syncName)];
		const base = aboutBase(ctx, () => baseFromStored(stored));
		return {
			base,
			baseNote: base
				? `workflow static data "${syncName}" (${base.entries.size} keys)`
				: 'none yet (first sync)',
		};
	}
	if (baseSource === 'staticData') {
		ctx.addExecutionHints({ message: MANUAL_RUN_HINT, location: 'outputPane' });
		return {
			baseNote:
				'none: manual run (n8n saves static data only for production runs of an active workflow)',
		};
	}
	return { baseNote: 'none' };
}

/**
 * The base for this run: the Base input, the workflow static data (production runs only: n8n
 * keeps it for nothing else), or none; bounded in size in static data.
 */
export function loadBase(
	ctx: IExecuteFunctions,
	baseSource: BaseSource,
	baseInput: number,
	options: IDataObject,
): LoadedBase {
	const keepsBase =
		baseSource === 'input' || (baseSource === 'staticData' && ctx.getMode() !== 'manual');
	const syncName =
		baseSource === 'staticData' ? String(ctx.getNodeParameter('syncName', 0, 'default')) : '';
	const read = readBase(ctx, baseSource, baseInput, syncName);
	const maxBaseKeys = Number(options.maxBaseKeys ?? DEFAULT_MAX_BASE_KEYS);
	if (baseSource === 'staticData' && read.base && read.base.entries.size > maxBaseKeys) {
		throw new NodeOperationError(
			ctx.getNode(),
			`The base "${syncName}" holds ${read.base.entries.size} keys, over Max Base Keys (${maxBaseKeys})`,
			{
				description:
					'Keep the base in a real store (a database table) and feed it on the Base input instead.',
			},
		);
	}
	return { ...read, keepsBase };
}
