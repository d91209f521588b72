import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { withNodeLevelErrors } from '../shared/errors';
import * as http from './actions/http';
import * as inputs from './actions/inputs';

/** The router: each Other Systems From mode has its own file (description and execute), as in Merge v3. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const systemsFrom = this.getNodeParameter('systemsFrom', 0, 'inputs');
	return await withNodeLevelErrors(this, systemsFrom === 'http' ? http.execute : inputs.execute, 3);
}
