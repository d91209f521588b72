import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import {
	getPath,
	indexRecords,
	recordKey,
	type RecordData,
	SyncInputError,
	type IndexedSystem,
	type RecordSpec,
} from '../../shared/engine';

export interface SourceRecords {
	records: unknown[];
	/** Input item each record came from, and its label for errors. */
	origin: number[];
	labels: string[];
}

/** Flattens the source items into records, reading an array field when one is named. */
export function sourceRecords(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	recordsField: string,
	/**
	 * With Keys Field or a Key Range, an item may come without records (a change event naming
	 * keys, a partition request naming a range): no records field (or null) is none.
	 */
	recordsOptional = false,
): SourceRecords {
	const out: SourceRecords = { records: [], origin: [], labels: [] };
	items.forEach((item, i) => {
		if (!recordsField) {
			out.records.push(item.json);
			out.origin.push(i);
			out.labels.push(`item ${i}`);
			return;
		}
		const value = getPath(item.json, recordsField);
		if (recordsOptional && (value === undefined || value === null)) return;
		if (!Array.isArray(value)) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Item ${i}: field "${recordsField}" must be an array of records, got ${value === undefined ? 'nothing' : typeof value}`,
				{ itemIndex: i, description: `Field: ${recordsField}` },
			);
		}
		value.forEach((record, r) => {
			out.records.push(record);
			out.origin.push(i);
			out.labels.push(`item ${i} ${recordsField}[${r}]`);
		});
	});
	return out;
}

/** Each system's records, indexed by key, and the records refused on the way. */
export interface ReadSystems {
	systems: IndexedSystem[];
	errors: SyncInputError[];
}

/** The source records indexed by key; each refused record's error names the item it arrived in. */
export function indexSource(
	src: SourceRecords,
	source: string,
	spec: RecordSpec,
): { system: IndexedSystem; errors: SyncInputError[] } {
	const indexed = indexRecords(src.records, spec, {
		system: source,
		label: (i) => src.labels[i],
	});
	return {
		system: indexed.system,
		errors: indexed.errors.map(
			(e) => new SyncInputError(e.message, src.origin[e.itemIndex], e.field, e.system, 0, e.key),
		),
	};
}

/** A sent record's key; undefined for a record without one (or not an object), left to be reported. */
export function keyOfSent(record: unknown, keyFields: string[]): string | undefined {
	if (!record || typeof record !== 'object') return undefined;
	const key = recordKey(record as RecordData, keyFields);
	return typeof key === 'string' ? key : undefined;
}

/** The keys of the source records. */
export const keysOf = (src: SourceRecords, keyFields: string[]): Set<string | undefined> =>
	new Set(src.records.map((r) => keyOfSent(r, keyFields)));
