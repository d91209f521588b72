import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { systemCredentials } from '../shared/parameters/systems';
import { execute } from './execute';
import { configuredInputs, properties, subtitle } from './properties';

export class ConflictCheck implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Conflict Check',
		name: 'conflictCheck',
		icon: { light: 'file:conflictCheck.svg', dark: 'file:conflictCheck.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: `={{${subtitle}}}`,
		description:
			'Find which records differ between systems, and which differences are real conflicts',
		defaults: { name: 'Conflict Check' },
		usableAsTool: true,
		inputs: `={{(${configuredInputs})($parameter)}}`,
		requiredInputs: 1,
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Conflicts', 'Changes', 'Summary'],
		credentials: systemCredentials({ systemsFrom: ['http'] }),
		properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await execute.call(this);
	}
}
