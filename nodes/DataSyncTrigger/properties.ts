import type { INodeProperties } from 'n8n-workflow';

import { keyFieldsProperty, maxRecordsOption, strategyProperty } from './parameters';

export const properties: INodeProperties[] = [
	{
		displayName:
			'POST a sync request ({"sync_data": [records], "source_system", "target_systems", "sync_type", "strategy", "scope"}; for one partition of a larger sync, "key_range": {"from", "to"} in place of sync_data) or a change event ({"type": "changes", "system", "changes": [...], "records"}) to this URL, signed as the Data Sync Webhook credential says. Bad requests are answered 400 with every reason and start nothing.',
		name: 'requestNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Path',
		name: 'path',
		type: 'string',
		default: 'data-sync',
		required: true,
		placeholder: 'data-sync',
		description: 'The webhook path: requests go to &lt;n8n URL&gt;/webhook/&lt;path&gt;',
	},
	{
		displayName: 'Respond',
		name: 'responseMode',
		type: 'options',
		default: 'onReceived',
		options: [
			{
				name: 'Immediately',
				value: 'onReceived',
				description: 'Answer 202 with the sync ID as soon as the request is accepted',
			},
			{
				name: 'When Last Node Finishes',
				value: 'lastNode',
				description:
					'Answer when the workflow has run, with the items of the last node that runs (a JSON array)',
			},
			{
				name: "Using 'Respond to Webhook' Node",
				value: 'responseNode',
				description: 'Answer from a Respond to Webhook node',
			},
		],
	},
	{
		displayName:
			'Use Respond to Webhook version 1 here: its later versions refuse to answer for any trigger but n8n’s own Webhook, Form and Chat triggers ("No Webhook node found in the workflow").',
		name: 'respondNotice',
		type: 'notice',
		default: '',
		displayOptions: { show: { responseMode: ['responseNode'] } },
	},
	{
		displayName: 'Source System',
		name: 'sourceSystem',
		type: 'string',
		default: 'system_a',
		placeholder: 'e.g. system_a',
		description:
			'The source of a sync request that names none (source_system). A change event’s source is the system that sent it.',
	},
	{
		displayName: 'Target Systems',
		name: 'targetSystems',
		type: 'string',
		default: 'system_b, system_c',
		placeholder: 'e.g. system_b, system_c',
		description:
			'The targets of a sync request that names none (target_systems), comma-separated. With the source system they are every system a change event may come from; its sync goes to the others.',
	},
	{
		displayName: 'Sync Type',
		name: 'syncType',
		type: 'options',
		default: 'bidirectional',
		description:
			'The sync type of a request that names none (sync_type). A change event always starts a real-time sync.',
		options: [
			{ name: 'Bidirectional', value: 'bidirectional' },
			{ name: 'One-Way', value: 'one_way' },
			{ name: 'Real-Time', value: 'real_time' },
		],
	},
	strategyProperty,
	{
		displayName: 'Scope',
		name: 'scope',
		type: 'options',
		default: 'source',
		description:
			'The scope of a request that names none (scope). A change event syncs the keys it names.',
		options: [
			{
				name: 'Keys in the Source Records',
				value: 'source',
				description: 'Check the keys of the records sent',
			},
			{
				name: 'Every Key on Any System',
				value: 'all',
				description: 'A full reconciliation: keys only the targets hold come back to the source',
			},
		],
	},
	keyFieldsProperty,
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [maxRecordsOption],
	},
];
