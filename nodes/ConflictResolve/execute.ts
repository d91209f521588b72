import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import * as resolve from './actions/resolve';

/**
 * The router, as in Merge v3: each operation has its own file (its parameters and execute).
 * Resolve is the only one so far; a new mode lands as a file beside it and a case here.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await resolve.execute.call(this);
}
