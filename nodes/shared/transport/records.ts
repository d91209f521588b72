import { createHash } from 'node:crypto';

import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { getPath, type KeyRange, type PlannedWrite, type RecordData } from '../engine';
import type { SystemConnection } from './systems';
import {
	chunks,
	expectSuccess,
	keySegment,
	mapLimit,
	systemRequest,
	TransportError,
	type RetryPolicy,
	type SystemRequest,
	type SystemResponse,
	type TransportStats,
} from './request';

const LOOKUP_CHUNK = 500;

/** Names the writer on every write, so the system's change feed and events can say who wrote. */
export const ORIGIN_HEADER = 'X-Sync-Origin';

function recordsOf(system: SystemConnection, body: unknown, what: string): RecordData[] {
	const data = getPath(body, system.shape.dataPath);
	if (!Array.isArray(data)) {
		throw new TransportError(
			`${system.name}: ${what} answered without an array at "${system.shape.dataPath}"`,
			system.name,
			1,
		);
	}
	return data as RecordData[];
}

/** The current records of these keys on one system, by the lookup endpoint (or one by one). */
export async function lookupRecords(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	keys: string[],
	policy: RetryPolicy,
	stats: TransportStats,
	concurrency: number,
): Promise<RecordData[]> {
	const { lookupPath, recordsPath } = system.shape;
	if (!lookupPath) {
		const found = await mapLimit(keys, concurrency, async (key) => {
			const path = `${recordsPath}/${keySegment(key)}`;
			const r = await systemRequest(ctx, system, { method: 'GET', path }, policy, stats);
			if (r.status === 404) return undefined;
			expectSuccess(system, `GET ${path}`, r);
			const record = getPath(r.body, system.shape.dataPath) ?? r.body;
			return record as RecordData;
		});
		return found.filter((r): r is RecordData => r !== undefined);
	}
	const pages = await mapLimit(chunks(keys, LOOKUP_CHUNK), concurrency, async (chunk) => {
		const r = await systemRequest(
			ctx,
			system,
			{ method: 'POST', path: lookupPath, body: { keys: chunk } },
			policy,
			stats,
		);
		expectSuccess(system, `POST ${lookupPath}`, r);
		return recordsOf(system, r.body, `POST ${lookupPath}`);
	});
	return pages.flat();
}

/** What a list reads: a key range only, and at most so many records. */
export interface ListScope {
	/** Only keys from `from` (inclusive) to `to` (exclusive); null = open. Sent as `from`/`to`. */
	range?: KeyRange;
	/** Stop once more than this many records are held: the answer then has `max + 1` of them. */
	max?: number;
}

/** `from` and `to` of a range, as query parameters: an open end is left out. */
const rangeQuery = ({ from, to }: KeyRange = { from: null, to: null }): IDataObject => ({
	...(from !== null ? { from } : {}),
	...(to !== null ? { to } : {}),
});

/**
 * Every record of one system, page by page (tombstones included): `GET <recordsPath>?limit=
 * &cursor=`, with `from` and `to` for a key range (the system lists only those keys, in key
 * order). With `max`, the last page asks only for what passes the bound, so at most `max + 1`
 * records are ever held.
 */
export async function listRecords(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	policy: RetryPolicy,
	stats: TransportStats,
	scope: ListScope = {},
): Promise<RecordData[]> {
	const { recordsPath, pageSize, nextCursorPath } = system.shape;
	const all: RecordData[] = [];
	const room = () => (scope.max === undefined ? pageSize : scope.max + 1 - all.length);
	let cursor: string | undefined;
	do {
		const limit = Math.min(pageSize, room());
		const qs: IDataObject = { limit, ...(cursor ? { cursor } : {}), ...rangeQuery(scope.range) };
		const r = await systemRequest(
			ctx,
			system,
			{ method: 'GET', path: recordsPath, qs },
			policy,
			stats,
		);
		expectSuccess(system, `GET ${recordsPath}`, r);
		all.push(...recordsOf(system, r.body, `GET ${recordsPath}`));
		const next = getPath(r.body, nextCursorPath);
		cursor = typeof next === 'string' && next ? next : undefined;
	} while (cursor && room() > 0);
	return all;
}

export interface WriteOutcome {
	write: PlannedWrite;
	outcome: 'written' | 'conflict' | 'failed';
	status?: number;
	version?: string | number;
	currentVersion?: string | number;
	replayed?: boolean;
	attempts: number;
	reason?: string;
}

function outcomeOf(
	write: PlannedWrite,
	status: number,
	body: IDataObject,
	attempts: number,
	replayed: boolean,
	versionField: string | undefined,
): WriteOutcome {
	const data = (body.data ?? body) as IDataObject;
	const version = versionField ? (data?.[versionField] as string | number | undefined) : undefined;
	if (status >= 200 && status < 300)
		return { write, outcome: 'written', status, version, replayed, attempts };
	if (status === 404 && write.op === 'delete') {
		return { write, outcome: 'written', status, attempts, replayed, reason: 'already absent' };
	}
	const error = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
	if (status === 412) {
		return {
			write,
			outcome: 'conflict',
			status,
			attempts,
			currentVersion: body.current_version as number | undefined,
			reason: `${write.system} changed the record after the check (${error})`,
		};
	}
	return {
		write,
		outcome: 'failed',
		status,
		attempts,
		reason: `${write.system}: HTTP ${status}: ${error}`,
	};
}

const quoteEtag = (v: string | number) => `"${String(v)}"`;

/** Who makes a write (the sync id): its echo in the system's change feed is then recognised. */
export type OriginOf = (write: PlannedWrite) => string | undefined;

/** What one system's writes share: where they go, how they retry, and what they count. */
interface Writer {
	ctx: IExecuteFunctions;
	system: SystemConnection;
	policy: RetryPolicy;
	stats: TransportStats;
	versionField?: string;
	originOf: OriginOf;
}

function asTransportError(system: SystemConnection, error: unknown): TransportError {
	if (error instanceof TransportError) return error;
	return new TransportError(`${system.name}: ${(error as Error).message}`, system.name, 1);
}

/** A request that failed after its retries fails every write in it, with the reason. */
const failAll = (chunk: PlannedWrite[], error: TransportError): WriteOutcome[] =>
	chunk.map((write) => ({
		write,
		outcome: 'failed',
		status: error.status,
		attempts: error.attempts,
		reason: error.message,
	}));

function batchRequest(chunk: PlannedWrite[], path: string, originOf: OriginOf): SystemRequest {
	const origins = chunk.map(originOf);
	// One origin for the whole batch goes in the header; writes of different syncs name their own.
	const shared = origins.every((o) => o === origins[0]) ? origins[0] : undefined;
	const operations = chunk.map((w, i) => ({
		op: w.op === 'delete' ? 'delete' : 'upsert',
		id: w.key,
		...(w.record ? { record: w.record } : {}),
		...(w.ifMatch !== undefined ? { if_match: w.ifMatch } : {}),
		...(w.ifNoneMatch ? { if_none_match: true } : {}),
		idempotency_key: w.idempotencyKey,
		...(shared === undefined && origins[i] !== undefined ? { origin: origins[i] } : {}),
	}));
	// The same writes make the same batch key, so a re-sent batch is recognised as a whole.
	const batchKey = createHash('sha256')
		.update(chunk.map((w) => w.idempotencyKey).join(','))
		.digest('base64url')
		.slice(0, 32);
	const headers: Record<string, string> = { 'Idempotency-Key': batchKey };
	if (shared !== undefined) headers[ORIGIN_HEADER] = shared;
	return { method: 'POST', path, body: { operations }, headers };
}

/** Each write's outcome from the batch answer: one result per operation, in order. */
function batchOutcomes(w: Writer, chunk: PlannedWrite[], r: SystemResponse): WriteOutcome[] {
	const list = r.body.results;
	const what = `POST ${w.system.shape.batchPath}`;
	try {
		expectSuccess(w.system, what, r);
	} catch (error) {
		return failAll(chunk, error as TransportError);
	}
	if (!Array.isArray(list) || list.length !== chunk.length) {
		return failAll(
			chunk,
			new TransportError(
				`${w.system.name}: ${what} answered HTTP ${r.status} without one result per operation`,
				w.system.name,
				r.attempts,
				r.status,
			),
		);
	}
	const replayedBatch = r.headers['idempotent-replayed'] === 'true';
	return chunk.map((write, i) => {
		const res = list[i] as IDataObject;
		const replayed = replayedBatch || res.replayed === true;
		return outcomeOf(write, Number(res.status), res, r.attempts, replayed, w.versionField);
	});
}

async function writeBatch(w: Writer, chunk: PlannedWrite[]): Promise<WriteOutcome[]> {
	const request = batchRequest(chunk, w.system.shape.batchPath, w.originOf);
	let r: SystemResponse;
	try {
		r = await systemRequest(w.ctx, w.system, request, w.policy, w.stats);
	} catch (error) {
		return failAll(chunk, asTransportError(w.system, error));
	}
	return batchOutcomes(w, chunk, r);
}

/** One write, one request: PUT or DELETE on the record, If-Match / If-None-Match as planned. */
async function writeOne(w: Writer, write: PlannedWrite): Promise<WriteOutcome> {
	const path = `${w.system.shape.recordsPath}/${keySegment(write.key)}`;
	const headers: Record<string, string> = { 'Idempotency-Key': write.idempotencyKey };
	if (write.ifMatch !== undefined) headers['If-Match'] = quoteEtag(write.ifMatch);
	if (write.ifNoneMatch) headers['If-None-Match'] = '*';
	const origin = w.originOf(write);
	if (origin !== undefined) headers[ORIGIN_HEADER] = origin;
	const method = write.op === 'delete' ? 'DELETE' : 'PUT';
	const body = write.record as IDataObject | undefined;
	try {
		const r = await systemRequest(
			w.ctx,
			w.system,
			{ method, path, body, headers },
			w.policy,
			w.stats,
		);
		const replayed = r.headers['idempotent-replayed'] === 'true';
		return outcomeOf(write, r.status, r.body, r.attempts, replayed, w.versionField);
	} catch (error) {
		return failAll([write], asTransportError(w.system, error))[0];
	}
}

/**
 * Writes one system's planned changes: in batches where the system has a batch endpoint,
 * otherwise one request per record, with at most `concurrency` requests in flight. Every write
 * gets an outcome; a request that fails after its retries fails every write in it, with the reason.
 * `originOf` names each write's origin (the sync id), sent as X-Sync-Origin (per batch operation
 * as `origin` when one batch holds writes of different syncs).
 */
export async function writeRecords(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	writes: PlannedWrite[],
	options: { batchSize: number; concurrency: number; versionField?: string; originOf?: OriginOf },
	policy: RetryPolicy,
	stats: TransportStats,
): Promise<WriteOutcome[]> {
	const writer: Writer = {
		ctx,
		system,
		policy,
		stats,
		versionField: options.versionField,
		originOf: options.originOf ?? (() => undefined),
	};
	if (!system.shape.batchPath)
		return await mapLimit(writes, options.concurrency, async (write) => writeOne(writer, write));
	const batches = chunks(writes, options.batchSize);
	const results = await mapLimit(batches, options.concurrency, async (chunk) =>
		writeBatch(writer, chunk),
	);
	return results.flat();
}
