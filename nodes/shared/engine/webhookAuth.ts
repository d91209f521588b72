import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Who may start a sync over the webhook: an HMAC-SHA256 signature of the timestamp and the raw
 * body (as Stripe and GitHub sign their webhooks), or a plain header secret for simple clients.
 * Pure: the trigger hands in the headers, the raw body and the clock.
 */

/** Header names in lower case, as Node's HTTP server gives them. */
export const SIGNATURE_HEADER = 'x-data-sync-signature';
export const TIMESTAMP_HEADER = 'x-data-sync-timestamp';
export const DELIVERY_HEADER = 'x-data-sync-delivery';
export const DEFAULT_SECRET_HEADER = 'X-Sync-Secret';
export const DEFAULT_TOLERANCE_SECONDS = 300;
/** A secret shorter than this is refused by the credential test. */
export const MIN_SECRET_LENGTH = 16;

export type WebhookAuthMethod = 'signature' | 'headerSecret';

export interface WebhookAuthSettings {
	method: WebhookAuthMethod;
	secret: string;
	/** Header Secret: the header that carries it. */
	headerName: string;
	/** Signature: how far the timestamp may be from now, either way. */
	toleranceSeconds: number;
}

export type RequestHeaders = Record<string, string | string[] | undefined>;

export type AuthVerdict =
	| {
			ok: true;
			/** What marks this delivery as seen, for replay detection (hashed: no signature kept). */
			replayKeys: string[];
			deliveryId: string | null;
	  }
	| { ok: false; status: 401 | 403; error: string };

/** The hex HMAC-SHA256 of "<timestamp>.<raw body>": what a sender puts after `v1=`. */
export function signatureOf(
	secret: string,
	timestamp: string,
	rawBody: string | Uint8Array,
): string {
	const hmac = createHmac('sha256', secret);
	hmac.update(`${timestamp}.`);
	hmac.update(rawBody);
	return hmac.digest('hex');
}

/** The X-Data-Sync-Signature header value for a body sent at `timestamp` (unix seconds). */
export function signatureHeader(
	secret: string,
	timestamp: number | string,
	rawBody: string | Uint8Array,
): string {
	return `v1=${signatureOf(secret, String(timestamp), rawBody)}`;
}

function header(headers: RequestHeaders, name: string): string | undefined {
	const value = headers[name.toLowerCase()];
	const first = Array.isArray(value) ? value[0] : value;
	return typeof first === 'string' && first.trim() !== '' ? first.trim() : undefined;
}

/** Equal strings in time that does not depend on where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
	// Digests have one length whatever the inputs, so the comparison leaks no length either.
	const da = createHash('sha256').update(a).digest();
	const db = createHash('sha256').update(b).digest();
	return timingSafeEqual(da, db);
}

const shortHash = (kind: string, value: string) =>
	`${kind}:${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;

function deliveryKeys(headers: RequestHeaders): { deliveryId: string | null; keys: string[] } {
	const deliveryId = header(headers, DELIVERY_HEADER) ?? null;
	return { deliveryId, keys: deliveryId === null ? [] : [shortHash('delivery', deliveryId)] };
}

function verifySignature(
	settings: WebhookAuthSettings,
	headers: RequestHeaders,
	rawBody: string | Uint8Array,
	nowSeconds: number,
): AuthVerdict {
	const timestamp = header(headers, TIMESTAMP_HEADER);
	const signature = header(headers, SIGNATURE_HEADER);
	if (timestamp === undefined)
		return { ok: false, status: 401, error: 'X-Data-Sync-Timestamp header missing' };
	if (!/^\d{1,12}$/.test(timestamp))
		return { ok: false, status: 401, error: 'X-Data-Sync-Timestamp must be unix seconds' };
	if (signature === undefined)
		return { ok: false, status: 401, error: 'X-Data-Sync-Signature header missing' };
	// Several v1 entries are allowed, so a sender can sign with an old and a new secret while
	// the secret is rotated.
	const offered = signature
		.split(',')
		.map((part) => part.trim())
		.filter((part) => part.startsWith('v1='))
		.map((part) => part.slice(3).toLowerCase());
	if (offered.length === 0 || offered.some((hex) => !/^[0-9a-f]{64}$/.test(hex)))
		return {
			ok: false,
			status: 401,
			error: 'X-Data-Sync-Signature must be v1=<hex HMAC-SHA256 of "<timestamp>.<body>">',
		};
	const expected = signatureOf(settings.secret, timestamp, rawBody);
	// Every entry is compared, so the time taken does not say which one matched.
	const matches = offered.map((hex) => constantTimeEqual(hex, expected));
	if (!matches.includes(true))
		return { ok: false, status: 403, error: 'the signature does not match the body' };
	// Checked once the timestamp is known to be the sender's: an old signed request is a replay.
	if (Math.abs(nowSeconds - Number(timestamp)) > settings.toleranceSeconds)
		return {
			ok: false,
			status: 403,
			error: `the timestamp is more than ${settings.toleranceSeconds} s from now: a late or replayed request`,
		};
	const delivery = deliveryKeys(headers);
	return {
		ok: true,
		deliveryId: delivery.deliveryId,
		// The signature covers timestamp and body, so it catches a replay whose delivery id was
		// changed; the delivery id catches a sender's re-send of one delivery under a new timestamp.
		replayKeys: [...delivery.keys, shortHash('signature', expected)],
	};
}

function verifyHeaderSecret(settings: WebhookAuthSettings, headers: RequestHeaders): AuthVerdict {
	const name = settings.headerName.trim() || DEFAULT_SECRET_HEADER;
	const offered = header(headers, name);
	if (offered === undefined) return { ok: false, status: 401, error: `${name} header missing` };
	if (!constantTimeEqual(offered, settings.secret))
		return { ok: false, status: 403, error: `the ${name} header does not match` };
	const delivery = deliveryKeys(headers);
	return { ok: true, deliveryId: delivery.deliveryId, replayKeys: delivery.keys };
}

/** Whether the request is from someone who holds the secret, and fresh. */
export function verifyWebhookRequest(
	settings: WebhookAuthSettings,
	headers: RequestHeaders,
	rawBody: string | Uint8Array,
	nowSeconds: number,
): AuthVerdict {
	// An empty secret would make every signature computable: nothing is let in.
	if (settings.secret === '')
		return { ok: false, status: 403, error: 'the trigger has no secret configured' };
	return settings.method === 'headerSecret'
		? verifyHeaderSecret(settings, headers)
		: verifySignature(settings, headers, rawBody, nowSeconds);
}

/**
 * Deliveries already accepted: hashed replay key -> unix seconds after which it is forgotten.
 * Kept small: only requests that passed authentication are remembered, and only for as long as
 * a replay of them could still pass the timestamp check.
 */
export type ReplayMemory = Record<string, number>;

/** Entries kept at most; past it the oldest go first. */
export const MAX_REMEMBERED_DELIVERIES = 10000;

/** How long an accepted delivery is remembered: a signed request stays acceptable while its
 * timestamp is within the tolerance, which can be up to twice the tolerance after it arrives. */
export const rememberSeconds = (toleranceSeconds: number) => Math.max(60, 2 * toleranceSeconds);

/** The first of `keys` already remembered (and not yet expired), if any. */
export function seenBefore(
	memory: ReplayMemory,
	keys: string[],
	nowSeconds: number,
): string | undefined {
	return keys.find((key) => (memory[key] ?? 0) > nowSeconds);
}

/** The memory with `keys` added until `nowSeconds + ttl`, expired entries dropped, capped. */
export function remember(
	memory: ReplayMemory,
	keys: string[],
	nowSeconds: number,
	ttlSeconds: number,
	max = MAX_REMEMBERED_DELIVERIES,
): ReplayMemory {
	const kept = Object.entries(memory).filter(([, until]) => until > nowSeconds);
	for (const key of keys) kept.push([key, nowSeconds + ttlSeconds]);
	kept.sort((a, b) => a[1] - b[1]);
	return Object.fromEntries(kept.slice(Math.max(0, kept.length - max)));
}
