import type { INodeParameters, INodeProperties } from 'n8n-workflow';

import { DEFAULT_CONCURRENCY, DEFAULT_MAX_BASE_KEYS } from '../shared/parameters/descriptions';
import { connectedSystemsProperty } from '../shared/parameters/systems';
import * as allRecords from './actions/allRecords';
import * as differingRanges from './actions/differingRanges';
import { DEFAULT_MAX_KEYS_PER_RANGE } from './actions/differingRanges';
import * as syncedKeys from './actions/syncedKeys';

/** Sync results, the check summary, then (read back by other nodes) one input per system. */
export const configuredInputs = (parameters: INodeParameters) => {
	if (parameters.scope === 'allRecords' || parameters.scope === 'differingRanges')
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
				name: 'Differing Key Ranges (Plan Partitions)',
				value: 'differingRanges',
				description:
					'Plan a partitioned sync by range checksums: one item per key range that differs, for reconciling each in its own execution',
			},
			{
				name: 'The Keys This Sync Wrote',
				value: 'syncedKeys',
				description:
					'Read the synced keys back, check them against the resolution and advance the base',
			},
		],
	},
	...allRecords.description,
	...differingRanges.description,
	...syncedKeys.description,
	// Hidden only when reading back from inputs: Every Record hides Read Systems Back, and a hidden
	// parameter is absent, so `show: http` would hide these too.
	connectedSystemsProperty({}, { readBackFrom: ['inputs'] }),
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
				displayName: 'Max Keys per Range',
				name: 'maxKeys',
				type: 'number',
				default: DEFAULT_MAX_KEYS_PER_RANGE,
				typeOptions: { minValue: 1 },
				description:
					'Differing Key Ranges only: a differing range is cut until no system holds more live records in it than this',
				hint: 'The most keys one partition execution will hold',
			},
			{
				displayName: 'Range Segments',
				name: 'segments',
				type: 'number',
				default: 16,
				typeOptions: { minValue: 2, maxValue: 256 },
				description:
					'Every Record and Differing Key Ranges: how many pieces a key range whose checksums differ is cut into at each step',
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
