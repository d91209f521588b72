import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { withNodeLevelErrors } from '../shared/errors';
import * as allRecords from './actions/allRecords';
import * as syncedKeys from './actions/syncedKeys';

/** The router: each Validate mode has its own file (description and execute), as in Merge v3. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const scope = this.getNodeParameter('scope', 0, 'syncedKeys');
	return await withNodeLevelErrors(
		this,
		scope === 'allRecords' ? allRecords.execute : syncedKeys.execute,
		2,
	);
}
