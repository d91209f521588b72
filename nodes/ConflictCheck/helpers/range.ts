import { NodeOperationError, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import {
	recordKey,
	SyncInputError,
	type KeyRange,
	type RecordData,
	type RecordSpec,
} from '../../shared/engine';
import { keyOfSent, keysOf, type SourceRecords } from './source';

/** The most keys one system may hold in a checked range, unless Max Keys per Range says otherwise. */
export const DEFAULT_MAX_RANGE_KEYS = 50000;

/** A key range to check, and how many keys a system may hold in it. */
export interface KeyRangeRead {
	range: KeyRange;
	maxKeys: number;
}

const rangeOnly = { show: { systemsFrom: ['http'], readBy: ['range'] } };

/** Read Records > Key Range: the range's bounds and the bound on its size. */
export const keyRangeProperties: INodeProperties[] = [
	{
		displayName: 'Keys From',
		name: 'keysFrom',
		type: 'string',
		default: '',
		placeholder: 'e.g. cust-0500',
		displayOptions: rangeOnly,
		description:
			'First key of the range (inclusive), in the systems’ key order (UTF-8 bytes). Empty: from the first key.',
		hint: 'Records on the input outside the range are refused as bad input. Set Keys to Check to Every Key on Any System to reconcile every key in the range.',
	},
	{
		displayName: 'Keys To',
		name: 'keysTo',
		type: 'string',
		default: '',
		placeholder: 'e.g. cust-1000',
		displayOptions: rangeOnly,
		description:
			'The key the range ends before (exclusive). Empty: to the last key. One range’s Keys To is the next range’s Keys From.',
	},
	{
		displayName: 'Max Keys per Range',
		name: 'maxRangeKeys',
		type: 'number',
		default: DEFAULT_MAX_RANGE_KEYS,
		typeOptions: { minValue: 1 },
		displayOptions: rangeOnly,
		description:
			'Most keys (tombstones included) any one system may hold in the range. Past it the node stops before anything is written: cut the range smaller.',
	},
];

/** Key order as the systems list keys: UTF-8 bytes. */
const compareKeys = (a: string, b: string) =>
	Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export const inRange = (key: string, { from, to }: KeyRange) =>
	(from === null || compareKeys(key, from) >= 0) && (to === null || compareKeys(key, to) < 0);

/** The range in words: `"a" <= key < "m"`, an open end left out. */
export function describeRange({ from, to }: KeyRange): string {
	if (from === null && to === null) return 'every key';
	const lower = from === null ? '' : `${JSON.stringify(from)} <= `;
	const upper = to === null ? '' : ` < ${JSON.stringify(to)}`;
	return `${lower}key${upper}`;
}

function bound(ctx: IExecuteFunctions, name: string, label: string): string | null {
	const value = ctx.getNodeParameter(name, 0, '') as unknown;
	if (value === undefined || value === null || value === '') return null;
	if (typeof value === 'string' || typeof value === 'number') return String(value);
	throw new NodeOperationError(ctx.getNode(), `${label} must be a key, got ${typeof value}`, {
		description: `Field: ${name}. Leave it empty for an open end.`,
	});
}

/** Read Records > Key Range: the range and its bound, checked; undefined under any other reading. */
export function readKeyRange(ctx: IExecuteFunctions, spec: RecordSpec): KeyRangeRead | undefined {
	if (ctx.getNodeParameter('readBy', 0, 'auto') !== 'range') return undefined;
	if (spec.keyFields.length !== 1) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Read Records: Key Range needs one key field, not ${spec.keyFields.length} (${spec.keyFields.join(', ')})`,
			{ description: 'The systems list a range of their own key: name that field in Key Fields.' },
		);
	}
	const range = { from: bound(ctx, 'keysFrom', 'Keys From'), to: bound(ctx, 'keysTo', 'Keys To') };
	if (range.from !== null && range.to !== null && compareKeys(range.from, range.to) >= 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Keys From (${JSON.stringify(range.from)}) must sort before Keys To (${JSON.stringify(range.to)})`,
			{ description: 'Field: keysFrom. Keys sort by their UTF-8 bytes, as the systems list them.' },
		);
	}
	const maxKeys = Number(ctx.getNodeParameter('maxRangeKeys', 0, DEFAULT_MAX_RANGE_KEYS));
	if (!Number.isInteger(maxKeys) || maxKeys < 1) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Max Keys per Range must be a whole number of at least 1, not ${maxKeys}`,
		);
	}
	return { range, maxKeys };
}

/**
 * A record sent on the input outside the range is refused, as any bad record is: it names the
 * item and the key, and leaves the source records (this range's execution must not touch a key
 * another range's execution owns).
 */
export function refuseOutOfRange(
	src: SourceRecords,
	range: KeyRange,
	spec: RecordSpec,
	system: string,
): SyncInputError[] {
	const refused: SyncInputError[] = [];
	const keep = src.records.map((r, i) => {
		const key = keyOfSent(r, spec.keyFields);
		if (key === undefined || inRange(key, range)) return true;
		const message = `${system}: ${src.labels[i]}: key ${JSON.stringify(key)} is outside the Key Range (${describeRange(range)})`;
		refused.push(new SyncInputError(message, src.origin[i], spec.keyFields[0], system, 0, key));
		return false;
	});
	if (refused.length === 0) return refused;
	src.records = src.records.filter((_, i) => keep[i]);
	src.origin = src.origin.filter((_, i) => keep[i]);
	src.labels = src.labels.filter((_, i) => keep[i]);
	return refused;
}

/**
 * The source system's records in the range join the records sent on the input, each paired with
 * the first input item; a key sent on the input keeps the record sent (or its re-read).
 */
export function addRangeRecords(
	src: SourceRecords,
	records: RecordData[],
	spec: RecordSpec,
	system: string,
): void {
	const sent = keysOf(src, spec.keyFields);
	records.forEach((record, i) => {
		const key = recordKey(record, spec.keyFields);
		if (typeof key === 'string' && sent.has(key)) return;
		src.records.push(record);
		src.origin.push(0);
		src.labels.push(`record ${i} of ${system} in the Key Range`);
	});
}
