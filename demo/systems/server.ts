/**
 * One demo system: an HTTP service on loopback over its own SQLite store (store.ts).
 * The REST shape is documented in demo/systems/README.md; keep the two in step.
 *
 *   const sys = await createSystemServer({ name: 'system_a', dataDir: '.data/systems',
 *     auth: { type: 'apiKey', header: 'X-API-Key', value: '...' } });
 *   sys.url; sys.setFaults({ errorRate: 0.1 }); await sys.close();
 *
 * Works in-process (tests) and as a child process (system-process.ts, started by start.ts).
 * Logs nothing by itself, so secrets cannot leak into logs.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';

import { Deliveries, normalizeDelivery } from './deliveries.ts';
import type { DeliverySettings, DeliveryStats } from './deliveries.ts';
import { mulberry32 } from './prng.ts';
import { SystemStore, canonicalJson, normalizeId, sha256, toRecord } from './store.ts';
import type { JsonObject, KeyRange, OpResult, WriteOp } from './store.ts';

export type AuthConfig =
	| { type: 'none' }
	| { type: 'apiKey'; header?: string; value: string }
	| { type: 'bearer'; token: string }
	| { type: 'basic'; username: string; password: string };

export interface FaultSettings {
	/** Added to every (non-admin, non-health) request. */
	latencyMs: number;
	/** 0..1: answer 500 / 503 (alternately), writing nothing. */
	errorRate: number;
	/** 0..1: answer 429 with Retry-After (seconds form and HTTP-date form, alternately). */
	throttleRate: number;
	retryAfterSeconds: number;
	/** 0..1: destroy the socket without answering, writing nothing. */
	resetRate: number;
	/** 0..1: process the request, then hold the answer for slowMs. */
	slowRate: number;
	slowMs: number;
	/** 0..1 (writes only): apply the write, then reset the connection instead of answering. */
	failAfterCommitRate: number;
	/** Seed of the PRNG that decides the faults (reproducible runs). */
	seed: number;
}

export const NO_FAULTS: FaultSettings = {
	latencyMs: 0,
	errorRate: 0,
	throttleRate: 0,
	retryAfterSeconds: 1,
	resetRate: 0,
	slowRate: 0,
	slowMs: 3000,
	failAfterCommitRate: 0,
	seed: 1,
};

export interface SystemServerOptions {
	name: string;
	/** 0 (default) = a free port. */
	port?: number;
	/** Default 127.0.0.1. The admin endpoints answer loopback clients only, whatever the host. */
	host?: string;
	/** The store is `<dataDir>/<name>.sqlite` (default dataDir: .data/systems). */
	dataDir?: string;
	/** Overrides dataDir: a file path, or ':memory:'. */
	dbFile?: string;
	auth?: AuthConfig;
	faults?: Partial<FaultSettings>;
	/** Largest request body accepted (default 16 MiB). */
	maxBodyBytes?: number;
	/** Outbound change events: retries, timeout, coalescing (deliveries.ts DEFAULT_DELIVERY). */
	delivery?: Partial<DeliverySettings>;
}

export interface SystemStats {
	requests: number;
	applied_writes: number;
	idempotent_replays: number;
	faults: {
		errors: number;
		throttled: number;
		resets: number;
		slow: number;
		failed_after_commit: number;
	};
	records: number;
	tombstones: number;
	/** The change log's last seq (0 before the first change; a reset does not lower it). */
	last_seq: number;
	/** Outbound change events since the process started or the last reset. */
	deliveries: DeliveryStats;
}

export interface SystemServer {
	name: string;
	url: string;
	port: number;
	dbFile: string;
	store: SystemStore;
	deliveries: Deliveries;
	setFaults(f: Partial<FaultSettings>): FaultSettings;
	getFaults(): FaultSettings;
	stats(): SystemStats;
	close(): Promise<void>;
}

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
export const MAX_LOOKUP_KEYS = 1000;
export const MAX_BATCH_OPS = 500;
export const MAX_CHECKSUM_RANGES = 1000;
export const MAX_CHECKSUM_SEGMENTS = 256;
/** Most pieces one checksum request returns, and most records with `records: true`. */
export const MAX_CHECKSUM_PIECES = 10000;
export const MAX_RANGE_RECORDS = 5000;
export const DEFAULT_CHANGES_LIMIT = 500;
export const MAX_CHANGES_LIMIT = 5000;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const MAX_ORIGIN_LENGTH = 255;
const MAX_SECRET_LENGTH = 1024;

interface Reply {
	status: number;
	body: unknown;
	headers?: Record<string, string>;
	/** A write that was applied (or replayed): failAfterCommit may drop its answer. */
	write?: boolean;
}

class HttpError extends Error {
	status: number;
	constructor(status: number, message: string) {
		super(message);
		this.status = status;
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

function isLoopback(address: string | undefined): boolean {
	if (!address) return false;
	return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function safeEqual(a: string, b: string): boolean {
	// Hash both sides so the comparison takes the same time whatever the lengths.
	return timingSafeEqual(Buffer.from(sha256(a), 'hex'), Buffer.from(sha256(b), 'hex'));
}

function checkAuth(auth: AuthConfig, req: IncomingMessage): boolean {
	switch (auth.type) {
		case 'none':
			return true;
		case 'apiKey': {
			const value = req.headers[(auth.header ?? 'X-API-Key').toLowerCase()];
			return typeof value === 'string' && safeEqual(value, auth.value);
		}
		case 'bearer': {
			const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
			return m !== null && safeEqual(m[1].trim(), auth.token);
		}
		case 'basic': {
			const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
			if (!m) return false;
			const decoded = Buffer.from(m[1], 'base64').toString('utf8');
			const colon = decoded.indexOf(':');
			if (colon < 0) return false;
			// Evaluate both comparisons, no short circuit.
			const userOk = safeEqual(decoded.slice(0, colon), auth.username);
			const passOk = safeEqual(decoded.slice(colon + 1), auth.password);
			return userOk && passOk;
		}
		default:
			return false;
	}
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		let tooLarge = false;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > maxBytes) tooLarge = true;
			else chunks.push(chunk);
		});
		req.on('end', () => {
			if (tooLarge) reject(new HttpError(413, `request body larger than ${maxBytes} bytes`));
			else resolve(Buffer.concat(chunks));
		});
		req.on('error', reject);
	});
}

function parseJsonObject(raw: Buffer): JsonObject {
	if (raw.length === 0) throw new HttpError(400, 'request body must be a JSON object');
	let value: unknown;
	try {
		value = JSON.parse(raw.toString('utf8'));
	} catch {
		throw new HttpError(400, 'request body is not valid JSON');
	}
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		throw new HttpError(400, 'request body must be a JSON object');
	}
	return value as JsonObject;
}

/** `"3"`, `3`, `W/"3"` -> 3; `*` -> '*'. */
function parseIfMatchHeader(value: string | undefined): number | '*' | undefined {
	if (value === undefined) return undefined;
	const v = value.trim();
	if (v === '*') return '*';
	const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(v);
	if (!m) throw new HttpError(400, 'If-Match must be a version ("3") or *');
	return Number(m[1]);
}

function parseIfMatchField(value: unknown): number | '*' | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
	if (typeof value === 'string') return parseIfMatchHeader(value);
	throw new HttpError(400, 'if_match must be a version number');
}

function parseIdempotencyKey(value: unknown, what: string): string | undefined {
	if (value === undefined || value === null) return undefined;
	if (
		typeof value !== 'string' ||
		value.length === 0 ||
		value.length > MAX_IDEMPOTENCY_KEY_LENGTH
	) {
		throw new HttpError(
			400,
			`${what} must be a string of 1..${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
		);
	}
	return value;
}

/** The writer's origin: the X-Sync-Origin header (absent or empty = null, a person's edit). */
function parseOriginHeader(value: string | string[] | undefined): string | null {
	if (value === undefined) return null;
	const v = (Array.isArray(value) ? value.join(',') : value).trim();
	if (v === '') return null;
	if (v.length > MAX_ORIGIN_LENGTH) {
		throw new HttpError(400, `X-Sync-Origin must be at most ${MAX_ORIGIN_LENGTH} characters`);
	}
	return v;
}

/** A batch operation's own `origin`: a string, or null for "no origin". */
function parseOriginField(value: unknown): string | null {
	if (value === null) return null;
	if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ORIGIN_LENGTH) {
		throw new HttpError(
			400,
			`origin must be null or a string of 1..${MAX_ORIGIN_LENGTH} characters`,
		);
	}
	return value;
}

/** A query parameter that must be a whole number of at least `min`, or absent. */
function intParam(value: string | null, name: string, min: number): number | undefined {
	if (value === null || value === '') return undefined;
	if (!/^\d{1,15}$/.test(value) || Number(value) < min) {
		throw new HttpError(400, `${name} must be an integer >= ${min}`);
	}
	return Number(value);
}

function parseSince(value: string): number {
	// An unencoded "+02:00" arrives as " 02:00" (form decoding): take it back.
	const v = value.trim().replace(/(\d) (\d{2}:?\d{2})$/, '$1+$2');
	if (/^\d{1,16}$/.test(v)) return Number(v);
	// ISO 8601 with a zone (Z or +hh:mm), or a date alone (UTC midnight). A date-time without a
	// zone is refused rather than read in some local time.
	if (
		/^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2}))?$/.test(v)
	) {
		const ms = Date.parse(v);
		if (Number.isFinite(ms)) return ms;
	}
	throw new HttpError(
		400,
		'since must be epoch milliseconds or an ISO 8601 date-time with a zone (e.g. 2025-06-01T09:00:00.000Z)',
	);
}

function parseBool(value: string | null, name: string, dflt: boolean): boolean {
	if (value === null || value === '') return dflt;
	if (/^(true|1|yes)$/i.test(value)) return true;
	if (/^(false|0|no)$/i.test(value)) return false;
	throw new HttpError(400, `${name} must be true or false`);
}

/** A range whose `from` sorts before its `to` (keys sort by their UTF-8 bytes, as SQLite compares them). */
function orderedRange(range: KeyRange, where: string): KeyRange {
	if (
		range.from !== null &&
		range.to !== null &&
		Buffer.compare(Buffer.from(range.from), Buffer.from(range.to)) >= 0
	) {
		throw new HttpError(400, `${where}from must sort before to`);
	}
	return range;
}

/** GET /records' `from` and `to` query parameters: a key each, empty or absent = open end. */
function queryRange(q: URLSearchParams): KeyRange {
	const bound = (name: string): string | null => {
		const raw = q.get(name);
		if (raw === null || raw === '') return null;
		const id = normalizeId(raw);
		if (id === undefined) throw new HttpError(400, `${name} must be a key of up to 512 characters`);
		return id;
	};
	return orderedRange({ from: bound('from'), to: bound('to') }, '');
}

function encodeCursor(lastId: string): string {
	return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
	try {
		const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
			after?: unknown;
		};
		if (typeof parsed.after === 'string') return parsed.after;
	} catch {
		// fall through
	}
	throw new HttpError(400, 'invalid cursor');
}

function opReplyBody(r: OpResult): JsonObject {
	if (r.data) return { data: r.data };
	const body: JsonObject = { error: r.error ?? 'error' };
	if (r.current_version !== undefined) body.current_version = r.current_version;
	return body;
}

function etagHeaders(r: OpResult): Record<string, string> {
	const v = r.data?.version ?? r.current_version;
	return typeof v === 'number' ? { ETag: `"${v}"` } : {};
}

function normalizeFaults(f: Partial<FaultSettings>, base: FaultSettings): FaultSettings {
	const out: FaultSettings = { ...base };
	const rate = (v: unknown, name: string): number => {
		const n = Number(v);
		if (!Number.isFinite(n) || n < 0 || n > 1) throw new HttpError(400, `${name} must be 0..1`);
		return n;
	};
	const nonNeg = (v: unknown, name: string): number => {
		const n = Number(v);
		if (!Number.isFinite(n) || n < 0) throw new HttpError(400, `${name} must be >= 0`);
		return n;
	};
	if (f.latencyMs !== undefined) out.latencyMs = nonNeg(f.latencyMs, 'latencyMs');
	if (f.errorRate !== undefined) out.errorRate = rate(f.errorRate, 'errorRate');
	if (f.throttleRate !== undefined) out.throttleRate = rate(f.throttleRate, 'throttleRate');
	if (f.retryAfterSeconds !== undefined)
		out.retryAfterSeconds = Math.ceil(nonNeg(f.retryAfterSeconds, 'retryAfterSeconds'));
	if (f.resetRate !== undefined) out.resetRate = rate(f.resetRate, 'resetRate');
	if (f.slowRate !== undefined) out.slowRate = rate(f.slowRate, 'slowRate');
	if (f.slowMs !== undefined) out.slowMs = nonNeg(f.slowMs, 'slowMs');
	if (f.failAfterCommitRate !== undefined)
		out.failAfterCommitRate = rate(f.failAfterCommitRate, 'failAfterCommitRate');
	if (f.seed !== undefined) out.seed = Math.trunc(nonNeg(f.seed, 'seed'));
	return out;
}

function destroySocket(socket: Socket): void {
	// A TCP reset where the platform allows it; a plain close otherwise.
	if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
	else socket.destroy();
}

export async function createSystemServer(options: SystemServerOptions): Promise<SystemServer> {
	const name = options.name;
	if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`invalid system name: ${name}`);
	const auth: AuthConfig = options.auth ?? { type: 'none' };
	const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
	const dbFile =
		options.dbFile ?? path.join(options.dataDir ?? path.join('.data', 'systems'), `${name}.sqlite`);
	const store = new SystemStore(dbFile);
	const deliveries = new Deliveries(store, name, options.delivery);

	let faults = normalizeFaults(options.faults ?? {}, NO_FAULTS);
	let random = mulberry32(faults.seed);
	let errorCount = 0;
	let throttleCount = 0;
	const counters = {
		requests: 0,
		idempotent_replays: 0,
		errors: 0,
		throttled: 0,
		resets: 0,
		slow: 0,
		failed_after_commit: 0,
	};

	function setFaults(f: Partial<FaultSettings>): FaultSettings {
		const next = normalizeFaults(f, faults);
		if (f.seed !== undefined) random = mulberry32(next.seed);
		faults = next;
		return { ...faults };
	}

	function stats(): SystemStats {
		const c = store.counts();
		return {
			requests: counters.requests,
			applied_writes: c.appliedWrites,
			idempotent_replays: counters.idempotent_replays,
			faults: {
				errors: counters.errors,
				throttled: counters.throttled,
				resets: counters.resets,
				slow: counters.slow,
				failed_after_commit: counters.failed_after_commit,
			},
			records: c.records,
			tombstones: c.tombstones,
			last_seq: store.lastSeq(),
			deliveries: deliveries.stats(),
		};
	}

	function resetAll(): void {
		store.reset();
		deliveries.reset();
		for (const k of Object.keys(counters) as Array<keyof typeof counters>) counters[k] = 0;
		errorCount = 0;
		throttleCount = 0;
		random = mulberry32(faults.seed);
	}

	// ---------------------------------------------------------------------------------------
	// Records API
	// ---------------------------------------------------------------------------------------

	function listRecords(url: URL): Reply {
		const q = url.searchParams;
		let limit = DEFAULT_LIMIT;
		const rawLimit = q.get('limit');
		if (rawLimit !== null && rawLimit !== '') {
			if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1) {
				throw new HttpError(400, 'limit must be a positive integer');
			}
			limit = Math.min(Number(rawLimit), MAX_LIMIT);
		}
		const cursor = q.get('cursor');
		const since = q.get('since');
		const page = store.list({
			after: cursor ? decodeCursor(cursor) : undefined,
			range: queryRange(q),
			limit,
			sinceMs: since ? parseSince(since) : undefined,
			includeDeleted: parseBool(q.get('include_deleted'), 'include_deleted', true),
		});
		const data = page.records.map(toRecord);
		const last = page.records[page.records.length - 1];
		return {
			status: 200,
			body: { data, next_cursor: page.more && last ? encodeCursor(last.id) : null },
		};
	}

	function lookupRecords(body: JsonObject): Reply {
		const keys = body.keys;
		if (!Array.isArray(keys)) throw new HttpError(400, 'keys must be an array');
		if (keys.length > MAX_LOOKUP_KEYS) {
			throw new HttpError(400, `at most ${MAX_LOOKUP_KEYS} keys per lookup`);
		}
		const ids = keys.map((k, i) => {
			const id = normalizeId(k);
			if (id === undefined)
				throw new HttpError(400, `keys[${i}] must be a non-empty string or a number`);
			return id;
		});
		return { status: 200, body: { data: store.lookup(ids).map(toRecord) } };
	}

	function parseRange(raw: unknown, index: number): KeyRange {
		if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
			throw new HttpError(400, `ranges[${index}] must be an object`);
		}
		const r = raw as JsonObject;
		const bound = (v: unknown, name: string): string | null => {
			if (v === undefined || v === null) return null;
			const id = typeof v === 'string' ? normalizeId(v) : undefined;
			if (id === undefined)
				throw new HttpError(400, `ranges[${index}].${name} must be null or a key (string)`);
			return id;
		};
		return orderedRange(
			{ from: bound(r.from, 'from'), to: bound(r.to, 'to') },
			`ranges[${index}]: `,
		);
	}

	/**
	 * POST /records/checksums {ranges: [{from, to}], segments?, records?}: count and content-hash
	 * sum of the live records in each key range, optionally cut into segments, optionally with
	 * the records themselves. The building block of validation by bisection (see README).
	 */
	function checksums(body: JsonObject): Reply {
		if (!Array.isArray(body.ranges)) throw new HttpError(400, 'ranges must be an array');
		if (body.ranges.length > MAX_CHECKSUM_RANGES) {
			throw new HttpError(400, `at most ${MAX_CHECKSUM_RANGES} ranges per request`);
		}
		const ranges = body.ranges.map(parseRange);
		let segments = 1;
		if (body.segments !== undefined && body.segments !== null) {
			if (
				!Number.isInteger(body.segments) ||
				(body.segments as number) < 1 ||
				(body.segments as number) > MAX_CHECKSUM_SEGMENTS
			) {
				throw new HttpError(400, `segments must be an integer from 1 to ${MAX_CHECKSUM_SEGMENTS}`);
			}
			segments = body.segments as number;
		}
		if (ranges.length * segments > MAX_CHECKSUM_PIECES) {
			throw new HttpError(400, `at most ${MAX_CHECKSUM_PIECES} ranges x segments per request`);
		}
		const withRecords = parseBool(
			body.records === undefined ? null : String(body.records),
			'records',
			false,
		);
		if (withRecords && segments > 1) throw new HttpError(400, 'records needs segments = 1');
		const pieces = store.rangeChecksums(ranges, segments);
		if (withRecords) {
			const total = pieces.reduce((n, p) => n + p.count, 0);
			if (total > MAX_RANGE_RECORDS) {
				throw new HttpError(
					400,
					`the ranges hold ${total} records, more than ${MAX_RANGE_RECORDS}: ask for fewer or smaller ranges`,
				);
			}
		}
		return {
			status: 200,
			body: {
				ranges: pieces.map((p) =>
					withRecords
						? { ...p, records: store.rangeRecords(p, MAX_RANGE_RECORDS).map(toRecord) }
						: p,
				),
			},
		};
	}

	/**
	 * GET /records/changes?since=&limit=: the change log after `since` (exclusive), in seq order,
	 * each change with its record as it is now (tombstones included).
	 */
	function changeFeed(url: URL): Reply {
		const q = url.searchParams;
		const since = intParam(q.get('since'), 'since', 0) ?? 0;
		const limit = Math.min(
			intParam(q.get('limit'), 'limit', 1) ?? DEFAULT_CHANGES_LIMIT,
			MAX_CHANGES_LIMIT,
		);
		const page = store.changesSince(since, limit);
		const last = page.changes[page.changes.length - 1];
		// Nothing new: the cursor stays, unless it is past the log's end (a store made anew), where
		// the answer says where the log really ends.
		const lastSeq = last ? last.seq : Math.min(since, store.lastSeq());
		return {
			status: 200,
			body: { changes: page.changes, last_seq: lastSeq, has_more: page.more },
		};
	}

	function getRecord(id: string): Reply {
		const rec = store.get(id);
		if (!rec) return { status: 404, body: { error: 'not found' } };
		return { status: 200, body: toRecord(rec), headers: { ETag: `"${rec.version}"` } };
	}

	function bodyId(record: JsonObject, pathId: string): void {
		if (record.id === undefined || record.id === null) return;
		const id = normalizeId(record.id);
		if (id === undefined) throw new HttpError(400, 'id must be a non-empty string or a number');
		if (id !== pathId)
			throw new HttpError(400, `id in body (${id}) does not match the path (${pathId})`);
	}

	function singleWrite(op: WriteOp): Reply {
		const r = store.applyWrite(op);
		if (r.replayed) counters.idempotent_replays++;
		const headers = etagHeaders(r);
		if (r.replayed) headers['Idempotent-Replayed'] = 'true';
		return { status: r.status, body: opReplyBody(r), headers, write: true };
	}

	function putRecord(id: string, req: IncomingMessage, raw: Buffer): Reply {
		const record = parseJsonObject(raw);
		bodyId(record, id);
		const inm = req.headers['if-none-match'];
		if (inm !== undefined && inm.trim() !== '*') {
			throw new HttpError(400, 'only If-None-Match: * is supported');
		}
		return singleWrite({
			op: 'upsert',
			id,
			record,
			ifMatch: parseIfMatchHeader(req.headers['if-match']),
			ifNoneMatch: inm !== undefined,
			idempotencyKey: parseIdempotencyKey(req.headers['idempotency-key'], 'Idempotency-Key'),
			origin: parseOriginHeader(req.headers['x-sync-origin']),
		});
	}

	function deleteRecord(id: string, req: IncomingMessage): Reply {
		return singleWrite({
			op: 'delete',
			id,
			ifMatch: parseIfMatchHeader(req.headers['if-match']),
			idempotencyKey: parseIdempotencyKey(req.headers['idempotency-key'], 'Idempotency-Key'),
			origin: parseOriginHeader(req.headers['x-sync-origin']),
		});
	}

	function parseBatchOp(raw: unknown, index: number, origin: string | null): WriteOp {
		if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
			throw new HttpError(400, `operations[${index}] must be an object`);
		}
		const o = raw as JsonObject;
		if (o.op !== 'upsert' && o.op !== 'delete') {
			throw new HttpError(400, 'op must be "upsert" or "delete"');
		}
		let record: JsonObject | undefined;
		if (o.op === 'upsert') {
			if (o.record === null || typeof o.record !== 'object' || Array.isArray(o.record)) {
				throw new HttpError(400, 'upsert needs a record object');
			}
			record = o.record as JsonObject;
		}
		const rawId = o.id ?? record?.id;
		const id = normalizeId(rawId);
		if (id === undefined) throw new HttpError(400, 'id must be a non-empty string or a number');
		if (record) bodyId(record, id);
		return {
			op: o.op,
			id,
			record,
			ifMatch: parseIfMatchField(o.if_match),
			ifNoneMatch:
				o.op === 'upsert' ? o.if_none_match === true || o.if_none_match === '*' : undefined,
			idempotencyKey: parseIdempotencyKey(o.idempotency_key, 'idempotency_key'),
			origin: o.origin === undefined ? origin : parseOriginField(o.origin),
		};
	}

	function batch(req: IncomingMessage, raw: Buffer): Reply {
		const body = parseJsonObject(raw);
		const ops = body.operations;
		if (!Array.isArray(ops)) throw new HttpError(400, 'operations must be an array');
		if (ops.length > MAX_BATCH_OPS)
			throw new HttpError(400, `at most ${MAX_BATCH_OPS} operations per batch`);
		const requestKey = parseIdempotencyKey(req.headers['idempotency-key'], 'Idempotency-Key');
		const origin = parseOriginHeader(req.headers['x-sync-origin']);

		return store.transaction(() => {
			let fingerprint = '';
			if (requestKey !== undefined) {
				fingerprint = sha256(canonicalJson(body));
				const seen = store.getIdempotent(requestKey);
				if (seen) {
					if (seen.kind !== 'batch' || seen.fingerprint !== fingerprint) {
						return {
							status: 422,
							body: { error: 'idempotency key already used with a different request' },
						};
					}
					counters.idempotent_replays++;
					return {
						status: 200,
						body: JSON.parse(seen.response) as unknown,
						headers: { 'Idempotent-Replayed': 'true' },
						write: true,
					};
				}
			}
			const results = ops.map((rawOp, i) => {
				const rawId =
					(rawOp as JsonObject | null)?.id ?? (rawOp as { record?: JsonObject } | null)?.record?.id;
				const shownId = normalizeId(rawId) ?? null;
				let op: WriteOp;
				try {
					op = parseBatchOp(rawOp, i, origin);
				} catch (err) {
					return { id: shownId, status: 400, error: (err as Error).message };
				}
				let r: OpResult & { replayed?: boolean };
				try {
					r = store.applyWrite(op);
				} catch (err) {
					// applyWrite rolled its savepoint back: this op wrote nothing.
					return { id: op.id, status: 500, error: `write failed: ${(err as Error).message}` };
				}
				if (r.replayed) counters.idempotent_replays++;
				const out: JsonObject = { id: op.id, status: r.status };
				if (r.data) out.data = r.data;
				if (r.error !== undefined) out.error = r.error;
				if (r.current_version !== undefined) out.current_version = r.current_version;
				if (r.replayed) out.replayed = true;
				return out;
			});
			const response = { results };
			if (requestKey !== undefined) store.putIdempotent(requestKey, 'batch', fingerprint, response);
			return { status: 200, body: response, write: true };
		});
	}

	async function route(req: IncomingMessage, url: URL, raw: Buffer): Promise<Reply> {
		const method = req.method ?? 'GET';
		const p = url.pathname;
		if (p === '/records' || p === '/records/') {
			if (method === 'GET') return listRecords(url);
			return methodNotAllowed('GET');
		}
		if (p === '/records/lookup' && method === 'POST') return lookupRecords(parseJsonObject(raw));
		if (p === '/records/batch' && method === 'POST') return batch(req, raw);
		if (p === '/records/checksums' && method === 'POST') return checksums(parseJsonObject(raw));
		// Before the id route: `changes` is a reserved id for GET (see README).
		if (p === '/records/changes' && method === 'GET') return changeFeed(url);
		const m = /^\/records\/([^/]+)$/.exec(p);
		if (m) {
			let id: string;
			try {
				id = decodeURIComponent(m[1]);
			} catch {
				throw new HttpError(400, 'invalid record id in path');
			}
			if (method === 'GET') return getRecord(id);
			if (method === 'PUT') return putRecord(id, req, raw);
			if (method === 'DELETE') return deleteRecord(id, req);
			return methodNotAllowed('GET, PUT, DELETE');
		}
		return { status: 404, body: { error: 'not found' } };
	}

	function methodNotAllowed(allow: string): Reply {
		return { status: 405, body: { error: 'method not allowed' }, headers: { Allow: allow } };
	}

	// ---------------------------------------------------------------------------------------
	// Admin API (loopback only, no auth)
	// ---------------------------------------------------------------------------------------

	function subscribe(body: JsonObject): Reply {
		let url: URL | undefined;
		try {
			url = typeof body.url === 'string' ? new URL(body.url) : undefined;
		} catch {
			url = undefined;
		}
		if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
			throw new HttpError(400, 'url must be an http or https URL');
		}
		// The URL shows up in the subscription list: no credentials in it (the secret signs).
		if (url.username || url.password) {
			throw new HttpError(400, 'url must not carry a user name or password');
		}
		const secret = body.secret;
		if (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_SECRET_LENGTH) {
			throw new HttpError(400, `secret must be a string of 1..${MAX_SECRET_LENGTH} characters`);
		}
		const sub = deliveries.subscribe(url.toString(), secret);
		return {
			status: 201,
			body: { id: sub.id, url: sub.url, last_seq: sub.cursor },
		};
	}

	function subscriptions(req: IncomingMessage, url: URL, raw: Buffer): Reply {
		const method = req.method ?? 'GET';
		if (url.pathname === '/_admin/subscriptions') {
			if (method === 'GET') return { status: 200, body: { subscriptions: deliveries.list() } };
			if (method === 'POST') return subscribe(parseJsonObject(raw));
			return methodNotAllowed('GET, POST');
		}
		const m = /^\/_admin\/subscriptions\/([^/]+)$/.exec(url.pathname);
		if (!m) return { status: 404, body: { error: 'not found' } };
		if (method !== 'DELETE') return methodNotAllowed('DELETE');
		let id: string;
		try {
			id = decodeURIComponent(m[1]);
		} catch {
			throw new HttpError(400, 'invalid subscription id in path');
		}
		if (!deliveries.unsubscribe(id)) return { status: 404, body: { error: 'not found' } };
		return { status: 200, body: { deleted: id } };
	}

	function admin(req: IncomingMessage, url: URL, raw: Buffer): Reply {
		const method = req.method ?? 'GET';
		if (url.pathname.startsWith('/_admin/subscriptions')) return subscriptions(req, url, raw);
		switch (url.pathname) {
			case '/_admin/stats':
				if (method === 'GET') return { status: 200, body: stats() };
				return methodNotAllowed('GET');
			case '/_admin/faults':
				if (method === 'GET') return { status: 200, body: faults };
				if (method === 'POST') {
					return { status: 200, body: setFaults(parseJsonObject(raw) as Partial<FaultSettings>) };
				}
				return methodNotAllowed('GET, POST');
			case '/_admin/delivery':
				if (method === 'GET') return { status: 200, body: deliveries.settings };
				if (method === 'POST') {
					try {
						deliveries.settings = normalizeDelivery(
							parseJsonObject(raw) as Partial<DeliverySettings>,
							deliveries.settings,
						);
					} catch (err) {
						if (err instanceof RangeError) throw new HttpError(400, err.message);
						throw err;
					}
					return { status: 200, body: deliveries.settings };
				}
				return methodNotAllowed('GET, POST');
			case '/_admin/reset':
				if (method !== 'POST') return methodNotAllowed('POST');
				resetAll();
				return { status: 200, body: { ok: true } };
			case '/_admin/seed': {
				if (method !== 'POST') return methodNotAllowed('POST');
				const body = parseJsonObject(raw);
				if (!Array.isArray(body.records)) throw new HttpError(400, 'records must be an array');
				const records = body.records as unknown[];
				records.forEach((r, i) => {
					if (
						r === null ||
						typeof r !== 'object' ||
						Array.isArray(r) ||
						normalizeId((r as JsonObject).id) === undefined
					) {
						throw new HttpError(400, `records[${i}] must be an object with an id`);
					}
				});
				const seeded = store.seed(
					records as JsonObject[],
					parseOriginHeader(req.headers['x-sync-origin']),
				);
				deliveries.wake();
				return { status: 200, body: { seeded } };
			}
			case '/_admin/writes': {
				if (method !== 'GET') return methodNotAllowed('GET');
				const after = Number(url.searchParams.get('after') ?? 0) || 0;
				return { status: 200, body: store.writeLog(after) };
			}
			default:
				return { status: 404, body: { error: 'not found' } };
		}
	}

	// ---------------------------------------------------------------------------------------
	// HTTP plumbing
	// ---------------------------------------------------------------------------------------

	function send(res: ServerResponse, reply: Reply): void {
		if (res.destroyed || res.writableEnded) return;
		const text = JSON.stringify(reply.body);
		res.writeHead(reply.status, {
			'Content-Type': 'application/json; charset=utf-8',
			'Content-Length': Buffer.byteLength(text),
			...(reply.headers ?? {}),
		});
		res.end(text);
	}

	async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const method = req.method ?? 'GET';

		if (url.pathname === '/health') {
			req.resume();
			send(res, { status: 200, body: { ok: true, system: name, records: store.counts().records } });
			return;
		}

		if (url.pathname.startsWith('/_admin/')) {
			if (!isLoopback(req.socket.remoteAddress)) {
				req.resume();
				send(res, { status: 403, body: { error: 'admin endpoints answer loopback clients only' } });
				return;
			}
			const raw = await readBody(req, maxBodyBytes);
			send(res, admin(req, url, raw));
			return;
		}

		counters.requests++;
		const raw = await readBody(req, maxBodyBytes);
		// Five draws per request, always, so a fault sequence depends only on the seed and the
		// order of requests, not on which switches are on.
		const draw = {
			reset: random(),
			error: random(),
			throttle: random(),
			slow: random(),
			failAfterCommit: random(),
		};
		const f = faults;
		if (f.latencyMs > 0) await sleep(f.latencyMs);

		if (draw.reset < f.resetRate) {
			counters.resets++;
			destroySocket(req.socket);
			return;
		}
		if (draw.error < f.errorRate) {
			counters.errors++;
			const status = errorCount++ % 2 === 0 ? 500 : 503;
			send(res, {
				status,
				body: {
					error:
						status === 500
							? 'internal error (injected fault)'
							: 'service unavailable (injected fault)',
				},
			});
			return;
		}
		if (draw.throttle < f.throttleRate) {
			counters.throttled++;
			const seconds = f.retryAfterSeconds;
			// Alternate the two forms RFC 9110 allows: delay-seconds and HTTP-date. The date is
			// rounded up to the next whole second so it is never earlier than the delay.
			const retryAfter =
				throttleCount++ % 2 === 0
					? String(seconds)
					: new Date(Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000).toUTCString();
			send(res, {
				status: 429,
				body: { error: 'too many requests (injected fault)', retry_after_seconds: seconds },
				headers: { 'Retry-After': retryAfter },
			});
			return;
		}
		if (!checkAuth(auth, req)) {
			const headers: Record<string, string> = {};
			if (auth.type === 'bearer') headers['WWW-Authenticate'] = `Bearer realm="${name}"`;
			if (auth.type === 'basic') headers['WWW-Authenticate'] = `Basic realm="${name}"`;
			send(res, { status: 401, body: { error: 'unauthorized' }, headers });
			return;
		}

		let reply: Reply;
		try {
			reply = await route(req, url, raw);
		} catch (err) {
			if (err instanceof HttpError) reply = { status: err.status, body: { error: err.message } };
			else throw err;
		}
		// Committed by now: the subscribers hear of it in their own time, never holding this answer.
		if (reply.write) deliveries.wake();

		const isWrite = method === 'PUT' || method === 'DELETE' || url.pathname === '/records/batch';
		if (isWrite && reply.write && draw.failAfterCommit < f.failAfterCommitRate) {
			// The write is committed; the answer is lost on the way back (the lost-ack case).
			counters.failed_after_commit++;
			counters.resets++;
			destroySocket(req.socket);
			return;
		}
		if (draw.slow < f.slowRate) {
			counters.slow++;
			// Processed (and committed) already: a client that gives up meanwhile sees a timeout
			// for a write that is fully applied; its retry with the same idempotency key replays.
			await sleep(f.slowMs);
		}
		send(res, reply);
	}

	const server = http.createServer((req, res) => {
		handle(req, res).catch((err: unknown) => {
			const status = err instanceof HttpError ? err.status : 500;
			const message = err instanceof HttpError ? err.message : 'internal error';
			if (!res.headersSent) send(res, { status, body: { error: message } });
			else res.destroy();
		});
	});
	server.keepAliveTimeout = 5000;

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
	const addr = server.address() as AddressInfo;
	const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

	let closed = false;
	return {
		name,
		url: `http://${host}:${addr.port}`,
		port: addr.port,
		dbFile,
		store,
		deliveries,
		setFaults,
		getFaults: () => ({ ...faults }),
		stats,
		close: async () => {
			if (closed) return;
			closed = true;
			await new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			});
			deliveries.close();
			store.close();
		},
	};
}
