import type { INodeProperties } from 'n8n-workflow';

import { recordSpecNotice } from '../shared/descriptions';
import { connectedSystemsProperty } from '../shared/systems';

export const properties: INodeProperties[] = [
	{
		displayName:
			'Input 1: the Results output of Multi Target Sync. Input 2 (optional): the Summary output of Conflict Check, so a sync with nothing to write still gets a report.',
		name: 'inputsNotice',
		type: 'notice',
		default: '',
	},
	recordSpecNotice,
	connectedSystemsProperty({}),
	{
		displayName: 'Commit Base To',
		name: 'baseTarget',
		type: 'options',
		noDataExpression: true,
		default: 'staticData',
		description:
			'Where keys that validate advance the base. Either way they also go out on the Base Updates output, to keep in a real store.',
		options: [
			{
				name: 'Workflow Static Data',
				value: 'staticData',
				description: 'Saved by n8n after production runs of an active workflow; bounded in size',
			},
			{
				name: 'Base Updates Output Only',
				value: 'output',
				description:
					'Write them with another node (a database) and feed them to Conflict Check’s Base input',
			},
		],
	},
	{
		displayName: 'Sync Name',
		name: 'syncName',
		type: 'string',
		default: 'default',
		noDataExpression: true,
		displayOptions: { show: { baseTarget: ['staticData'] } },
		description:
			'The same name as on Conflict Check: names this sync’s base in the workflow static data',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Concurrency per System',
				name: 'concurrency',
				type: 'number',
				default: 4,
				typeOptions: { minValue: 1, maxValue: 32 },
			},
			{
				displayName: 'Keep Base Values',
				name: 'keepValues',
				type: 'boolean',
				default: true,
				description:
					'Whether the base keeps each key’s field values (needed for field-level merge), not only its fingerprint',
			},
			{
				displayName: 'Max Attempts',
				name: 'maxAttempts',
				type: 'number',
				default: 5,
				typeOptions: { minValue: 1, maxValue: 10 },
			},
			{
				displayName: 'Max Base Keys',
				name: 'maxBaseKeys',
				type: 'number',
				default: 10000,
				typeOptions: { minValue: 1 },
				description:
					'Upper bound on keys kept in workflow static data; past it the node stops before committing',
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
