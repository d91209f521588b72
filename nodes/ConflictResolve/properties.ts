import type { INodeProperties } from 'n8n-workflow';

import * as resolve from './actions/resolve';

export const properties: INodeProperties[] = [
	{
		displayName:
			'Input 1 takes the Conflicts output of Conflict Check; input 2 (optional) its Changes output: clean changes pass through resolved, with an audit.',
		name: 'inputsNotice',
		type: 'notice',
		default: '',
	},
	...resolve.description,
];

/** The canvas subtitle: the strategy's name as the panel shows it. */
const strategyNames = Object.fromEntries(
	(
		properties.find((p) => p.name === 'strategy')!.options as Array<{ name: string; value: string }>
	).map((o) => [o.value, o.name]),
);
export const subtitle = `(${JSON.stringify(strategyNames)})[$parameter["strategy"]] ?? $parameter["strategy"]`;
