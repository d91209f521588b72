import { NodeOperationError, type IExecuteFunctions } from 'n8n-workflow';

import {
	FIELD_RULES,
	SECONDARY_RULES,
	STRATEGIES,
	type FieldRule,
	type ResolveOptions,
	type SecondaryRule,
	type Strategy,
} from '../shared/engine';
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

/** The strategy parameters, each read once per run unless its expression depends on the item. */
export interface StrategyReaders {
	strategy: Reader;
	secondary: Reader;
	priority: Reader;
	rules: Reader;
}

export function strategyReaders(ctx: IExecuteFunctions): StrategyReaders {
	return {
		strategy: perRunParameter(ctx, 'strategy', 'lastWriterWins'),
		secondary: perRunParameter(ctx, 'secondaryRule', 'lastWriterWins'),
		priority: perRunParameter(ctx, 'priority', ''),
		rules: perRunParameter(ctx, 'fieldRules.rule', []),
	};
}

/** How item i is to be resolved, from the parameters; an unknown name names item and field. */
export function readOptions(
	ctx: IExecuteFunctions,
	i: number,
	read: StrategyReaders,
): ResolveOptions {
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

/**
 * A clean change resolves to its proposal (or the field-wise merge) whatever the strategy: no
 * parameter is read for it.
 */
export const CLEAN_CHANGE_OPTIONS: ResolveOptions = {
	strategy: 'lastWriterWins',
	secondary: 'lastWriterWins',
	priority: [],
	fieldRules: {},
};
