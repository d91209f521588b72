import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { execute } from './execute';
import { properties, subtitle } from './properties';

export class ConflictResolve implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Conflict Resolve',
		name: 'conflictResolve',
		icon: { light: 'file:conflictResolve.svg', dark: 'file:conflictResolve.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: `={{${subtitle}}}`,
		description:
			'Turn each conflict from Conflict Check into one resolved record, with an audit of how',
		defaults: { name: 'Conflict Resolve' },
		usableAsTool: true,
		inputs: [
			{ type: NodeConnectionTypes.Main, displayName: 'Conflicts' },
			{ type: NodeConnectionTypes.Main, displayName: 'Changes', required: false },
		],
		requiredInputs: 1,
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Resolved', 'Needs Review'],
		properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await execute.call(this);
	}
}
