import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	FIELD_RULES,
	ResolveError,
	resolveKey,
	SECONDARY_RULES,
	STRATEGIES,
	type CheckedKey,
	type FieldRule,
	type ResolveOptions,
	type SecondaryRule,
	type Strategy,
} from '../shared/engine';
import { splitList } from '../shared/params';

const REQUIRED_FIELDS = [
	'key',
	'kind',
	'sourceSystem',
	'systems',
	'states',
	'records',
	'deleted',
	'updatedAt',
	'ignoredFields',
];

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

function readOptions(ctx: IExecuteFunctions, i: number): ResolveOptions {
	const rules =
		(ctx.getNodeParameter('fieldRules.rule', i, []) as Array<{ field: string; rule: string }>) ??
		[];
	const fieldRules: Record<string, FieldRule> = {};
	for (const { field, rule } of rules) {
		if (!field?.trim()) continue;
		fieldRules[field.trim()] = oneOf(ctx, rule, FIELD_RULES, `field rule for "${field}"`, i);
	}
	return {
		strategy: oneOf<Strategy>(ctx, ctx.getNodeParameter('strategy', i), STRATEGIES, 'strategy', i),
		secondary: oneOf<SecondaryRule>(
			ctx,
			ctx.getNodeParameter('secondaryRule', i, 'lastWriterWins'),
			SECONDARY_RULES,
			'secondaryRule',
			i,
		),
		priority: splitList(ctx.getNodeParameter('priority', i, '')),
		fieldRules,
	};
}

function asCheckedKey(ctx: IExecuteFunctions, json: IDataObject, i: number): CheckedKey {
	const missing = REQUIRED_FIELDS.find((f) => json[f] === undefined);
	if (missing) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Item ${i} is not a Conflict Check result: field "${missing}" is missing`,
			{
				itemIndex: i,
				description: `Field: ${missing}. Connect the Conflicts or Changes output of a Conflict Check node.`,
			},
		);
	}
	return json as unknown as CheckedKey;
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resolved: INodeExecutionData[] = [];
	const review: INodeExecutionData[] = [];
	for (let i = 0; i < items.length; i++) {
		try {
			const input = asCheckedKey(this, items[i].json, i);
			const options = readOptions(this, i);
			const result = resolveKey(input, options);
			if (result.review) {
				review.push({
					json: { ...items[i].json },
					pairedItem: { item: i },
				});
				continue;
			}
			resolved.push({
				json: {
					...items[i].json,
					resolved: result.record as IDataObject | null,
					resolvedDeleted: result.deleted,
					audit: result.audit as unknown as IDataObject,
				},
				pairedItem: { item: i },
			});
		} catch (error) {
			const nodeError =
				error instanceof NodeOperationError
					? error
					: new NodeOperationError(this.getNode(), `Item ${i}: ${(error as Error).message}`, {
							itemIndex: i,
							description: error instanceof ResolveError ? `Field: ${error.field}` : undefined,
						});
			if (!this.continueOnFail()) throw nodeError;
			// Only error/details in json: n8n then merges the paired input item into the error item.
			resolved.push({
				json: { error: nodeError.message, details: { description: nodeError.description ?? null } },
				pairedItem: { item: i },
			});
		}
	}
	return [resolved, review];
}
