import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { withNodeLevelErrors } from '../shared/errors';
import * as dryRun from './actions/dryRun';
import * as planOnly from './actions/planOnly';
import * as write from './actions/write';

/** Each Write Mode has its own file (its parameters and execute), as in Merge v3. */
const modes = { write, dryRun, planOnly };

async function route(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const mode = this.getNodeParameter('writeMode', 0) as string;
	if (!Object.hasOwn(modes, mode)) {
		throw new NodeOperationError(this.getNode(), `Unknown write mode "${mode}"`, {
			description: 'Field: Write Mode. Use write, dryRun or planOnly.',
		});
	}
	return await modes[mode as keyof typeof modes].execute.call(this);
}

/** The router; a node-level error under continue-on-fail becomes one error item. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await withNodeLevelErrors(this, route, 3);
}
