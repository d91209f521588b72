import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import {
	DEFAULT_SECRET_HEADER,
	DEFAULT_TOLERANCE_SECONDS,
	newSyncId,
	readInbound,
	type InboundVerdict,
	type SyncRequest,
	remember,
	rememberSeconds,
	seenBefore,
	verifyWebhookRequest,
	type ReplayMemory,
	type RequestHeaders,
	type WebhookAuthSettings,
} from '../shared/engine';
import { itemJson } from '../shared/errors';
import { splitList } from '../shared/parameters/read';
import { readTriggerSettings } from './parameters';

/** The parts of n8n's request (Express, with the raw body n8n keeps) the trigger reads. */
interface InboundHttpRequest {
	headers: RequestHeaders;
	body?: unknown;
	rawBody?: Uint8Array;
	readRawBody?: () => Promise<void>;
}

interface HttpResponse {
	status(code: number): HttpResponse;
	json(body: unknown): unknown;
}

export function readAuthSettings(credential: ICredentialDataDecryptedObject): WebhookAuthSettings {
	const tolerance = Number(credential.toleranceSeconds);
	return {
		method: credential.authMethod === 'headerSecret' ? 'headerSecret' : 'signature',
		secret: typeof credential.secret === 'string' ? credential.secret : '',
		headerName:
			typeof credential.headerName === 'string' && credential.headerName.trim() !== ''
				? credential.headerName
				: DEFAULT_SECRET_HEADER,
		toleranceSeconds:
			Number.isFinite(tolerance) && tolerance > 0 ? tolerance : DEFAULT_TOLERANCE_SECONDS,
	};
}

/** Answers the request itself: no execution starts, nothing of the request is saved. */
function answer(res: HttpResponse, status: number, body: IDataObject): IWebhookResponseData {
	res.status(status).json(body);
	return { noWebhookResponse: true };
}

/** The body as sent (the signed bytes), parsed; n8n's parsed body when it kept no raw body. */
function parsedBody(req: InboundHttpRequest): { body: unknown } | { reason: string } {
	if (!req.rawBody) return { body: req.body };
	const text = new TextDecoder().decode(req.rawBody).replace(/^\uFEFF/, '');
	if (text.trim() === '') return { reason: 'the body is empty: send a JSON object' };
	try {
		return { body: JSON.parse(text) as unknown };
	} catch (error) {
		return { reason: `the body is not JSON: ${(error as Error).message}` };
	}
}

export interface TriggerStaticData {
	deliveries?: ReplayMemory;
}

/**
 * Hands the hashed replay keys from webhook() to the trigger's step in the execution, which
 * records them and takes them off the item: they are never part of the sync request.
 */
export const REPLAY_KEYS_FIELD = '__dataSyncReplayKeys';

/** The 409 answer when this delivery (or this very request) was accepted before. */
function replayRefusal(
	memory: ReplayMemory,
	verdict: { replayKeys: string[]; deliveryId: string | null },
	now: number,
): IDataObject | undefined {
	const seen = seenBefore(memory, verdict.replayKeys, now);
	if (seen === undefined) return undefined;
	return {
		status: 'rejected',
		error: seen.startsWith('delivery:')
			? `delivery ${JSON.stringify(verdict.deliveryId)} was already received`
			: 'this request was already received: a replay',
	};
}

/** The body checked against the trigger's parameters: a sync request, echoes, or reasons. */
function readRequest(ctx: IWebhookFunctions, req: InboundHttpRequest): InboundVerdict {
	const parsed = parsedBody(req);
	if ('reason' in parsed) return { kind: 'invalid', reasons: [parsed.reason] };
	const settings = readTriggerSettings(
		ctx.getNode(),
		(name, fallback) => ctx.getNodeParameter(name, fallback),
		String(ctx.getNodeParameter('sourceSystem', '')).trim(),
		splitList(ctx.getNodeParameter('targetSystems', '')),
	);
	return readInbound(parsed.body, settings, {
		syncId: newSyncId(),
		receivedAt: new Date().toISOString(),
	});
}

/** One execution with the request; Respond Immediately answers 202 with what started. */
function start(request: SyncRequest, replayKeys: string[]): IWebhookResponseData {
	const replay = replayKeys.length > 0 ? { [REPLAY_KEYS_FIELD]: replayKeys } : {};
	return {
		workflowData: [[{ json: { ...itemJson(request), ...replay } }]],
		webhookResponse: {
			status: 'accepted',
			syncId: request.syncId,
			syncType: request.syncType,
			sourceSystem: request.sourceSystem,
			targetSystems: request.targetSystems,
			keys: request.keys.length,
			...(request.range ? { range: request.range } : {}),
			echoesDropped: request.echoesDropped,
		},
	};
}

/**
 * POST /<path>: authenticate (401/403), refuse a replay (409), check the body with every reason
 * (400), drop echoes (200 when nothing is left), then start one execution with one typed sync
 * request. Every refusal is answered here, before any execution exists. No header reaches the
 * item, so no secret or signature reaches saved execution data.
 */
export async function receive(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const req = this.getRequestObject() as InboundHttpRequest;
	const res = this.getResponseObject() as HttpResponse;
	const auth = readAuthSettings(await this.getCredentials('dataSyncWebhookApi'));
	// n8n reads the raw body only for content types it parses; the signature needs it always.
	if (!req.rawBody && typeof req.readRawBody === 'function') await req.readRawBody();
	const now = Math.floor(Date.now() / 1000);
	const verdict = verifyWebhookRequest(auth, req.headers, req.rawBody ?? new Uint8Array(), now);
	if (!verdict.ok) return answer(res, verdict.status, { status: 'rejected', error: verdict.error });
	const staticData = this.getWorkflowStaticData('node') as TriggerStaticData;
	const replay = replayRefusal(staticData.deliveries ?? {}, verdict, now);
	if (replay) return answer(res, 409, replay);

	const inbound = readRequest(this, req);
	if (inbound.kind === 'invalid')
		return answer(res, 400, {
			status: 'rejected',
			error: 'invalid sync request: nothing was started',
			reasons: inbound.reasons,
		});
	if (inbound.kind === 'sync') return start(inbound.request, verdict.replayKeys);
	// Remembered once accepted (a rejected request may be corrected and sent again); here only
	// when no execution starts, as n8n then saves webhook() static data (else execute.ts does).
	staticData.deliveries = remember(
		staticData.deliveries ?? {},
		verdict.replayKeys,
		now,
		rememberSeconds(auth.toleranceSeconds),
	);
	return answer(res, 200, {
		status: 'ignored',
		reason: `every change ${inbound.system} reported was written by a sync (an echo): nothing to sync`,
		echoesDropped: inbound.echoesDropped,
	});
}
