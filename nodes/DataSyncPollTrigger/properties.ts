import type { INodeProperties } from 'n8n-workflow';

import { keyFieldsProperty, strategyProperty } from '../DataSyncTrigger/parameters';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_MAX_CHANGES = 1000;

export const properties: INodeProperties[] = [
	{
		displayName:
			'For a system that cannot push its changes: each poll reads its change feed from where the last one stopped and starts one real-time sync of the changed keys. The first poll of an active workflow starts at the feed’s current end; Fetch Test Event reads one page from the stored position.',
		name: 'pollNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Systems',
		name: 'systems',
		type: 'string',
		default: 'system_a, system_b, system_c',
		required: true,
		placeholder: 'e.g. system_a, system_b, system_c',
		description:
			'Every system of this sync, comma-separated. Changes polled from the credential’s system are synced to the others.',
	},
	{
		displayName: 'Changes Path',
		name: 'changesPath',
		type: 'string',
		default: '/records/changes',
		description:
			'The change feed under the system’s base URL: GET ?since=&lt;seq&gt;&limit=&lt;n&gt; answers {changes: [{seq, key, op, origin, at, record}], last_seq, has_more}',
	},
	strategyProperty,
	keyFieldsProperty,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Page Size',
				name: 'pageSize',
				type: 'number',
				default: DEFAULT_PAGE_SIZE,
				typeOptions: { minValue: 1, maxValue: MAX_PAGE_SIZE },
				description: 'Changes asked for per request to the feed',
			},
			{
				displayName: 'Max Changes per Poll',
				name: 'maxRecords',
				type: 'number',
				default: DEFAULT_MAX_CHANGES,
				typeOptions: { minValue: 1 },
				description: 'Changes one poll reads at most; the next poll goes on from there',
			},
		],
	},
];
