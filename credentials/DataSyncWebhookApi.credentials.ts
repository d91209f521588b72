import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The secret the Data Sync Trigger checks every incoming request with. Nothing is sent with it:
 * senders sign (or carry) it, the trigger verifies.
 */
export class DataSyncWebhookApi implements ICredentialType {
	name = 'dataSyncWebhookApi';

	displayName = 'Data Sync Webhook API';

	icon = {
		light: 'file:../nodes/DataSyncTrigger/dataSyncTrigger.svg',
		dark: 'file:../nodes/DataSyncTrigger/dataSyncTrigger.dark.svg',
	} as const;

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-data-sync#data-sync-trigger';

	properties: INodeProperties[] = [
		{
			displayName: 'Authentication',
			name: 'authMethod',
			type: 'options',
			default: 'signature',
			options: [
				{
					name: 'HMAC-SHA256 Signature',
					value: 'signature',
					description:
						'Senders sign "<timestamp>.<body>" with the secret, as Stripe and GitHub sign webhooks; the secret never travels',
				},
				{
					name: 'Header Secret',
					value: 'headerSecret',
					description: 'Senders put the secret itself in a header: simple, but no replay window',
				},
			],
		},
		{
			displayName:
				'Senders add the headers X-Data-Sync-Timestamp (unix seconds), X-Data-Sync-Signature (v1= and the hex HMAC-SHA256 of the timestamp, a dot and the raw body) and X-Data-Sync-Delivery (an ID unique per delivery)',
			name: 'signatureNotice',
			type: 'notice',
			default: '',
			displayOptions: { show: { authMethod: ['signature'] } },
		},
		{
			displayName: 'Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'Shared with the systems and clients that send to the trigger: at least 16 characters',
		},
		{
			displayName: 'Header Name',
			name: 'headerName',
			type: 'string',
			default: 'X-Sync-Secret',
			displayOptions: { show: { authMethod: ['headerSecret'] } },
			description: 'The request header that carries the secret',
		},
		{
			displayName: 'Tolerance (Seconds)',
			name: 'toleranceSeconds',
			type: 'number',
			default: 300,
			typeOptions: { minValue: 1, maxValue: 3600 },
			displayOptions: { show: { authMethod: ['signature'] } },
			description:
				'How far a request’s timestamp may be from the clock of n8n, either way. Older requests are refused as replays.',
		},
	];
}
