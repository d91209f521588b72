import type { INodeParameters, INodeProperties } from 'n8n-workflow';

import {
	DEFAULT_MAX_BASE_KEYS,
	recordSpecProperties,
	staticDataNotice,
	syncNameProperty,
} from '../shared/parameters/descriptions';
import * as httpMode from './actions/http';
import * as inputsMode from './actions/inputs';

/** One input per system, in the order named, after the source; the base input last. */
export const configuredInputs = (parameters: INodeParameters) => {
	const others = String(parameters.systemsFrom === 'http' ? '' : (parameters.otherSystems ?? ''))
		.split(',')
		.map((name) => name.trim())
		.filter(Boolean);
	const inputs = [{ type: 'main', displayName: 'Source Records', required: true }];
	for (const name of others) inputs.push({ type: 'main', displayName: name, required: false });
	if (parameters.baseSource === 'input')
		inputs.push({ type: 'main', displayName: 'Base', required: false });
	return inputs;
};

/**
 * The canvas subtitle: "system_a vs system_b, system_c (HTTP)". The editor resolves parameters
 * set by expression first; without data to resolve them it shows no subtitle.
 */
export const describeSystems = (parameters: INodeParameters) => {
	const http = parameters.systemsFrom === 'http';
	const others = String((http ? parameters.httpSystems : parameters.otherSystems) ?? '').trim();
	return `${String(parameters.sourceSystem ?? '')} vs ${others || 'nothing'}${http ? ' (HTTP)' : ''}`;
};
export const subtitle = `(${describeSystems})($parameter)`;

/**
 * The modes' notices head the panel; then the parameters every mode shares, the selector (Other
 * Systems From) and each mode's own parameters (actions/<mode>.ts), and the common rest.
 */
export const properties: INodeProperties[] = [
	inputsMode.notice,
	httpMode.notice,
	{
		displayName: 'Source System',
		name: 'sourceSystem',
		type: 'string',
		default: 'system_a',
		required: true,
		description: 'Name of the system whose records arrive on the first input',
	},
	{
		displayName: 'Records Field',
		name: 'recordsField',
		type: 'string',
		default: '',
		placeholder: 'e.g. body.sync_data',
		description:
			'Leave empty when each source item is one record. Otherwise the path of an array of records inside each source item, such as a webhook payload.',
	},
	{
		displayName: 'Other Systems From',
		name: 'systemsFrom',
		type: 'options',
		noDataExpression: true,
		default: 'inputs',
		options: [
			{
				name: 'Node Inputs',
				value: 'inputs',
				description: 'Each other system’s records arrive on an input, read by any n8n node',
			},
			{
				name: 'HTTP (Data Sync System Credentials)',
				value: 'http',
				description: 'This node reads each other system’s current records over HTTP',
			},
		],
	},
	...inputsMode.description,
	...httpMode.description,
	...recordSpecProperties,
	{
		displayName: 'Keys to Check',
		name: 'scope',
		type: 'options',
		default: 'source',
		hint: 'Choose Every Key on Any System to bring over records the source does not hold',
		options: [
			{
				name: 'Keys in the Source Records',
				value: 'source',
				description:
					'Only the records that arrived from the source. Keys only other systems hold are left alone, and counted in the summary (notChecked).',
			},
			{
				name: 'Every Key on Any System',
				value: 'all',
				description: 'Full reconciliation: keys only other systems hold are checked too',
			},
		],
	},
	{
		displayName: 'Base',
		name: 'baseSource',
		type: 'options',
		noDataExpression: true,
		default: 'staticData',
		description:
			'Where the state of each key at the last validated sync comes from. Without a base, updated-at against the watermark decides what changed, and without either any difference is a conflict.',
		options: [
			{
				name: 'Workflow Static Data',
				value: 'staticData',
				description: 'Kept by Sync Validate in this workflow; bounded in size',
			},
			{
				name: 'Base Input',
				value: 'input',
				description:
					'Items on a last input named Base, one per key ({key, fingerprint, values}), read from a real store',
			},
			{ name: 'None', value: 'none', description: 'Classify without memory of earlier syncs' },
		],
	},
	staticDataNotice,
	{ ...syncNameProperty, displayOptions: { show: { baseSource: ['staticData'] } } },
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Emit In-Sync Keys',
				name: 'includeInSync',
				type: 'boolean',
				default: false,
				description: 'Whether keys every system already agrees on also go to the Changes output',
			},
			{
				displayName: 'Last Sync Watermark',
				name: 'watermark',
				type: 'dateTime',
				default: '',
				description:
					'When the last sync finished. Used for keys the base does not know: a record updated before it has not changed since.',
			},
			{
				displayName: 'Max Base Keys',
				name: 'maxBaseKeys',
				type: 'number',
				default: DEFAULT_MAX_BASE_KEYS,
				typeOptions: { minValue: 1 },
				description:
					'Upper bound on keys kept in workflow static data. Past it the node stops with an error; use the Base input with a real store instead.',
			},
			{
				displayName: 'Missing Means Deleted',
				name: 'missingMeansDeleted',
				type: 'boolean',
				default: false,
				description:
					'Whether a key the base knows but a system no longer holds counts as deleted there. Off: it counts as missing and is recreated.',
			},
			{
				displayName: 'Re-Read Stale Source Records',
				name: 'verifySource',
				type: 'boolean',
				default: true,
				description:
					'Whether, when the source system is connected too, its current records are checked instead of payload records that differ from them (and payload records it does not hold are left out), so a re-sent, overtaken or made-up payload cannot write old data over newer data',
			},
			{
				displayName: 'Reject All on a Bad Record',
				name: 'rejectAll',
				type: 'boolean',
				default: false,
				description:
					'Whether one bad record rejects the whole input, as a webhook payload should be: nothing goes on, and with continue-on-fail every bad record goes to the error output. Off: the bad records are set aside and the rest carry on.',
			},
			{
				displayName: 'Sync ID',
				name: 'syncId',
				type: 'string',
				default: '',
				description: 'ID of this sync run. Leave empty to generate a UUIDv7.',
			},
		],
	},
];
