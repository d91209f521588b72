import type { IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';

import type { PlannedWrite } from '../../../nodes/shared/engine';
import { authenticateSystem } from '../../../nodes/shared/transport/credential';
import { writeRecords } from '../../../nodes/shared/transport/records';
import type { SystemConnection } from '../../../nodes/shared/transport/systems';
import {
	backoffMs,
	DEFAULT_RETRY,
	keySegment,
	newStats,
	retryAfterMs,
	systemRequest,
	TransportError,
	type RetryPolicy,
} from '../../../nodes/shared/transport/request';

/**
 * The retry loop against a stubbed n8n HTTP helper: each call takes the next scripted answer
 * (a status with headers and body) or throws the scripted network error. No server, no sleep
 * worth waiting for (1-4 ms backoff).
 */
describe('systemRequest: the retry loop', () => {
	type Scripted = { status: number; headers?: Record<string, string>; body?: object } | Error;
	const system = {
		name: 'system_b',
		credentialType: 'dataSyncSystem2Api',
		baseUrl: 'http://b.test',
	};
	const fast: RetryPolicy = { ...DEFAULT_RETRY, baseDelayMs: 2, maxDelayMs: 4, maxAttempts: 4 };
	const networkError = (code: string) => Object.assign(new Error(`socket: ${code}`), { code });

	function stub(script: Scripted[]) {
		const calls: Array<{ type: string; options: IHttpRequestOptions }> = [];
		const ctx = {
			helpers: {
				httpRequestWithAuthentication: async (type: string, options: IHttpRequestOptions) => {
					calls.push({ type, options });
					const next = script.shift();
					if (!next) throw new Error('the script ran out');
					if (next instanceof Error) throw next;
					return { statusCode: next.status, headers: next.headers ?? {}, body: next.body ?? {} };
				},
			},
		} as unknown as IExecuteFunctions;
		return { ctx, calls };
	}
	const get = (ctx: IExecuteFunctions, stats = newStats(), policy = fast) =>
		systemRequest(
			ctx,
			system as SystemConnection,
			{ method: 'GET', path: '/records/k1' },
			policy,
			stats,
		);

	it('retries 503, a connection reset and 429, then returns the answer, counting each', async () => {
		const { ctx, calls } = stub([
			{ status: 503 },
			networkError('ECONNRESET'),
			{ status: 429, headers: { 'Retry-After': '0' } },
			{ status: 200, body: { id: 'k1' } },
		]);
		const stats = newStats();
		const answer = await get(ctx, stats);
		expect(answer).toEqual({ status: 200, body: { id: 'k1' }, headers: {}, attempts: 4 });
		expect(stats).toEqual({ requests: 4, retries: 3, throttled: 1, failures: 0 });
		// Every try goes through the system's own credential, to its own URL.
		expect(new Set(calls.map((c) => `${c.type} ${c.options.url}`))).toEqual(
			new Set(['dataSyncSystem2Api http://b.test/records/k1']),
		);
		expect(calls[0].options).toMatchObject({
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
		});
	});

	it('returns a 4xx at once: only 408, 429 and 5xx are retried', async () => {
		const { ctx, calls } = stub([{ status: 412, body: { error: 'version moved' } }]);
		expect(await get(ctx)).toMatchObject({ status: 412, attempts: 1 });
		expect(calls).toHaveLength(1);
	});

	it('fails after the last attempt with the system, the request and the last status, never a header', async () => {
		const { ctx, calls } = stub([
			{ status: 500 },
			{ status: 502 },
			{ status: 503, body: { error: 'maintenance' } },
			{ status: 503, body: { error: 'maintenance' } },
		]);
		const stats = newStats();
		const error = await get(ctx, stats).catch((e: unknown) => e as TransportError);
		expect(error).toBeInstanceOf(TransportError);
		expect(error).toMatchObject({
			message: 'system_b: GET /records/k1 failed after 4 attempts: HTTP 503 (maintenance)',
			system: 'system_b',
			attempts: 4,
			status: 503,
		});
		expect(calls).toHaveLength(4);
		expect(stats).toMatchObject({ requests: 4, retries: 3, failures: 1 });
	});

	it('does not wait out a Retry-After over the limit: it fails at once and says why', async () => {
		const { ctx, calls } = stub([{ status: 429, headers: { 'retry-after': '120' } }]);
		const error = await get(ctx).catch((e: unknown) => e as TransportError);
		expect((error as Error).message).toBe(
			'system_b: GET /records/k1 failed: asked to retry after 120 s, over the 60 s limit',
		);
		expect(calls).toHaveLength(1);
	});

	it('does not retry a network error that is not transient', async () => {
		const { ctx, calls } = stub([networkError('ERR_INVALID_URL')]);
		const error = await get(ctx).catch((e: unknown) => e as TransportError);
		expect(error).toMatchObject({
			message: 'system_b: GET /records/k1 failed: ERR_INVALID_URL',
			attempts: 1,
		});
		expect(calls).toHaveLength(1);
	});
});

describe('retry policy', () => {
	it('reads Retry-After in both forms', () => {
		const now = Date.parse('2026-11-24T12:00:00Z');
		expect(retryAfterMs('2', now)).toBe(2000);
		expect(retryAfterMs('0.5', now)).toBe(500);
		expect(retryAfterMs('Tue, 24 Nov 2026 12:00:03 GMT', now)).toBe(3000);
		expect(retryAfterMs('Tue, 24 Nov 2026 11:59:00 GMT', now)).toBe(0);
		expect(retryAfterMs(undefined, now)).toBeUndefined();
		expect(retryAfterMs('soon', now)).toBeUndefined();
	});

	it('backs off exponentially with equal jitter, capped', () => {
		const low = () => 0;
		const high = () => 1;
		expect([1, 2, 3, 4].map((a) => backoffMs(a, DEFAULT_RETRY, low))).toEqual([
			125, 250, 500, 1000,
		]);
		expect([1, 2, 3, 4].map((a) => backoffMs(a, DEFAULT_RETRY, high))).toEqual([
			250, 500, 1000, 2000,
		]);
		expect(backoffMs(20, DEFAULT_RETRY, high)).toBe(DEFAULT_RETRY.maxDelayMs);
	});

	it('puts a key in one path segment that cannot climb the path', () => {
		expect(keySegment('..')).toBe('%2E%2E');
		expect(keySegment('a/../../admin')).toBe('a%2F%2E%2E%2F%2E%2E%2Fadmin');
		expect(keySegment('C-1 ?#')).toBe('C-1%20%3F%23');
	});
});

describe('system credential', () => {
	const credentials = {
		systemName: 'system_b',
		baseUrl: 'http://127.0.0.1:5702/',
		authType: 'bearer',
		token: 'tok-123',
	};

	it('adds each kind of auth to requests for its own base URL', async () => {
		const bearer = await authenticateSystem(credentials, { url: 'http://127.0.0.1:5702/records' });
		expect(bearer.headers).toEqual({ Authorization: 'Bearer tok-123' });
		const apiKey = await authenticateSystem(
			{ ...credentials, authType: 'apiKey', headerName: 'X-Key', apiKey: 'k' },
			{ url: 'http://127.0.0.1:5702/records/lookup', headers: { accept: 'application/json' } },
		);
		expect(apiKey.headers).toEqual({ accept: 'application/json', 'X-Key': 'k' });
		const basic = await authenticateSystem(
			{ ...credentials, authType: 'basic', username: 'u', password: 'p' },
			{ url: 'http://127.0.0.1:5702/records' },
		);
		expect(basic.auth).toEqual({ username: 'u', password: 'p' });
		const none = await authenticateSystem(
			{ ...credentials, authType: 'none' },
			{ url: 'http://127.0.0.1:5702/records' },
		);
		expect(none.headers).toEqual({});
	});

	it.each([
		'http://127.0.0.1:5703/records',
		'http://127.0.0.1:57021/records',
		'http://127.0.0.1:5702.evil.example/records',
		'http://evil.example/?u=http://127.0.0.1:5702/',
	])('refuses to send the secret to %s', async (url) => {
		await expect(authenticateSystem(credentials, { url })).rejects.toThrow(
			'refused to send the credential of "system_b" outside its base URL',
		);
	});
});

/** Batch writes against a stubbed HTTP helper: every write gets an outcome, whatever the answer. */
describe('writeRecords: the batch answer', () => {
	const system = {
		name: 'system_c',
		credentialType: 'dataSyncSystem3Api',
		baseUrl: 'http://c.test',
		shape: { recordsPath: '/records', batchPath: '/records/batch' },
	} as SystemConnection;
	const writes: PlannedWrite[] = ['k1', 'k2'].map((key) => ({
		key,
		system: 'system_c',
		op: 'update',
		record: { id: key, name: 'N' },
		ifMatch: 3,
		idempotencyKey: `idem-${key}`,
		expectedFingerprint: 'f',
	}));
	function answering(status: number, body: object) {
		const ctx = {
			helpers: {
				httpRequestWithAuthentication: async () => ({ statusCode: status, headers: {}, body }),
			},
		} as unknown as IExecuteFunctions;
		return writeRecords(
			ctx,
			system,
			writes,
			{ batchSize: 100, concurrency: 1, versionField: 'version' },
			{ ...DEFAULT_RETRY, maxAttempts: 1 },
			newStats(),
		);
	}

	it('maps one result per operation to each write', async () => {
		const outcomes = await answering(200, {
			results: [
				{ status: 200, record: { id: 'k1', version: 4 } },
				{ status: 412, error: 'version moved', current_version: 9 },
			],
		});
		expect(outcomes.map((o) => [o.write.key, o.outcome])).toEqual([
			['k1', 'written'],
			['k2', 'conflict'],
		]);
	});

	it('fails every write of a batch the system refused, with its answer', async () => {
		const outcomes = await answering(409, { error: 'batch too large' });
		expect(outcomes.map((o) => [o.write.key, o.outcome, o.reason])).toEqual([
			['k1', 'failed', 'system_c: POST /records/batch answered HTTP 409: batch too large'],
			['k2', 'failed', 'system_c: POST /records/batch answered HTTP 409: batch too large'],
		]);
	});

	it('fails every write when a 2xx answer lacks one result per operation', async () => {
		const outcomes = await answering(200, { results: [{ status: 200 }] });
		expect(new Set(outcomes.map((o) => `${o.outcome}: ${o.reason}`))).toEqual(
			new Set([
				'failed: system_c: POST /records/batch answered HTTP 200 without one result per operation',
			]),
		);
		expect(outcomes).toHaveLength(2);
	});
});

/** Each write names its sync as X-Sync-Origin, so the system's change feed can tell its echo. */
describe('writeRecords: the origin of each write', () => {
	const base = {
		name: 'system_b',
		credentialType: 'dataSyncSystem2Api',
		baseUrl: 'http://b.test',
	};
	const batched = {
		...base,
		shape: { recordsPath: '/records', batchPath: '/records/batch' },
	} as SystemConnection;
	const oneByOne = {
		...base,
		shape: { recordsPath: '/records', batchPath: '' },
	} as SystemConnection;
	const write = (key: string, op: PlannedWrite['op'] = 'update'): PlannedWrite => ({
		key,
		system: 'system_b',
		op,
		...(op === 'delete' ? {} : { record: { id: key } }),
		idempotencyKey: `idem-${key}`,
		expectedFingerprint: 'f',
	});

	function recording() {
		const calls: IHttpRequestOptions[] = [];
		const ctx = {
			helpers: {
				httpRequestWithAuthentication: async (_type: string, options: IHttpRequestOptions) => {
					calls.push(options);
					const ops = (options.body as { operations?: unknown[] } | undefined)?.operations;
					const body = ops ? { results: ops.map(() => ({ status: 200 })) } : { data: {} };
					return { statusCode: 200, headers: {}, body };
				},
			},
		} as unknown as IExecuteFunctions;
		const send = (
			system: SystemConnection,
			writes: PlannedWrite[],
			originOf?: (w: PlannedWrite) => string | undefined,
		) =>
			writeRecords(
				ctx,
				system,
				writes,
				{ batchSize: 100, concurrency: 1, originOf },
				{ ...DEFAULT_RETRY, maxAttempts: 1 },
				newStats(),
			);
		return { calls, send };
	}
	const originHeader = (o: IHttpRequestOptions) =>
		(o.headers as Record<string, string> | undefined)?.['X-Sync-Origin'];
	const operations = (o: IHttpRequestOptions) =>
		(o.body as { operations: Array<Record<string, unknown>> }).operations;

	it('one sync in a batch: the header says it once, the operations carry no origin', async () => {
		const { calls, send } = recording();
		await send(batched, [write('k1'), write('k2', 'delete')], () => 'sync-1');
		expect(calls).toHaveLength(1);
		expect(originHeader(calls[0])).toBe('sync-1');
		expect(operations(calls[0]).map((op) => op.origin)).toEqual([undefined, undefined]);
	});

	it('writes of different syncs in one batch: each operation names its own', async () => {
		const { calls, send } = recording();
		const origins: Record<string, string | undefined> = {
			k1: 'sync-1',
			k2: 'sync-2',
			k3: undefined,
		};
		await send(batched, [write('k1'), write('k2'), write('k3')], (w) => origins[w.key]);
		expect(originHeader(calls[0])).toBeUndefined();
		expect(operations(calls[0]).map((op) => [op.id, op.origin])).toEqual([
			['k1', 'sync-1'],
			['k2', 'sync-2'],
			['k3', undefined],
		]);
	});

	it('one request per write: PUT and DELETE each carry the header', async () => {
		const { calls, send } = recording();
		await send(oneByOne, [write('k1'), write('k2', 'delete')], () => 'sync-9');
		expect(calls.map((c) => [c.method, originHeader(c)])).toEqual([
			['PUT', 'sync-9'],
			['DELETE', 'sync-9'],
		]);
	});

	it('no origin given: no header, no origin field (a system that knows none sees nothing new)', async () => {
		const { calls, send } = recording();
		await send(batched, [write('k1')]);
		await send(oneByOne, [write('k2')]);
		expect(calls.map(originHeader)).toEqual([undefined, undefined]);
		expect(operations(calls[0])[0]).not.toHaveProperty('origin');
	});
});
