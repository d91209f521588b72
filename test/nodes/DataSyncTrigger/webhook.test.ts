/**
 * Data Sync Trigger, node level: webhook() against a stubbed request and response (what n8n
 * hands a webhook node), the trigger's step in the execution (execute) against a stubbed
 * deduplication store, the credential test and the webhook description n8n registers. The same
 * paths run in a real n8n in test/e2e/trigger.test.ts.
 */
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IDataObject,
	IExecuteFunctions,
	INode,
	IWebhookFunctions,
} from 'n8n-workflow';

import { dataSyncWebhookSecret } from '../../../nodes/DataSyncTrigger/credentialTest';
import { DataSyncTrigger } from '../../../nodes/DataSyncTrigger/DataSyncTrigger.node';
import { passOn } from '../../../nodes/DataSyncTrigger/execute';
import { REPLAY_KEYS_FIELD, receive } from '../../../nodes/DataSyncTrigger/webhook';
import { newSyncId, signatureHeader } from '../../../nodes/shared/engine';

const SECRET = 'a-test-secret-for-node-tests';
const theNode = { name: 'Data Sync Trigger', type: 'n8n-nodes-data-sync.dataSyncTrigger' } as INode;
const PARAMETERS: IDataObject = {
	path: 'data-sync',
	responseMode: 'onReceived',
	sourceSystem: 'system_a',
	targetSystems: 'system_b, system_c',
	syncType: 'bidirectional',
	strategy: 'lastWriterWins',
	scope: 'source',
	keyFields: 'id',
	options: {},
};

interface Call {
	status?: number;
	json?: unknown;
}

/** One request through webhook(): what it answered itself, what it hands to n8n. */
function trigger(
	credential: ICredentialDataDecryptedObject = { authMethod: 'signature', secret: SECRET },
) {
	const staticData: IDataObject = {};
	async function send(body: unknown, headers: Record<string, string> = {}, sign = true) {
		const text = typeof body === 'string' ? body : JSON.stringify(body);
		const now = Math.floor(Date.now() / 1000);
		const lower = Object.fromEntries(
			Object.entries({
				...(sign
					? {
							'x-data-sync-timestamp': String(now),
							'x-data-sync-signature': signatureHeader(SECRET, now, text),
						}
					: {}),
				...headers,
			}).map(([k, v]) => [k.toLowerCase(), v]),
		);
		const answered: Call = {};
		const res = {
			status(code: number) {
				answered.status = code;
				return res;
			},
			json(value: unknown) {
				answered.json = value;
			},
		};
		const ctx = {
			getRequestObject: () => ({ headers: lower, rawBody: Buffer.from(text), body: {} }),
			getResponseObject: () => res,
			getCredentials: async () => credential,
			getNode: () => theNode,
			getNodeParameter: (name: string, fallback?: unknown) => PARAMETERS[name] ?? fallback,
			getWorkflowStaticData: () => staticData,
		} as unknown as IWebhookFunctions;
		const result = await receive.call(ctx);
		return { result, answered };
	}
	return { send, staticData };
}

describe('webhook(): every refusal answered before any execution', () => {
	it('an accepted request hands n8n one item and the 202 answer; it answers nothing itself', async () => {
		const { send, staticData } = trigger();
		const { result, answered } = await send(
			{ sync_data: [{ id: 'c1' }] },
			{ 'X-Data-Sync-Delivery': 'd1' },
		);
		expect(answered).toEqual({});
		expect(result.noWebhookResponse).toBeUndefined();
		const [[item]] = result.workflowData!;
		const { [REPLAY_KEYS_FIELD]: keys, ...request } = item.json;
		expect(request).toMatchObject({ keys: ['c1'], sourceSystem: 'system_a', trigger: 'request' });
		expect(keys).toEqual([
			expect.stringMatching(/^delivery:/),
			expect.stringMatching(/^signature:/),
		]);
		expect(result.webhookResponse).toEqual({
			status: 'accepted',
			syncId: request.syncId,
			syncType: 'bidirectional',
			sourceSystem: 'system_a',
			targetSystems: ['system_b', 'system_c'],
			keys: 1,
			echoesDropped: 0,
		});
		// Recorded by the execution it starts (execute), where n8n saves it, not here.
		expect(staticData).toEqual({});
	});

	it('401, 403, 400: answered here with the reason, nothing handed to n8n', async () => {
		const { send } = trigger();
		const unsigned = await send({ sync_data: [{ id: 'c1' }] }, {}, false);
		expect(unsigned).toEqual({
			result: { noWebhookResponse: true },
			answered: {
				status: 401,
				json: { status: 'rejected', error: 'X-Data-Sync-Timestamp header missing' },
			},
		});
		const forged = await send(
			{ sync_data: [{ id: 'c1' }] },
			{ 'x-data-sync-signature': `v1=${'a'.repeat(64)}` },
		);
		expect(forged.answered.status).toBe(403);
		const invalid = await send({ sync_data: [] });
		expect(invalid).toEqual({
			result: { noWebhookResponse: true },
			answered: {
				status: 400,
				json: {
					status: 'rejected',
					error: 'invalid sync request: nothing was started',
					reasons: ['sync_data is empty: send at least one of the records'],
				},
			},
		});
		const notJson = await send('{"sync_data": [');
		expect(notJson.answered.status).toBe(400);
		expect((notJson.answered.json as { reasons: string[] }).reasons[0]).toMatch(
			/^the body is not JSON: /,
		);
	});

	it('an event of echoes is answered 200 and remembered here (no execution saves it otherwise)', async () => {
		const { send, staticData } = trigger();
		const event = {
			type: 'changes',
			system: 'system_c',
			changes: [{ seq: 1, key: 'k', op: 'upsert', origin: newSyncId() }],
		};
		const first = await send(event, { 'x-data-sync-delivery': 'e1' });
		expect(first).toEqual({
			result: { noWebhookResponse: true },
			answered: {
				status: 200,
				json: {
					status: 'ignored',
					reason: 'every change system_c reported was written by a sync (an echo): nothing to sync',
					echoesDropped: 1,
				},
			},
		});
		expect(Object.keys(staticData.deliveries as object)).toHaveLength(2);
		const again = await send(event, { 'x-data-sync-delivery': 'e1' });
		expect(again.answered).toEqual({
			status: 409,
			json: { status: 'rejected', error: 'delivery "e1" was already received' },
		});
	});

	it('a header secret: the configured header, compared in constant time', async () => {
		const { send } = trigger({
			authMethod: 'headerSecret',
			secret: SECRET,
			headerName: 'X-Sync-Secret',
		});
		expect(
			(await send({ sync_data: [{ id: 1 }] }, { 'X-Sync-Secret': SECRET }, false)).result
				.workflowData,
		).toHaveLength(1);
		expect(
			(await send({ sync_data: [{ id: 1 }] }, { 'X-Sync-Secret': 'nope' }, false)).answered.status,
		).toBe(403);
	});
});

describe('execute(): the trigger’s step in the execution it started', () => {
	function step(processed: string[]) {
		const staticData: IDataObject = {};
		const recorded: string[][] = [];
		const ctx = (items: IDataObject[]) =>
			({
				getInputData: () => items.map((json) => ({ json })),
				getCredentials: async () => ({
					authMethod: 'signature',
					secret: SECRET,
					toleranceSeconds: 300,
				}),
				getWorkflowStaticData: () => staticData,
				helpers: {
					checkProcessedAndRecord: async (keys: string[]) => {
						recorded.push(keys);
						return {
							new: keys.filter((k) => !processed.includes(k)),
							processed: keys.filter((k) => processed.includes(k)),
						};
					},
				},
			}) as unknown as IExecuteFunctions;
		return { ctx, staticData, recorded };
	}

	it('records the delivery (dedup store and static data) and passes the request on without its keys', async () => {
		const { ctx, staticData, recorded } = step([]);
		const [out] = await passOn.call(
			ctx([{ syncId: 's1', keys: ['c1'], [REPLAY_KEYS_FIELD]: ['delivery:a', 'signature:b'] }]),
		);
		expect(out).toEqual([{ json: { syncId: 's1', keys: ['c1'] }, pairedItem: { item: 0 } }]);
		expect(recorded).toEqual([['delivery:a', 'signature:b']]);
		expect(Object.keys(staticData.deliveries as object).sort()).toEqual([
			'delivery:a',
			'signature:b',
		]);
	});

	it('a delivery already recorded (a duplicate that raced the first) passes nothing on', async () => {
		const { ctx } = step(['signature:b']);
		const [out] = await passOn.call(
			ctx([{ syncId: 's2', [REPLAY_KEYS_FIELD]: ['delivery:x', 'signature:b'] }]),
		);
		expect(out).toEqual([]);
	});
});

describe('the credential test', () => {
	const test = (data: IDataObject) =>
		dataSyncWebhookSecret.call({} as ICredentialTestFunctions, { data } as ICredentialsDecrypted);

	it('a short secret is an error; a long one is OK', async () => {
		expect(await test({ authMethod: 'signature', secret: 'short' })).toEqual({
			status: 'Error',
			message: 'The secret has 5 characters: use at least 16, such as a random 32-character string',
		});
		expect((await test({ authMethod: 'signature', secret: SECRET })).status).toBe('OK');
		expect(
			(await test({ authMethod: 'headerSecret', secret: SECRET, headerName: ' ' })).status,
		).toBe('Error');
	});
});

describe('the webhook n8n registers', () => {
	const description = new DataSyncTrigger().description;

	it('POST on the path as given (full path), answer and code from Respond', () => {
		expect(description.webhooks).toEqual([
			{
				name: 'default',
				httpMethod: 'POST',
				isFullPath: true,
				path: '={{$parameter["path"]}}',
				responseMode: '={{$parameter["responseMode"]}}',
				responseCode: '={{$parameter["responseMode"] === "onReceived" ? 202 : 200}}',
				responseData: '={{$parameter["responseMode"] === "onReceived" ? "" : "allEntries"}}',
			},
		]);
		expect(description.credentials).toEqual([
			{ name: 'dataSyncWebhookApi', required: true, testedBy: 'dataSyncWebhookSecret' },
		]);
		expect(description.inputs).toEqual([]);
	});
});
