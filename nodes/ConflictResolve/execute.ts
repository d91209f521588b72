import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	CHECKED_KEY,
	FIELD_RULES,
	ResolveError,
	resolveKey,
	SECONDARY_RULES,
	STRATEGIES,
	type FieldRule,
	type ResolveOptions,
	type SecondaryRule,
	type Strategy,
} from '../shared/engine';
import { readItem, setAsideReason } from '../shared/errors';
import { perRunParameter, splitList } from '../shared/parameters/read';

function oneOf<T extends string>(
	ctx: IExecuteFunctions,
	value: unknown,
	allowed: readonly T[],
	field: string,
	itemIndex: number,
): T {
	if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
		return value as T;
	throw new NodeOperationError(
		ctx.getNode(),
		`Item ${itemIndex}: unknown ${field} "${String(value)}"`,
		{
			itemIndex,
			description: `Field: ${field}. Use one of: ${allowed.join(', ')}`,
		},
	);
}

type Reader = (itemIndex: number) => unknown;
interface Readers {
	strategy: Reader;
	secondary: Reader;
	priority: Reader;
	rules: Reader;
}

function readOptions(ctx: IExecuteFunctions, i: number, read: Readers): ResolveOptions {
	const rules = (read.rules(i) as Array<{ field: string; rule: string }>) ?? [];
	const fieldRules: Record<string, FieldRule> = {};
	for (const { field, rule } of rules) {
		if (!field?.trim()) continue;
		fieldRules[field.trim()] = oneOf(ctx, rule, FIELD_RULES, `field rule for "${field}"`, i);
	}
	return {
		strategy: oneOf<Strategy>(ctx, read.strategy(i), STRATEGIES, 'strategy', i),
		secondary: oneOf<SecondaryRule>(ctx, read.secondary(i), SECONDARY_RULES, 'secondaryRule', i),
		priority: splitList(read.priority(i)),
		fieldRules,
	};
}

/** Fields a resolved item starts with; the rest of the check item follows them. */
const LEADING_FIELDS = new Set([
	'key',
	'kind',
	'conflictType',
	'reason',
	'resolved',
	'resolvedDeleted',
	'audit',
]);

/** A clean change resolves to its proposal whatever the strategy: no parameter is read for it. */
const CLEAN_CHANGE_OPTIONS: ResolveOptions = {
	strategy: 'lastWriterWins',
	secondary: 'lastWriterWins',
	priority: [],
	fieldRules: {},
};

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const resolved: INodeExecutionData[] = [];
	const review: INodeExecutionData[] = [];
	const read: Readers = {
		strategy: perRunParameter(this, 'strategy', 'lastWriterWins'),
		secondary: perRunParameter(this, 'secondaryRule', 'lastWriterWins'),
		priority: perRunParameter(this, 'priority', ''),
		rules: perRunParameter(this, 'fieldRules.rule', []),
	};
	// Input 1: conflicts; input 2 (optional): clean changes, so one run sees the whole sync.
	const inputs = [this.getInputData(0) ?? [], this.getInputData(1) ?? []];
	for (const [input, items] of inputs.entries()) {
		for (let i = 0; i < items.length; i++) {
			const pairedItem = input === 0 ? { item: i } : { item: i, input };
			const where = input === 0 ? `Item ${i}` : `Changes item ${i}`;
			// An item Conflict Check set aside (Continue, regular output) goes on with its reason.
			if (setAsideReason(items[i].json) !== undefined) {
				resolved.push({ json: items[i].json, pairedItem });
				continue;
			}
			try {
				const checked = readItem(this, CHECKED_KEY, items[i].json, i);
				// Parameters (and their expressions) are read per conflict item, on the first input.
				const options =
					checked.kind === 'conflict' && input === 0
						? readOptions(this, i, read)
						: CLEAN_CHANGE_OPTIONS;
				if (checked.kind === 'conflict' && input !== 0) {
					throw new NodeOperationError(
						this.getNode(),
						`${where} is a conflict on the Changes input`,
						{
							itemIndex: i,
							description:
								'Field: kind. Connect Conflict Check’s Conflicts output to the first input.',
						},
					);
				}
				const result = resolveKey(checked, options);
				if (result.review) {
					review.push({ json: { ...items[i].json }, pairedItem });
					continue;
				}
				// The verdict first, then the resolution and its audit, then the check's detail; a
				// resolution already on the item (a re-run) is replaced, never kept beside the new one.
				const { key, kind, conflictType, reason } = items[i].json;
				const detail = Object.fromEntries(
					Object.entries(items[i].json).filter(([field]) => !LEADING_FIELDS.has(field)),
				);
				resolved.push({
					json: {
						key,
						kind,
						...(conflictType ? { conflictType } : {}),
						reason,
						resolved: result.record as IDataObject | null,
						resolvedDeleted: result.deleted,
						audit: result.audit as unknown as IDataObject,
						...detail,
					},
					pairedItem,
				});
			} catch (error) {
				const nodeError =
					error instanceof NodeOperationError
						? error
						: new NodeOperationError(this.getNode(), `${where}: ${(error as Error).message}`, {
								itemIndex: i,
								description: error instanceof ResolveError ? `Field: ${error.field}` : undefined,
							});
				if (!this.continueOnFail()) throw nodeError;
				// Only error/details in json: n8n then merges the paired input item into the error item.
				resolved.push({
					json: {
						error: nodeError.message,
						details: { description: nodeError.description ?? null },
					},
					pairedItem,
				});
			}
		}
	}
	return [resolved, review];
}
