import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { MAX_REMEMBERED_DELIVERIES, remember, rememberSeconds } from '../shared/engine';
import { readAuthSettings, REPLAY_KEYS_FIELD, type TriggerStaticData } from './webhook';

/**
 * Records an accepted delivery from inside its execution, where it persists: n8n saves static
 * data written by webhook() only when no execution starts (the execution's own copy, loaded
 * from the database, is saved at its end instead). Returns whether the delivery was already
 * recorded: a duplicate that reached n8n while the first was still running.
 */
async function alreadyDelivered(ctx: IExecuteFunctions, keys: string[]): Promise<boolean> {
	// n8n's deduplication store: one database row per node, written at once, not at the end.
	const seen = await ctx.helpers.checkProcessedAndRecord(keys, 'node', {
		mode: 'entries',
		maxEntries: MAX_REMEMBERED_DELIVERIES,
	});
	// The static data copy lets webhook() refuse later replays (409) before any execution.
	const auth = readAuthSettings(await ctx.getCredentials('dataSyncWebhookApi'));
	const staticData = ctx.getWorkflowStaticData('node') as TriggerStaticData;
	const now = Math.floor(Date.now() / 1000);
	staticData.deliveries = remember(
		staticData.deliveries ?? {},
		keys,
		now,
		rememberSeconds(auth.toleranceSeconds),
	);
	return seen.processed.length > 0;
}

/**
 * The trigger's step in the execution webhook() started: passes the sync request on without
 * the replay keys, and drops it when the same delivery already started a sync.
 */
export async function passOn(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const out: INodeExecutionData[] = [];
	const items = this.getInputData();
	for (let i = 0; i < items.length; i++) {
		const { [REPLAY_KEYS_FIELD]: keys, ...request } = items[i].json;
		const replayKeys = Array.isArray(keys) ? keys.filter((k) => typeof k === 'string') : [];
		if (replayKeys.length > 0 && (await alreadyDelivered(this, replayKeys))) continue;
		out.push({ json: request as IDataObject, pairedItem: { item: i } });
	}
	return [out];
}
