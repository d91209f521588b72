import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { withNodeLevelErrors } from '../shared/errors';
import * as allRecords from './actions/allRecords';
import * as differingRanges from './actions/differingRanges';
import * as syncedKeys from './actions/syncedKeys';

const modes = { allRecords, differingRanges, syncedKeys };

/** The router: each Validate mode has its own file (description and execute), as in Merge v3. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const scope = this.getNodeParameter('scope', 0, 'syncedKeys') as string;
	const mode = scope in modes ? modes[scope as keyof typeof modes] : syncedKeys;
	return await withNodeLevelErrors(this, mode.execute, 2);
}
