import {
	sleep,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestMethods,
	type IN8nHttpFullResponse,
	type IPollFunctions,
} from 'n8n-workflow';

import type { SystemConnection } from './systems';

export interface RetryPolicy {
	maxAttempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
	/** A Retry-After longer than this is not waited for: the request fails with the reason. */
	maxRetryAfterMs: number;
	timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
	maxAttempts: 5,
	baseDelayMs: 250,
	maxDelayMs: 8000,
	maxRetryAfterMs: 60000,
	timeoutMs: 10000,
};

/** The policy a node's options ask for: Max Attempts and Request Timeout over the defaults. */
export function retryPolicyFrom(options: IDataObject): RetryPolicy {
	return {
		...DEFAULT_RETRY,
		maxAttempts: Number(options.maxAttempts ?? DEFAULT_RETRY.maxAttempts),
		timeoutMs: Number(options.timeoutMs ?? DEFAULT_RETRY.timeoutMs),
	};
}

/** Counters a sync reports: how hard the transport had to work. */
export interface TransportStats {
	requests: number;
	retries: number;
	throttled: number;
	failures: number;
}

export const newStats = (): TransportStats => ({
	requests: 0,
	retries: 0,
	throttled: 0,
	failures: 0,
});

export interface SystemRequest {
	method: IHttpRequestMethods;
	path: string;
	qs?: IDataObject;
	body?: IDataObject;
	headers?: Record<string, string>;
}

export interface SystemResponse {
	status: number;
	body: IDataObject;
	headers: Record<string, string>;
	attempts: number;
}

/** A request that did not get an answer it could use, after every retry. Carries no secret. */
export class TransportError extends Error {
	constructor(
		message: string,
		readonly system: string,
		readonly attempts: number,
		readonly status?: number,
	) {
		super(message);
		this.name = 'TransportError';
	}
}

const RETRY_CODES = new Set([
	'ECONNRESET',
	'ECONNREFUSED',
	'ECONNABORTED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

const isRetryableStatus = (status: number) => status === 429 || status === 408 || status >= 500;

/** Retry-After in either form (delta seconds or HTTP-date), in ms; undefined if absent or bad. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
	if (!value) return undefined;
	const trimmed = value.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
	const at = Date.parse(trimmed);
	return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with equal jitter: half fixed, half random, capped. */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The network-level reason of a failed request, without URL credentials or headers. */
function networkReason(error: unknown): { code?: string; message: string } {
	const e = error as {
		code?: string;
		cause?: { code?: string; message?: string };
		message?: string;
	};
	const code = e.cause?.code ?? e.code;
	const message = code ?? e.cause?.message ?? e.message ?? 'request failed';
	return { code, message: message.replace(/\/\/[^/@\s]*@/g, '//') };
}

function lowerHeaders(headers: unknown): Record<string, string> {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>))
		out[k.toLowerCase()] = String(v);
	return out;
}

/**
 * The only caller of httpRequestWithAuthentication. Retries 429, 408, 5xx, timeouts and
 * connection errors with exponential backoff and jitter, honouring Retry-After; returns any other
 * answer (2xx, 4xx) to the caller, and throws TransportError when retries run out.
 */
export async function systemRequest(
	ctx: IExecuteFunctions | IPollFunctions,
	system: SystemConnection,
	request: SystemRequest,
	policy: RetryPolicy = DEFAULT_RETRY,
	stats: TransportStats = newStats(),
): Promise<SystemResponse> {
	const what = `${system.name}: ${request.method} ${request.path}`;
	let lastReason = '';
	let lastStatus: number | undefined;
	for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
		if (attempt > 1) stats.retries++;
		stats.requests++;
		let response: IN8nHttpFullResponse | undefined;
		let network: { code?: string; message: string } | undefined;
		try {
			response = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, system.credentialType, {
				method: request.method,
				url: `${system.baseUrl}${request.path}`,
				qs: request.qs,
				body: request.body,
				headers: { accept: 'application/json', ...(request.headers ?? {}) },
				json: true,
				timeout: policy.timeoutMs,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
			})) as IN8nHttpFullResponse;
		} catch (error) {
			network = networkReason(error);
		}
		let waitMs: number | undefined;
		if (network) {
			if (!network.code || !RETRY_CODES.has(network.code)) {
				stats.failures++;
				throw new TransportError(`${what} failed: ${network.message}`, system.name, attempt);
			}
			lastStatus = undefined;
			lastReason = network.message;
		} else {
			const status = response!.statusCode;
			const headers = lowerHeaders(response!.headers);
			const raw = response!.body;
			const body = (typeof raw === 'object' && raw !== null ? raw : {}) as IDataObject;
			if (!isRetryableStatus(status)) return { status, body, headers, attempts: attempt };
			lastStatus = status;
			lastReason = `HTTP ${status}${typeof body.error === 'string' ? ` (${body.error})` : ''}`;
			if (status === 429) stats.throttled++;
			waitMs = retryAfterMs(headers['retry-after']);
			if (waitMs !== undefined && waitMs > policy.maxRetryAfterMs) {
				stats.failures++;
				throw new TransportError(
					`${what} failed: asked to retry after ${Math.round(waitMs / 1000)} s, over the ${Math.round(policy.maxRetryAfterMs / 1000)} s limit`,
					system.name,
					attempt,
					status,
				);
			}
		}
		if (attempt < policy.maxAttempts) await sleep(waitMs ?? backoffMs(attempt, policy));
	}
	stats.failures++;
	throw new TransportError(
		`${what} failed after ${policy.maxAttempts} attempts: ${lastReason}`,
		system.name,
		policy.maxAttempts,
		lastStatus,
	);
}

/** Throws a TransportError unless the system answered 2xx: "system_b: GET /records answered HTTP 409: ..." */
export function expectSuccess(system: SystemConnection, what: string, r: SystemResponse): void {
	if (r.status >= 200 && r.status < 300) return;
	const detail = typeof r.body.error === 'string' ? `: ${r.body.error}` : '';
	throw new TransportError(
		`${system.name}: ${what} answered HTTP ${r.status}${detail}`,
		system.name,
		r.attempts,
		r.status,
	);
}

/** `list` in consecutive pieces of at most `size` (the last may be shorter). */
export function chunks<T>(list: T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
	return out;
}

/** Runs tasks with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
	items: T[],
	limit: number,
	task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			results[i] = await task(items[i], i);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
	return results;
}

/** A record key as one URL path segment: encoded, and never "." or ".." (no path traversal). */
export function keySegment(key: string): string {
	return encodeURIComponent(key).replace(/\./g, '%2E');
}
