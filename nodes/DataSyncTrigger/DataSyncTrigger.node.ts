import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type IWebhookDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import { dataSyncWebhookSecret } from './credentialTest';
import { passOn } from './execute';
import { properties } from './properties';
import { receive } from './webhook';

/**
 * n8n registers the webhook itself (a path on n8n), so there is nothing to create or delete on a
 * remote service: like n8n's own Webhook node, no webhookMethods.
 */
const webhooks: IWebhookDescription[] = [
	{
		name: 'default',
		httpMethod: 'POST',
		isFullPath: true,
		path: '={{$parameter["path"]}}',
		responseMode: '={{$parameter["responseMode"]}}',
		responseCode: '={{$parameter["responseMode"] === "onReceived" ? 202 : 200}}',
		// Immediately: the answer webhook() gives (status and sync id). Else the last node's items
		// as an array: a sync with nothing to log still answers 200 ([]), where n8n's first-item
		// answer would be a 500 ("No item to return was found") and the sender would retry.
		responseData: '={{$parameter["responseMode"] === "onReceived" ? "" : "allEntries"}}',
	},
];

export class DataSyncTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Data Sync Trigger',
		name: 'dataSyncTrigger',
		icon: { light: 'file:dataSyncTrigger.svg', dark: 'file:dataSyncTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{"POST /" + $parameter["path"]}}',
		description:
			'Starts a sync from a signed request or a system’s change event: checked, echoes dropped, one typed sync request out',
		defaults: { name: 'Data Sync Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'dataSyncWebhookApi', required: true, testedBy: 'dataSyncWebhookSecret' },
		],
		webhooks,
		properties,
	};

	methods = { credentialTest: { dataSyncWebhookSecret } };

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receive.call(this);
	}

	/** Runs as the first step of the execution webhook() started: see execute.ts. */
	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await passOn.call(this);
	}
}
