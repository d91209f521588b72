import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { systemCredentials } from '../shared/parameters/systems';
import { execute } from './execute';
import { properties, subtitle } from './properties';

export class MultiTargetSync implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Multi Target Sync',
		name: 'multiTargetSync',
		icon: { light: 'file:multiTargetSync.svg', dark: 'file:multiTargetSync.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: `={{${subtitle}}}`,
		description: 'Make every target system hold the resolved records: writes only what differs',
		defaults: { name: 'Multi Target Sync' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Results', 'Failed', 'Conflicts'],
		credentials: systemCredentials({ writeMode: ['write'] }),
		properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await execute.call(this);
	}
}
