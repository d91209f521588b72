import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { massDeleteGuard } from '../guard';
import { planRun } from '../plan';
import { keyResults, syncOutputs, writeFields } from '../results';

/** Plan Only has no parameters of its own. */
export const description: INodeProperties[] = [];

/**
 * Write Mode > Plan Only: one item per planned write for other n8n nodes to perform (`target`
 * routes it, `record` is the row), beside the systems needing no write.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const run = planRun(this);
	// Other nodes do the writes, but the guard holds for them just the same.
	massDeleteGuard(this, run.planned, run.options);
	const keys = run.planned.map((p) =>
		keyResults(p, (key, w) =>
			writeFields(key, w, { target: w.system, ...w, outcome: 'planned', action: w.op }),
		),
	);
	return syncOutputs(run, 'planOnly', keys);
}
