import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

import { DEFAULT_CONCURRENCY } from '../../shared/parameters/descriptions';
import { connectedSystems, type SystemConnection } from '../../shared/transport/systems';

/**
 * What the modes that compare systems by range checksums share (Every Record on Every System,
 * Differing Key Ranges): the connected systems, and how their checksums are asked for.
 */

/** The connected systems, in their slots' order: at least two, or nothing to compare. */
export async function systemsToCompare(ctx: IExecuteFunctions): Promise<SystemConnection[]> {
	const systems = [...(await connectedSystems(ctx)).values()];
	if (systems.length < 2) {
		throw new NodeOperationError(ctx.getNode(), 'Comparing systems needs at least two', {
			description: 'Field: Connected Systems. Attach a credential for every system to compare.',
		});
	}
	return systems;
}

/** Options > Range Segments and Concurrency per System. */
export const checksumOptions = (options: IDataObject) => ({
	segments: Number(options.segments ?? 16),
	concurrency: Number(options.concurrency ?? DEFAULT_CONCURRENCY),
});
