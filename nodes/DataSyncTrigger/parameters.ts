import { NodeOperationError, type INode, type INodeProperties } from 'n8n-workflow';

import {
	DEFAULT_MAX_RECORDS,
	STRATEGIES,
	SYNC_SCOPES,
	SYNC_TYPES,
	type Strategy,
	type SyncScope,
	type SyncType,
	type TriggerSettings,
} from '../shared/engine';
import { recordSpecProperties } from '../shared/parameters/descriptions';
import { splitList } from '../shared/parameters/read';

/**
 * Parameters both triggers show: how a started sync resolves conflicts and how records are
 * keyed. Defined once here; the Data Sync Poll Trigger imports them.
 */
export const strategyProperty: INodeProperties = {
	displayName: 'Strategy',
	name: 'strategy',
	type: 'options',
	default: 'lastWriterWins',
	description:
		'How Conflict Resolve settles a conflict, unless the request names a strategy. Every started sync carries it.',
	options: [
		{ name: 'Field-Level Merge', value: 'fieldMerge' },
		{ name: 'Last Writer Wins', value: 'lastWriterWins' },
		{ name: 'Manual Review', value: 'manualReview' },
		{ name: 'Source Wins', value: 'sourceWins' },
		{ name: 'System Priority', value: 'systemPriority' },
	],
};

const keyFields = recordSpecProperties.find((p) => p.name === 'keyFields');
export const keyFieldsProperty: INodeProperties = {
	...(keyFields as INodeProperties),
	description:
		'Field that identifies a record on every system (several separated by commas for a composite key). Each record a request or a change carries must have it.',
};

export const maxRecordsOption: INodeProperties = {
	displayName: 'Max Records per Request',
	name: 'maxRecords',
	type: 'number',
	default: DEFAULT_MAX_RECORDS,
	typeOptions: { minValue: 1 },
	description: 'A request with more records (or changes) than this is refused with 400',
};

/** A node parameter as n8n gives it: `getNodeParameter(name, fallback)` of either trigger. */
export type ParameterReader = (name: string, fallback: unknown) => unknown;

function oneOf<T extends string>(
	node: INode,
	read: ParameterReader,
	name: string,
	allowed: readonly T[],
	fallback: T,
): T {
	const value = read(name, fallback);
	if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
		return value as T;
	throw new NodeOperationError(node, `Parameter "${name}" is ${JSON.stringify(value)}`, {
		description: `Use one of: ${allowed.join(', ')}.`,
	});
}

/**
 * The settings a trigger checks requests against. `source` and `targets` are what a request that
 * names no systems gets; together they are every system a change event may come from.
 */
export function readTriggerSettings(
	node: INode,
	read: ParameterReader,
	source: string,
	targets: string[],
): TriggerSettings {
	const options = (read('options', {}) ?? {}) as { maxRecords?: unknown };
	const keys = splitList(read('keyFields', 'id'));
	if (keys.length === 0)
		throw new NodeOperationError(node, 'Parameter "Key Fields" is empty', {
			description: 'Name the field that identifies a record, such as id.',
		});
	const maxRecords = Number(options.maxRecords ?? DEFAULT_MAX_RECORDS);
	return {
		sourceSystem: source,
		targetSystems: targets.filter((t) => t !== source),
		syncType: oneOf<SyncType>(node, read, 'syncType', SYNC_TYPES, 'bidirectional'),
		strategy: oneOf<Strategy>(node, read, 'strategy', STRATEGIES, 'lastWriterWins'),
		scope: oneOf<SyncScope>(node, read, 'scope', SYNC_SCOPES, 'source'),
		keyFields: keys,
		maxRecords: Number.isFinite(maxRecords) && maxRecords > 0 ? maxRecords : DEFAULT_MAX_RECORDS,
	};
}
