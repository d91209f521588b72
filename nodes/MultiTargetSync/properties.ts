import type { INodeParameters, INodeProperties } from 'n8n-workflow';

import { DEFAULT_CONCURRENCY } from '../shared/parameters/descriptions';
import * as dryRun from './actions/dryRun';
import * as planOnly from './actions/planOnly';
import * as write from './actions/write';

/** The canvas subtitle: "Write, bidirectional" (none while the sync type awaits data). */
export const describeRun = (parameters: INodeParameters) => {
	const modes: Record<string, string> = {
		write: 'Write',
		dryRun: 'Dry Run',
		planOnly: 'Plan Only',
	};
	const mode = String(parameters.writeMode);
	return `${modes[mode] ?? mode}, ${String(parameters.syncType ?? '')}`;
};
export const subtitle = `(${describeRun})($parameter)`;

export const properties: INodeProperties[] = [
	{
		displayName:
			'Feed it the Resolved output of Conflict Resolve. Each key is written only where a system does not already hold the resolved record.',
		name: 'inputsNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Write Mode',
		name: 'writeMode',
		type: 'options',
		noDataExpression: true,
		default: 'write',
		options: [
			{
				name: 'Dry Run',
				value: 'dryRun',
				description:
					'Output the full plan (writes, unchanged and skipped) without writing anything',
			},
			{
				name: 'Plan Only',
				value: 'planOnly',
				description: 'Output each planned write as an item, for writing with other n8n nodes',
			},
			{
				name: 'Write',
				value: 'write',
				description: 'Write every change to the systems over HTTP',
			},
		],
	},
	{
		displayName: 'Sync Type',
		name: 'syncType',
		type: 'options',
		default: 'bidirectional',
		description:
			'Whether the source system is written too where the resolution differs from it. Set it from the data with an expression (bidirectional, one_way, real_time) to choose per run.',
		options: [
			{
				name: 'Bidirectional',
				value: 'bidirectional',
				description: 'Every system, the source included, ends up holding the resolved record',
			},
			{
				name: 'One-Way',
				value: 'one_way',
				description: 'Only the targets are written; the source is never changed',
			},
			{
				name: 'Real-Time',
				value: 'real_time',
				description: 'As bidirectional, for syncs started by a change event',
			},
		],
	},
	{
		displayName: 'Target Systems',
		name: 'targetSystems',
		type: 'string',
		default: 'system_b, system_c',
		placeholder: 'e.g. system_b, system_c',
		description:
			'Systems that must hold the resolved records: comma-separated names, or an expression giving an array, such as the target_systems field of the payload',
	},
	...write.description,
	...dryRun.description,
	...planOnly.description,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Batch Size',
				name: 'batchSize',
				type: 'number',
				default: 100,
				typeOptions: { minValue: 1, maxValue: 500 },
				description: 'Records per request to a system’s batch endpoint',
			},
			{
				displayName: 'Concurrency per System',
				name: 'concurrency',
				type: 'number',
				default: DEFAULT_CONCURRENCY,
				typeOptions: { minValue: 1, maxValue: 32 },
				description: 'Requests in flight at once to one system',
			},
			{
				displayName: 'Guard From (Deletes)',
				name: 'guardFromDeletes',
				type: 'number',
				default: 10,
				typeOptions: { minValue: 1 },
				description:
					'The mass-delete guard applies once a sync would delete at least this many records on one system',
			},
			{
				displayName: 'Max Attempts',
				name: 'maxAttempts',
				type: 'number',
				default: 5,
				typeOptions: { minValue: 1, maxValue: 10 },
				description:
					'Tries per request on 429, 5xx, timeouts and connection resets, with exponential backoff and jitter; Retry-After is honoured',
			},
			{
				displayName: 'Max Delete Share (%)',
				name: 'maxDeleteShare',
				type: 'number',
				default: 50,
				typeOptions: { minValue: 0, maxValue: 100 },
				description:
					'A sync that would delete more than this share of a system’s records (among those it covers) stops before writing anything',
			},
			{
				displayName: 'Optimistic Concurrency',
				name: 'optimistic',
				type: 'boolean',
				default: true,
				description:
					'Whether to send If-Match with the version seen at the check, so a system that changed since is not overwritten: its key comes out as a conflict',
			},
			{
				displayName: 'Propagate Deletes',
				name: 'propagateDeletes',
				type: 'boolean',
				default: true,
				description:
					'Whether a resolved delete is written to the other systems as a delete (tombstone)',
			},
			{
				displayName: 'Request Timeout (Ms)',
				name: 'timeoutMs',
				type: 'number',
				default: 10000,
				typeOptions: { minValue: 100 },
			},
		],
	},
];
