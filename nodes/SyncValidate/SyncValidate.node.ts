import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { systemCredentials } from '../shared/parameters/systems';
import { execute } from './execute';
import { configuredInputs, properties } from './properties';

export class SyncValidate implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Sync Validate',
		name: 'syncValidate',
		icon: { light: 'file:syncValidate.svg', dark: 'file:syncValidate.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{$parameter["scope"] === "allRecords" ? "every record, by range checksums" : $parameter["scope"] === "differingRanges" ? "plan differing key ranges" : "commit base to " + $parameter["baseTarget"]}}',
		description: 'Read every system back, prove they agree, advance the base, and report the sync',
		defaults: { name: 'Sync Validate' },
		usableAsTool: true,
		inputs: `={{(${configuredInputs})($parameter)}}`,
		requiredInputs: 1,
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Report', 'Base Updates'],
		credentials: systemCredentials({}, { readBackFrom: ['inputs'] }),
		properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await execute.call(this);
	}
}
