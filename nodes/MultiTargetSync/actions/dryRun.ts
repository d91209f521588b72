import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { planRun } from '../plan';
import { keyResults, syncOutputs, writeFields } from '../results';

/** Dry Run has no parameters of its own. */
export const description: INodeProperties[] = [];

/**
 * Write Mode > Dry Run: the full plan (writes, unchanged and skipped), each write marked as not
 * to be written. Nothing is written, so the mass-delete guard does not stop it: the plan shows
 * what the guard would stop.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const run = planRun(this);
	const keys = run.planned.map((p) =>
		keyResults(p, (key, w) =>
			writeFields(key, w, { outcome: 'planned', action: `would ${w.op}`, dryRun: true }),
		),
	);
	return syncOutputs(run, 'dryRun', keys);
}
