import type { INodeParameters, INodeProperties } from 'n8n-workflow';

import {
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_BASE_KEYS,
	recordSpecNotice,
	recordSpecProperties,
} from '../shared/descriptions';
import { connectedSystemsProperty } from '../shared/systems';

/** Sync results, the check summary, then (read back by other nodes) one input per system. */
export const configuredInputs = (parameters: INodeParameters) => {
	if (parameters.scope === 'allRecords')
		return [{ type: 'main', displayName: 'Trigger', required: true }];
	const inputs = [
		{ type: 'main', displayName: 'Sync Results', required: true },
		{ type: 'main', displayName: 'Check Summary', required: false },
	];
	if (parameters.readBackFrom !== 'inputs') return inputs;
	for (const name of String(parameters.readBackSystems ?? '').split(',')) {
		if (name.trim())
			inputs.push({ type: 'main', displayName: `${name.trim()} Now`, required: false });
	}
	return inputs;
};

const syncedKeysOnly = { show: { scope: ['syncedKeys'] } };
const allRecordsOnly = { show: { scope: ['allRecords'] } };

export const properties: INodeProperties[] = [
	{
		displayName: 'Validate',
		name: 'scope',
		type: 'options',
		noDataExpression: true,
		default: 'syncedKeys',
		options: [
			{
				name: 'Every Record on Every System',
				value: 'allRecords',
				description:
					'Prove the systems hold the same data, by range checksums: records are read only where ranges differ',
			},
			{
				name: 'The Keys This Sync Wrote',
				value: 'syncedKeys',
				description:
					'Read the synced keys back, check them against the resolution and advance the base',
			},
		],
	},
	{
		displayName:
			'Input 1: the Results output of Multi Target Sync. Input 2 (optional): the Summary output of Conflict Check, so a sync with nothing to write still gets a report.',
		name: 'inputsNotice',
		type: 'notice',
		default: '',
		displayOptions: syncedKeysOnly,
	},
	{ ...recordSpecNotice, displayOptions: syncedKeysOnly },
	{
		displayName:
			'Runs once per execution, whatever arrives on the input (a schedule, a webhook, the end of a sync). Compares every live record of every connected system by key; deleted and absent count as the same. Systems without a Range Checksum Path are read in full.',
		name: 'allRecordsNotice',
		type: 'notice',
		default: '',
		displayOptions: allRecordsOnly,
	},
	...recordSpecProperties.map((p) => ({ ...p, displayOptions: allRecordsOnly })),
	{
		displayName: 'Read Systems Back',
		name: 'readBackFrom',
		type: 'options',
		noDataExpression: true,
		default: 'http',
		displayOptions: syncedKeysOnly,
		options: [
			{
				name: 'Over HTTP (Data Sync System Credentials)',
				value: 'http',
				description: 'This node reads every system back for the synced keys',
			},
			{
				name: 'From Node Inputs',
				value: 'inputs',
				description:
					'Each system’s current records arrive on an input, read by any n8n node after the writes',
			},
		],
	},
	{
		displayName: 'Systems Read Back',
		name: 'readBackSystems',
		type: 'string',
		default: '',
		noDataExpression: true,
		placeholder: 'e.g. postgres, mariadb, system_a',
		displayOptions: { show: { readBackFrom: ['inputs'], scope: ['syncedKeys'] } },
		description:
			'Comma-separated names of every synced system. Each gets an input, in this order, after Check Summary.',
	},
	// Hidden only when reading back from inputs: Every Record hides Read Systems Back, and a hidden
	// parameter is absent, so `show: http` would hide these too.
	connectedSystemsProperty({}, { readBackFrom: ['inputs'] }),
	{
		displayName: 'Commit Base To',
		name: 'baseTarget',
		type: 'options',
		noDataExpression: true,
		default: 'staticData',
		displayOptions: syncedKeysOnly,
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
		displayOptions: { show: { baseTarget: ['staticData'], scope: ['syncedKeys'] } },
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
				default: DEFAULT_CONCURRENCY,
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
				default: DEFAULT_MAX_BASE_KEYS,
				typeOptions: { minValue: 1 },
				description:
					'Upper bound on keys kept in workflow static data; past it the node stops before committing',
			},
			{
				displayName: 'Range Segments',
				name: 'segments',
				type: 'number',
				default: 16,
				typeOptions: { minValue: 2, maxValue: 256 },
				description:
					'Every Record only: how many pieces a key range whose checksums differ is cut into at each step',
			},
			{
				displayName: 'Read Ranges Up To (Records)',
				name: 'leafSize',
				type: 'number',
				default: 64,
				typeOptions: { minValue: 1, maxValue: 1000 },
				description:
					'Every Record only: a differing range with at most this many records on each system is read and compared record by record instead of cut further',
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
