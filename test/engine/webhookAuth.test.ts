/**
 * Who may start a sync over the webhook: an HMAC-SHA256 signature of "<timestamp>.<raw body>"
 * (as Stripe and GitHub sign webhooks) within a tolerance window, or a plain header secret; and
 * the memory of accepted deliveries that refuses a replay.
 */
import { createHmac } from 'node:crypto';

import {
	constantTimeEqual,
	remember,
	rememberSeconds,
	seenBefore,
	signatureHeader,
	verifyWebhookRequest,
	type WebhookAuthSettings,
} from '../../nodes/shared/engine';

const SECRET = 'a-test-secret-of-some-length';
const NOW = 1_800_000_000;
const BODY = '{"sync_data":[{"id":"c1"}]}';
const signed: WebhookAuthSettings = {
	method: 'signature',
	secret: SECRET,
	headerName: 'X-Sync-Secret',
	toleranceSeconds: 300,
};
const headerSecret: WebhookAuthSettings = { ...signed, method: 'headerSecret' };

function signedHeaders(body = BODY, at = NOW, secret = SECRET, delivery = 'd-1') {
	return {
		'x-data-sync-timestamp': String(at),
		'x-data-sync-signature': signatureHeader(secret, at, body),
		'x-data-sync-delivery': delivery,
	};
}

describe('signature', () => {
	test('is v1= and the hex HMAC-SHA256 of "<timestamp>.<raw body>" with the secret', () => {
		const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
		expect(signatureHeader(SECRET, NOW, BODY)).toBe(`v1=${expected}`);
		expect(signatureHeader(SECRET, NOW, Buffer.from(BODY))).toBe(`v1=${expected}`);
	});

	test('a request signed with the secret, on time, is let in with its replay keys', () => {
		const verdict = verifyWebhookRequest(signed, signedHeaders(), BODY, NOW + 10);
		expect(verdict).toMatchObject({ ok: true, deliveryId: 'd-1' });
		if (!verdict.ok) return;
		expect(verdict.replayKeys).toHaveLength(2);
		expect(verdict.replayKeys[0]).toMatch(/^delivery:[0-9a-f]{32}$/);
		expect(verdict.replayKeys[1]).toMatch(/^signature:[0-9a-f]{32}$/);
		// Hashed: the signature itself is kept nowhere.
		const sig = signedHeaders()['x-data-sync-signature'].slice(3);
		expect(verdict.replayKeys.join()).not.toContain(sig.slice(0, 32));
	});

	test('one changed byte of the body, or another secret, is 403', () => {
		const tampered = BODY.replace('c1', 'c2');
		expect(verifyWebhookRequest(signed, signedHeaders(), tampered, NOW)).toEqual({
			ok: false,
			status: 403,
			error: 'the signature does not match the body',
		});
		const other = signedHeaders(BODY, NOW, 'another-secret-entirely');
		expect(verifyWebhookRequest(signed, other, BODY, NOW)).toMatchObject({ status: 403 });
	});

	test('the timestamp is signed too: moving it breaks the signature', () => {
		const headers = { ...signedHeaders(), 'x-data-sync-timestamp': String(NOW + 1) };
		expect(verifyWebhookRequest(signed, headers, BODY, NOW)).toMatchObject({ status: 403 });
	});

	test('outside the tolerance window either way is 403, inside it passes', () => {
		const old = signedHeaders(BODY, NOW - 301);
		expect(verifyWebhookRequest(signed, old, BODY, NOW)).toEqual({
			ok: false,
			status: 403,
			error: 'the timestamp is more than 300 s from now: a late or replayed request',
		});
		expect(verifyWebhookRequest(signed, signedHeaders(BODY, NOW + 301), BODY, NOW).ok).toBe(false);
		expect(verifyWebhookRequest(signed, signedHeaders(BODY, NOW - 300), BODY, NOW).ok).toBe(true);
	});

	test('missing or malformed headers are 401, naming the header', () => {
		const { 'x-data-sync-signature': _s, ...noSignature } = signedHeaders();
		const { 'x-data-sync-timestamp': _t, ...noTimestamp } = signedHeaders();
		expect(verifyWebhookRequest(signed, noSignature, BODY, NOW)).toEqual({
			ok: false,
			status: 401,
			error: 'X-Data-Sync-Signature header missing',
		});
		expect(verifyWebhookRequest(signed, noTimestamp, BODY, NOW)).toMatchObject({
			status: 401,
			error: 'X-Data-Sync-Timestamp header missing',
		});
		const words = { ...signedHeaders(), 'x-data-sync-timestamp': 'yesterday' };
		expect(verifyWebhookRequest(signed, words, BODY, NOW)).toMatchObject({ status: 401 });
		const sha1 = { ...signedHeaders(), 'x-data-sync-signature': 'sha1=abc' };
		expect(verifyWebhookRequest(signed, sha1, BODY, NOW)).toMatchObject({
			status: 401,
			error: expect.stringContaining('must be v1=<hex HMAC-SHA256'),
		});
	});

	test('while a secret is rotated, either of two v1 signatures lets the request in', () => {
		const headers = signedHeaders();
		const both = `v1=${'0'.repeat(64)}, ${headers['x-data-sync-signature']}`;
		const verdict = verifyWebhookRequest(
			signed,
			{ ...headers, 'x-data-sync-signature': both },
			BODY,
			NOW,
		);
		expect(verdict.ok).toBe(true);
	});

	test('without a delivery id the signature alone marks the delivery', () => {
		const { 'x-data-sync-delivery': _d, ...headers } = signedHeaders();
		const verdict = verifyWebhookRequest(signed, headers, BODY, NOW);
		expect(verdict).toMatchObject({ ok: true, deliveryId: null });
		if (verdict.ok) expect(verdict.replayKeys).toEqual([expect.stringMatching(/^signature:/)]);
	});

	test('an empty secret lets nothing in, not even a request signed with it', () => {
		const none = { ...signed, secret: '' };
		expect(verifyWebhookRequest(none, signedHeaders(BODY, NOW, ''), BODY, NOW)).toMatchObject({
			ok: false,
			status: 403,
		});
	});
});

describe('header secret', () => {
	test('the configured header with the secret lets the request in; its name is case-free', () => {
		const verdict = verifyWebhookRequest(headerSecret, { 'x-sync-secret': SECRET }, BODY, NOW);
		expect(verdict).toEqual({ ok: true, deliveryId: null, replayKeys: [] });
	});

	test('a wrong secret is 403, a missing header 401', () => {
		expect(
			verifyWebhookRequest(headerSecret, { 'x-sync-secret': `${SECRET}x` }, BODY, NOW),
		).toEqual({ ok: false, status: 403, error: 'the X-Sync-Secret header does not match' });
		expect(verifyWebhookRequest(headerSecret, {}, BODY, NOW)).toEqual({
			ok: false,
			status: 401,
			error: 'X-Sync-Secret header missing',
		});
	});

	test('a delivery id, when sent, is remembered against a duplicate delivery', () => {
		const verdict = verifyWebhookRequest(
			headerSecret,
			{ 'x-sync-secret': SECRET, 'x-data-sync-delivery': 'd-9' },
			BODY,
			NOW,
		);
		expect(verdict).toMatchObject({ ok: true, deliveryId: 'd-9' });
		if (verdict.ok) expect(verdict.replayKeys).toEqual([expect.stringMatching(/^delivery:/)]);
	});

	test('no timestamp is needed: a simple client sends the secret only', () => {
		expect(verifyWebhookRequest(headerSecret, { 'x-sync-secret': SECRET }, '', NOW).ok).toBe(true);
	});
});

describe('constant-time comparison', () => {
	test('equal strings are equal; any difference, including length, is not', () => {
		expect(constantTimeEqual('abc', 'abc')).toBe(true);
		expect(constantTimeEqual('abc', 'abd')).toBe(false);
		expect(constantTimeEqual('abc', 'abcd')).toBe(false);
		expect(constantTimeEqual('', '')).toBe(true);
	});
});

describe('replay memory', () => {
	const ttl = rememberSeconds(300);

	test('a delivery is remembered for twice the tolerance: as long as its replay could pass', () => {
		expect(ttl).toBe(600);
		const memory = remember({}, ['delivery:a', 'signature:b'], NOW, ttl);
		expect(seenBefore(memory, ['delivery:a'], NOW + 1)).toBe('delivery:a');
		expect(seenBefore(memory, ['delivery:x', 'signature:b'], NOW + 599)).toBe('signature:b');
		expect(seenBefore(memory, ['delivery:a'], NOW + 600)).toBeUndefined();
		expect(seenBefore(memory, ['delivery:other'], NOW)).toBeUndefined();
	});

	test('remembering forgets what expired and keeps the newest within the cap', () => {
		let memory = remember({}, ['old'], NOW - 1000, ttl);
		memory = remember(memory, ['a', 'b'], NOW, ttl);
		expect(Object.keys(memory).sort()).toEqual(['a', 'b']);
		memory = remember(memory, ['c'], NOW + 1, ttl, 2);
		expect(Object.keys(memory).sort()).toEqual(['b', 'c']);
	});

	test('never changes the memory it was given', () => {
		const memory = { a: NOW + 10 };
		remember(memory, ['b'], NOW, ttl);
		expect(memory).toEqual({ a: NOW + 10 });
	});
});
