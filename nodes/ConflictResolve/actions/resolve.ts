import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import {
	CHECKED_KEY,
	resolveKey,
	type CheckedKey,
	type Resolution,
	type ResolvedKey,
} from '../../shared/engine';
import { failedItem, itemError, itemJson, readItem, setAsideReason } from '../../shared/errors';
import {
	CLEAN_CHANGE_OPTIONS,
	readOptions,
	strategyReaders,
	type StrategyReaders,
} from '../options';

/** Resolve's parameters: how a conflict becomes one record. */
export const description: INodeProperties[] = [
	{
		displayName: 'Strategy',
		name: 'strategy',
		type: 'options',
		default: 'lastWriterWins',
		description:
			'How a conflict becomes one record. With base values, edits made on one side only are always kept and the strategy decides the fields changed to different values; without them, the whole record. Set it from the data with an expression (lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview) to choose per run.',
		options: [
			{
				name: 'Field-Level Merge',
				value: 'fieldMerge',
				description:
					'Merge changes made on one side only; decide conflicting fields by the secondary rule',
			},
			{
				name: 'Last Writer Wins',
				value: 'lastWriterWins',
				description: 'Latest updated-at wins; ties broken by priority, then source, then name',
			},
			{
				name: 'Manual Review',
				value: 'manualReview',
				description: 'Send every conflict to the Needs Review output untouched',
			},
			{ name: 'Source Wins', value: 'sourceWins', description: 'The source system’s record wins' },
			{
				name: 'System Priority',
				value: 'systemPriority',
				description: 'The first system in the priority list that changed the record wins',
			},
		],
	},
	{
		displayName: 'Secondary Rule',
		name: 'secondaryRule',
		type: 'options',
		default: 'lastWriterWins',
		description:
			'Decides conflicting fields in a field-level merge, and any conflict the strategy cannot decide (source has no record, no listed system changed it)',
		options: [
			{
				name: 'Last Writer Wins',
				value: 'lastWriterWins',
				description: 'Latest updated-at wins; ties broken by priority, then source, then name',
			},
			{ name: 'Source Wins', value: 'sourceWins', description: 'The source system’s record wins' },
			{
				name: 'System Priority',
				value: 'systemPriority',
				description: 'The first system in the priority list that changed the record wins',
			},
		],
	},
	{
		displayName: 'System Priority',
		name: 'priority',
		type: 'string',
		default: '',
		placeholder: 'e.g. system_a, system_b, system_c',
		description:
			'Comma-separated system names, highest priority first. Used by System Priority, and to break updated-at ties.',
	},
	{
		displayName: 'Field Rules',
		name: 'fieldRules',
		type: 'fixedCollection',
		placeholder: 'Add Field Rule',
		default: {},
		typeOptions: { multipleValues: true },
		description: 'Rules for single fields where systems disagree; they apply under every strategy',
		options: [
			{
				displayName: 'Rule',
				name: 'rule',
				values: [
					{
						displayName: 'Field',
						name: 'field',
						type: 'string',
						default: '',
						placeholder: 'e.g. balance',
					},
					{
						displayName: 'Rule',
						name: 'rule',
						type: 'options',
						default: 'max',
						options: [
							{
								name: 'Array Union',
								value: 'arrayUnion',
								description: 'Union of every system’s items, base first',
							},
							{
								name: 'Counter Merge',
								value: 'counter',
								description: 'Base plus every system’s delta, so concurrent increments all count',
							},
							{
								name: 'Last Writer Wins',
								value: 'lastWriterWins',
								description: 'The latest updated-at wins this field',
							},
							{ name: 'Maximum', value: 'max' },
							{ name: 'Minimum', value: 'min' },
							{
								name: 'Prefer Non-Empty',
								value: 'preferNonEmpty',
								description: 'The winning record’s value unless it is empty',
							},
							{ name: 'Source Wins', value: 'sourceWins', description: 'The source’s value wins' },
							{
								name: 'System Priority',
								value: 'systemPriority',
								description: 'The highest-priority system’s value wins',
							},
						],
					},
				],
			},
		],
	},
];

/** What resolvedItem writes itself; every other field of the check follows as it came. */
const RESOLVED_HEAD: ReadonlySet<string> = new Set([
	'key',
	'kind',
	'conflictType',
	'reason',
	'resolved',
	'resolvedDeleted',
	'audit',
]);

/**
 * The verdict first, then the resolution and its audit, then the rest of the check's detail
 * (an earlier resolution it carried is replaced). Built field by field: no copies, no deletes.
 */
function resolvedItem(
	checked: CheckedKey,
	result: Extract<Resolution, { review: false }>,
): ResolvedKey {
	const out = { key: checked.key, kind: checked.kind } as ResolvedKey;
	if (checked.conflictType) out.conflictType = checked.conflictType;
	out.reason = checked.reason;
	out.resolved = result.record;
	out.resolvedDeleted = result.deleted;
	out.audit = result.audit;
	const detail = out as unknown as Record<string, unknown>;
	for (const field of Object.keys(checked))
		if (!RESOLVED_HEAD.has(field)) detail[field] = (checked as unknown as IDataObject)[field];
	return out;
}

/** Which input an item came on, its index there, and how errors name it. */
interface Place {
	input: number;
	i: number;
	where: string;
}

/** One check item resolved, or (manual review) passed on untouched for review. */
function resolveItem(
	ctx: IExecuteFunctions,
	json: IDataObject,
	at: Place,
	read: StrategyReaders,
): { review: boolean; json: IDataObject } {
	const checked = readItem(ctx, CHECKED_KEY, json, at.i);
	if (checked.kind === 'conflict' && at.input !== 0) {
		throw new NodeOperationError(ctx.getNode(), `${at.where} is a conflict on the Changes input`, {
			itemIndex: at.i,
			description: 'Field: kind. Connect Conflict Check’s Conflicts output to the first input.',
		});
	}
	// Parameters (and their expressions) are read per conflict item, on the first input.
	const options = checked.kind === 'conflict' ? readOptions(ctx, at.i, read) : CLEAN_CHANGE_OPTIONS;
	const result = resolveKey(checked, options);
	if (result.review) return { review: true, json: { ...json } };
	return { review: false, json: itemJson(resolvedItem(checked, result)) };
}

/**
 * Resolve: each conflict (input 1) by the strategy, each clean change (input 2, optional, so one
 * run sees the whole sync) to its proposal or, for edits to different fields, their field-wise
 * merge, every one with an audit; manual review sends conflicts on untouched.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const [resolved, review]: INodeExecutionData[][] = [[], []];
	const read = strategyReaders(this);
	const inputs = [this.getInputData(0) ?? [], this.getInputData(1) ?? []];
	for (const [input, items] of inputs.entries()) {
		for (let i = 0; i < items.length; i++) {
			const pairedItem = input === 0 ? { item: i } : { item: i, input };
			const at = { input, i, where: input === 0 ? `Item ${i}` : `Changes item ${i}` };
			const { json } = items[i];
			// An item Conflict Check set aside (Continue, regular output) goes on with its reason.
			if (setAsideReason(json) !== undefined) {
				resolved.push({ json, pairedItem });
				continue;
			}
			try {
				const out = resolveItem(this, json, at, read);
				(out.review ? review : resolved).push({ json: out.json, pairedItem });
			} catch (error) {
				const nodeError = itemError(this, error, i, at.where);
				if (!this.continueOnFail()) throw nodeError;
				resolved.push(failedItem(nodeError, pairedItem));
			}
		}
	}
	return [resolved, review];
}
