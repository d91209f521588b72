/**
 * Persistent record store of one demo system: one SQLite file per system (node:sqlite, WAL).
 *
 * Tables
 *   records      id (TEXT, primary key) + the client's fields (JSON) + server-managed version,
 *                updated_ms, deleted, deleted_ms + h1, h2: the record's content hash (id and
 *                client fields) as two unsigned 32-bit halves, kept on every write so a range
 *                checksum is one indexed SUM (see rangeChecksums)
 *   idempotency  idempotency key -> fingerprint of the request + the first answer
 *   writes       the applied-write log (one row per write actually applied)
 *   changes      the change feed: one row per committed change (writes and seeds), seq
 *                AUTOINCREMENT so it strictly increases and is never reused, even after a reset
 *   subscriptions  URLs that get the changes pushed (outbound events), each with its secret and
 *                the last seq delivered to it (deliveries.ts)
 *
 * Everything a request changes (records, the write log, the change log, the idempotency answer)
 * is written in one SQLite transaction, so a write is either fully applied or not at all, whatever happens to
 * the connection afterwards.
 *
 * Erasable TypeScript only (Node 24 runs this file directly): no enums, namespaces or
 * constructor parameter properties.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';

export type JsonObject = Record<string, unknown>;

/** Fields the server owns: a client-sent value is ignored, never stored as given. */
export const SERVER_FIELDS: readonly string[] = ['version', 'updated_at', '_deleted', 'deleted_at'];

export interface StoredRecord {
	id: string;
	/** The client's fields, without `id` and without server-managed fields, in the order given. */
	fields: JsonObject;
	version: number;
	updatedMs: number;
	deleted: boolean;
	deletedMs: number | null;
}

/** One write as the server understands it (from PUT, DELETE or a batch operation). */
export interface WriteOp {
	op: 'upsert' | 'delete';
	id: string;
	/** upsert only: the record's fields (server fields and `id` are dropped before storing). */
	record?: JsonObject;
	/** Required stored version, or '*' = "a live record exists". */
	ifMatch?: number | '*';
	/** upsert only: fail with 412 when a live record exists. */
	ifNoneMatch?: boolean;
	idempotencyKey?: string;
	/** Who wrote (the `X-Sync-Origin` header, or a batch operation's `origin`); null = a person. */
	origin?: string | null;
}

/** The answer to one write; stored as-is under its idempotency key. */
export interface OpResult {
	status: number;
	data?: JsonObject;
	error?: string;
	current_version?: number | null;
}

export interface ListOptions {
	/** Return ids strictly after this one (the decoded cursor). */
	after?: string;
	/** Only ids in this key range (`from` inclusive, `to` exclusive), as checksums read ranges. */
	range?: KeyRange;
	limit: number;
	/** Only records with updated_at strictly greater than this (epoch ms). */
	sinceMs?: number;
	includeDeleted: boolean;
}

export interface WriteLogEntry {
	id: string;
	op: 'upsert' | 'delete';
	version: number;
	idempotency_key: string | null;
	at: string;
}

/** One entry of the change log, as the feed and the outbound events show it. */
export interface ChangeEntry {
	seq: number;
	key: string;
	op: 'upsert' | 'delete';
	origin: string | null;
	at: string;
}

/** A change with the record as it is now (null only if the record is gone altogether). */
export interface ChangeWithRecord extends ChangeEntry {
	record: JsonObject | null;
}

/** An outbound-event subscription (the secret stays in the store and in deliveries.ts). */
export interface Subscription {
	id: string;
	url: string;
	secret: string;
	createdMs: number;
	/** The last seq delivered (or given up on): the next event starts after it. */
	cursor: number;
}

interface RecordRow {
	id: string;
	fields: string;
	version: number;
	updated_ms: number;
	deleted: number;
	deleted_ms: number | null;
}

/** A key range: `from` inclusive, `to` exclusive; null = open end. Keys order by their UTF-8 bytes. */
export interface KeyRange {
	from: string | null;
	to: string | null;
}

/** The live records of a range: how many, and the order-independent sum of their content hashes. */
export interface RangeChecksum extends KeyRange {
	count: number;
	hash: string;
}

interface IdempotencyRow {
	kind: string;
	fingerprint: string;
	response: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
	id TEXT NOT NULL PRIMARY KEY,
	fields TEXT NOT NULL,
	version INTEGER NOT NULL,
	updated_ms INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0,
	deleted_ms INTEGER,
	h1 INTEGER NOT NULL DEFAULT 0,
	h2 INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_updated ON records (updated_ms);
CREATE TABLE IF NOT EXISTS idempotency (
	key TEXT NOT NULL PRIMARY KEY,
	kind TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	response TEXT NOT NULL,
	created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS writes (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL,
	op TEXT NOT NULL,
	version INTEGER NOT NULL,
	idempotency_key TEXT,
	at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL,
	op TEXT NOT NULL,
	origin TEXT,
	at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
	id TEXT NOT NULL PRIMARY KEY,
	url TEXT NOT NULL,
	secret TEXT NOT NULL,
	created_ms INTEGER NOT NULL,
	cursor INTEGER NOT NULL
);
`;

/** JSON with object keys sorted at every level: equal data gives equal text. */
export function canonicalJson(value: unknown): string {
	if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
	if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
	const obj = value as JsonObject;
	const keys = Object.keys(obj)
		.filter((k) => obj[k] !== undefined)
		.sort();
	return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function sha256(text: string): string {
	return createHash('sha256').update(text).digest('hex');
}

/**
 * A record's content hash for range checksums: sha256 of its id and client fields (canonical
 * JSON), as two unsigned 32-bit halves. Version and timestamps are left out, so the same data
 * stored on two systems hashes the same. Summing up to 2^21 records per half stays exact in
 * SQLite's 64-bit integers, and a sum does not depend on the order of the records.
 */
export function contentHash(id: string, fields: JsonObject): [number, number] {
	const digest = createHash('sha256')
		.update(`${id}\n${canonicalJson(fields)}`)
		.digest();
	return [digest.readUInt32BE(0), digest.readUInt32BE(4)];
}

/** The record's client fields: drops `id` and every server-managed field. */
export function clientFields(record: JsonObject): JsonObject {
	const out: JsonObject = {};
	for (const [k, v] of Object.entries(record)) {
		if (k === 'id' || SERVER_FIELDS.includes(k) || v === undefined) continue;
		// defineProperty: a field named "__proto__" stays a plain field.
		Object.defineProperty(out, k, {
			value: v,
			enumerable: true,
			writable: true,
			configurable: true,
		});
	}
	return out;
}

/** Fingerprint of a write for idempotency: same key + different fingerprint -> 422. */
export function writeFingerprint(op: WriteOp): string {
	return sha256(
		canonicalJson({
			op: op.op,
			id: op.id,
			record: op.op === 'upsert' ? clientFields(op.record ?? {}) : null,
			if_match: op.ifMatch ?? null,
			if_none_match: op.op === 'upsert' ? op.ifNoneMatch === true : null,
		}),
	);
}

export function toRecord(row: StoredRecord): JsonObject {
	const out: JsonObject = { id: row.id, ...row.fields };
	out.version = row.version;
	out.updated_at = new Date(row.updatedMs).toISOString();
	if (row.deleted) {
		out._deleted = true;
		out.deleted_at = new Date(row.deletedMs ?? row.updatedMs).toISOString();
	}
	return out;
}

function fromRow(row: RecordRow): StoredRecord {
	return {
		id: row.id,
		fields: JSON.parse(row.fields) as JsonObject,
		version: Number(row.version),
		updatedMs: Number(row.updated_ms),
		deleted: Number(row.deleted) === 1,
		deletedMs: row.deleted_ms === null ? null : Number(row.deleted_ms),
	};
}

/** The WHERE clause (and its parameters) of the live records in a key range. */
function liveInRange(r: KeyRange): { where: string; params: string[] } {
	const where = ['deleted = 0'];
	const params: string[] = [];
	if (r.from !== null) {
		where.push('id >= ?');
		params.push(r.from);
	}
	if (r.to !== null) {
		where.push('id < ?');
		params.push(r.to);
	}
	return { where: where.join(' AND '), params };
}

export class SystemStore {
	readonly file: string;
	private db: DatabaseSync;
	private txDepth = 0;
	/** Last timestamp handed out: stamps are strictly increasing within a system. */
	private lastMs = 0;
	private stmts: {
		get: StatementSync;
		insert: StatementSync;
		update: StatementSync;
		logWrite: StatementSync;
		logChange: StatementSync;
		getKey: StatementSync;
		putKey: StatementSync;
		lookup: StatementSync;
		countLive: StatementSync;
		countDeleted: StatementSync;
		countWrites: StatementSync;
	};

	constructor(file: string) {
		this.file = file;
		if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
		this.db = new DatabaseSync(file);
		this.db.exec('PRAGMA journal_mode = WAL');
		this.db.exec('PRAGMA synchronous = NORMAL');
		this.db.exec('PRAGMA busy_timeout = 5000');
		const hadRecords = this.hasTable('records');
		const hadChanges = this.hasTable('changes');
		this.db.exec(SCHEMA);
		this.migrate();
		if (hadRecords && !hadChanges) this.backfillChanges();
		this.stmts = {
			get: this.db.prepare('SELECT * FROM records WHERE id = ?'),
			insert: this.db.prepare(
				'INSERT INTO records (id, fields, version, updated_ms, deleted, deleted_ms, h1, h2) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
			),
			update: this.db.prepare(
				'UPDATE records SET fields = ?, version = ?, updated_ms = ?, deleted = ?, deleted_ms = ?, h1 = ?, h2 = ? WHERE id = ?',
			),
			logWrite: this.db.prepare(
				'INSERT INTO writes (id, op, version, idempotency_key, at_ms) VALUES (?, ?, ?, ?, ?)',
			),
			logChange: this.db.prepare('INSERT INTO changes (id, op, origin, at_ms) VALUES (?, ?, ?, ?)'),
			getKey: this.db.prepare('SELECT kind, fingerprint, response FROM idempotency WHERE key = ?'),
			putKey: this.db.prepare(
				'INSERT INTO idempotency (key, kind, fingerprint, response, created_ms) VALUES (?, ?, ?, ?, ?)',
			),
			lookup: this.db.prepare(
				'SELECT * FROM records WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id',
			),
			countLive: this.db.prepare('SELECT COUNT(*) AS n FROM records WHERE deleted = 0'),
			countDeleted: this.db.prepare('SELECT COUNT(*) AS n FROM records WHERE deleted = 1'),
			countWrites: this.db.prepare('SELECT COUNT(*) AS n FROM writes'),
		};
		const max = this.db.prepare('SELECT MAX(updated_ms) AS m FROM records').get() as
			| { m: number | null }
			| undefined;
		this.lastMs = Number(max?.m ?? 0);
	}

	close(): void {
		if (this.db.isOpen) this.db.close();
	}

	private hasTable(name: string): boolean {
		return (
			this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !==
			undefined
		);
	}

	/**
	 * A store written before the change log: one change per record (in key order, origin null,
	 * at = its updated_at), so a reader of the feed from 0 still sees every record.
	 */
	private backfillChanges(): void {
		this.transaction(() => {
			this.db.exec(
				"INSERT INTO changes (id, op, origin, at_ms) SELECT id, CASE deleted WHEN 1 THEN 'delete' ELSE 'upsert' END, NULL, updated_ms FROM records ORDER BY id",
			);
		});
	}

	/** A store written before content hashes existed gets the columns and every row's hash. */
	private migrate(): void {
		const columns = this.db.prepare('PRAGMA table_info(records)').all() as Array<{ name: string }>;
		if (columns.some((c) => c.name === 'h1')) return;
		this.transaction(() => {
			this.db.exec(
				'ALTER TABLE records ADD COLUMN h1 INTEGER NOT NULL DEFAULT 0; ALTER TABLE records ADD COLUMN h2 INTEGER NOT NULL DEFAULT 0;',
			);
			const set = this.db.prepare('UPDATE records SET h1 = ?, h2 = ? WHERE id = ?');
			for (const row of this.db.prepare('SELECT id, fields FROM records').iterate() as Iterable<{
				id: string;
				fields: string;
			}>) {
				set.run(...contentHash(row.id, JSON.parse(row.fields) as JsonObject), row.id);
			}
		});
	}

	/** Write one row: every write of a record's fields goes through here, so its hash stays true. */
	private putRow(
		exists: boolean,
		id: string,
		fields: JsonObject,
		version: number,
		updatedMs: number,
		deletedMs: number | null,
	): void {
		const text = JSON.stringify(fields);
		const [h1, h2] = contentHash(id, fields);
		const deleted = deletedMs === null ? 0 : 1;
		if (exists) this.stmts.update.run(text, version, updatedMs, deleted, deletedMs, h1, h2, id);
		else this.stmts.insert.run(id, text, version, updatedMs, deleted, deletedMs, h1, h2);
	}

	/**
	 * Checksums of live records (tombstones count as absent) over key ranges. With `segments`
	 * > 1, each range is cut into up to that many consecutive pieces holding about as many of
	 * this system's records each, and every piece is returned; the pieces of one range cover it
	 * exactly (the first starts at its `from`, the last ends at its `to`).
	 */
	rangeChecksums(ranges: KeyRange[], segments = 1): Array<RangeChecksum & { range: number }> {
		const out: Array<RangeChecksum & { range: number }> = [];
		// Sums are read as BigInt: past 2^21 records a sum leaves JavaScript's safe integers.
		const hash = (a: unknown, b: unknown) =>
			`${BigInt((a as bigint | null) ?? 0).toString(16)}.${BigInt((b as bigint | null) ?? 0).toString(16)}`;
		const query = (sql: string) => {
			const stmt = this.db.prepare(sql);
			stmt.setReadBigInts(true);
			return stmt;
		};
		ranges.forEach((r, range) => {
			const { where, params } = liveInRange(r);
			if (segments <= 1) {
				const row = query(
					`SELECT COUNT(*) AS n, SUM(h1) AS s1, SUM(h2) AS s2 FROM records WHERE ${where}`,
				).get(...params) as { n: bigint; s1: bigint | null; s2: bigint | null };
				out.push({ ...r, count: Number(row.n), hash: hash(row.s1, row.s2), range });
				return;
			}
			const rows = query(
				`SELECT ((rn - 1) * CAST(? AS INTEGER)) / total AS seg, MIN(id) AS lo, COUNT(*) AS n, SUM(h1) AS s1, SUM(h2) AS s2
				 FROM (SELECT id, h1, h2, ROW_NUMBER() OVER (ORDER BY id) AS rn, COUNT(*) OVER () AS total
				       FROM records WHERE ${where})
				 GROUP BY seg ORDER BY seg`,
			).all(segments, ...params) as Array<{ lo: string; n: bigint; s1: bigint; s2: bigint }>;
			if (rows.length === 0) {
				out.push({ ...r, count: 0, hash: hash(0, 0), range });
				return;
			}
			rows.forEach((row, i) => {
				out.push({
					from: i === 0 ? r.from : row.lo,
					to: i + 1 < rows.length ? rows[i + 1].lo : r.to,
					count: Number(row.n),
					hash: hash(row.s1, row.s2),
					range,
				});
			});
		});
		return out;
	}

	/** The live records of a key range, in key order. */
	rangeRecords(r: KeyRange, limit: number): StoredRecord[] {
		const { where, params } = liveInRange(r);
		const rows = this.db
			.prepare(`SELECT * FROM records WHERE ${where} ORDER BY id LIMIT ?`)
			.all(...params, limit) as unknown as RecordRow[];
		return rows.map(fromRow);
	}

	/** The system's clock: ms since epoch, strictly increasing across writes. */
	stamp(): number {
		let now = Date.now();
		if (now <= this.lastMs) now = this.lastMs + 1;
		this.lastMs = now;
		return now;
	}

	/** Runs fn in a transaction (a savepoint when nested); rolls back if it throws. */
	transaction<T>(fn: () => T): T {
		const depth = this.txDepth;
		const sp = `sp${depth}`;
		this.db.exec(depth === 0 ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${sp}`);
		this.txDepth++;
		try {
			const out = fn();
			this.txDepth--;
			this.db.exec(depth === 0 ? 'COMMIT' : `RELEASE ${sp}`);
			return out;
		} catch (err) {
			this.txDepth--;
			this.db.exec(depth === 0 ? 'ROLLBACK' : `ROLLBACK TO ${sp}; RELEASE ${sp}`);
			throw err;
		}
	}

	get(id: string): StoredRecord | undefined {
		const row = this.stmts.get.get(id) as RecordRow | undefined;
		return row ? fromRow(row) : undefined;
	}

	list(options: ListOptions): { records: StoredRecord[]; more: boolean } {
		const where: string[] = [];
		const params: Array<string | number> = [];
		if (options.after !== undefined) {
			where.push('id > ?');
			params.push(options.after);
		}
		const { from, to } = options.range ?? { from: null, to: null };
		if (from !== null) {
			where.push('id >= ?');
			params.push(from);
		}
		if (to !== null) {
			where.push('id < ?');
			params.push(to);
		}
		if (options.sinceMs !== undefined) {
			where.push('updated_ms > ?');
			params.push(options.sinceMs);
		}
		if (!options.includeDeleted) where.push('deleted = 0');
		const sql =
			'SELECT * FROM records' +
			(where.length ? ` WHERE ${where.join(' AND ')}` : '') +
			' ORDER BY id LIMIT ?';
		params.push(options.limit + 1);
		const rows = this.db.prepare(sql).all(...params) as unknown as RecordRow[];
		const more = rows.length > options.limit;
		return { records: rows.slice(0, options.limit).map(fromRow), more };
	}

	/** Found records only (tombstones included), in the order of the first occurrence of each key. */
	lookup(ids: string[]): StoredRecord[] {
		const unique = [...new Set(ids)];
		if (unique.length === 0) return [];
		const rows = this.stmts.lookup.all(JSON.stringify(unique)) as unknown as RecordRow[];
		const byId = new Map(rows.map((r) => [r.id, fromRow(r)]));
		const out: StoredRecord[] = [];
		for (const id of unique) {
			const rec = byId.get(id);
			if (rec) out.push(rec);
		}
		return out;
	}

	counts(): { records: number; tombstones: number; appliedWrites: number } {
		const n = (s: StatementSync) => Number((s.get() as { n: number }).n);
		return {
			records: n(this.stmts.countLive),
			tombstones: n(this.stmts.countDeleted),
			appliedWrites: n(this.stmts.countWrites),
		};
	}

	writeLog(after = 0, limit = 100000): WriteLogEntry[] {
		const rows = this.db
			.prepare(
				'SELECT id, op, version, idempotency_key, at_ms FROM writes WHERE seq > ? ORDER BY seq LIMIT ?',
			)
			.all(after, limit) as unknown as Array<{
			id: string;
			op: 'upsert' | 'delete';
			version: number;
			idempotency_key: string | null;
			at_ms: number;
		}>;
		return rows.map((r) => ({
			id: r.id,
			op: r.op,
			version: Number(r.version),
			idempotency_key: r.idempotency_key,
			at: new Date(Number(r.at_ms)).toISOString(),
		}));
	}

	/** A stored idempotent answer, or undefined when the key is new. */
	getIdempotent(key: string): IdempotencyRow | undefined {
		return this.stmts.getKey.get(key) as IdempotencyRow | undefined;
	}

	putIdempotent(key: string, kind: string, fingerprint: string, response: unknown): void {
		this.stmts.putKey.run(key, kind, fingerprint, JSON.stringify(response), Date.now());
	}

	/**
	 * Applies one write with its idempotency key (call inside a transaction). A key seen before
	 * returns the first answer (replayed, nothing written); the same key with a different request
	 * answers 422 (nothing written, nothing stored).
	 */
	applyWrite(op: WriteOp): OpResult & { replayed?: boolean } {
		// The key check and the write share one transaction: nothing can slip in between.
		return this.transaction(() => {
			if (op.idempotencyKey === undefined) return this.applyUnkeyed(op);
			const fingerprint = writeFingerprint(op);
			const seen = this.getIdempotent(op.idempotencyKey);
			if (seen) {
				if (seen.kind !== 'op' || seen.fingerprint !== fingerprint) {
					return {
						status: 422,
						error: 'idempotency key already used with a different request',
					};
				}
				return { ...(JSON.parse(seen.response) as OpResult), replayed: true };
			}
			const result = this.applyUnkeyed(op);
			this.putIdempotent(op.idempotencyKey, 'op', fingerprint, result);
			return result;
		});
	}

	private applyUnkeyed(op: WriteOp): OpResult {
		const current = this.get(op.id);
		const live = current !== undefined && !current.deleted;
		if (op.ifMatch !== undefined) {
			const ok =
				op.ifMatch === '*' ? live : current !== undefined && current.version === op.ifMatch;
			if (!ok) {
				return {
					status: 412,
					error: 'version mismatch',
					current_version: current ? current.version : null,
				};
			}
		}
		if (op.op === 'upsert') {
			if (op.ifNoneMatch && live) {
				return { status: 412, error: 'record exists', current_version: current.version };
			}
			const fields = clientFields(op.record ?? {});
			const now = this.stamp();
			const version = current ? current.version + 1 : 1;
			this.putRow(current !== undefined, op.id, fields, version, now, null);
			this.stmts.logWrite.run(op.id, 'upsert', version, op.idempotencyKey ?? null, now);
			this.stmts.logChange.run(op.id, 'upsert', op.origin ?? null, now);
			const stored: StoredRecord = {
				id: op.id,
				fields,
				version,
				updatedMs: now,
				deleted: false,
				deletedMs: null,
			};
			// 201 when the record did not exist as a live record (new, or revived from a tombstone).
			return { status: live ? 200 : 201, data: toRecord(stored) };
		}
		// delete
		if (!current) return { status: 404, error: 'not found' };
		if (current.deleted) return { status: 200, data: toRecord(current) }; // no-op
		const now = this.stamp();
		const version = current.version + 1;
		this.putRow(true, op.id, current.fields, version, now, now);
		this.stmts.logWrite.run(op.id, 'delete', version, op.idempotencyKey ?? null, now);
		this.stmts.logChange.run(op.id, 'delete', op.origin ?? null, now);
		return {
			status: 200,
			data: toRecord({ ...current, version, updatedMs: now, deleted: true, deletedMs: now }),
		};
	}

	/**
	 * Admin seeding: writes records directly (versioned, stamped, not in the write log, but in
	 * the change log with the given origin: a feed reader must see every change to the records).
	 * `_deleted: true` stores a tombstone; an `updated_at` in the past is kept (so demo data can
	 * carry realistic edit times), anything else is stamped now.
	 */
	seed(records: JsonObject[], origin: string | null = null): number {
		return this.transaction(() => {
			for (const rec of records) {
				const id = normalizeId(rec.id);
				if (id === undefined) throw new Error('every seed record needs an id (string or number)');
				const current = this.get(id);
				const version = current ? current.version + 1 : 1;
				const given = typeof rec.updated_at === 'string' ? Date.parse(rec.updated_at) : NaN;
				const now = Number.isFinite(given) && given <= Date.now() ? given : this.stamp();
				const deleted = rec._deleted === true;
				this.putRow(
					current !== undefined,
					id,
					clientFields(rec),
					version,
					now,
					deleted ? now : null,
				);
				this.stmts.logChange.run(id, deleted ? 'delete' : 'upsert', origin, Date.now());
			}
			return records.length;
		});
	}

	/**
	 * Wipes records, idempotency keys, the write log and the change log. The change sequence
	 * goes on from where it was (a reader's cursor stays valid) and every subscription's cursor
	 * moves to its end: nothing from before the reset is delivered.
	 */
	reset(): void {
		this.transaction(() => {
			this.db.exec(
				'DELETE FROM records; DELETE FROM idempotency; DELETE FROM writes; DELETE FROM changes;',
			);
			this.db.prepare('UPDATE subscriptions SET cursor = ?').run(this.lastSeq());
		});
	}

	/** The last seq handed out (0 before the first change); a reset does not lower it. */
	lastSeq(): number {
		const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").get() as
			| { seq: number }
			| undefined;
		return Number(row?.seq ?? 0);
	}

	/**
	 * Changes after `since` (exclusive), in seq order, each with its record as it is now
	 * (tombstones included). `more`: there are changes past the last one returned.
	 */
	changesSince(since: number, limit: number): { changes: ChangeWithRecord[]; more: boolean } {
		const rows = this.db
			.prepare(
				`SELECT c.seq AS seq, c.id AS key, c.op AS op, c.origin AS origin, c.at_ms AS at_ms,
				        r.id AS id, r.fields AS fields, r.version AS version, r.updated_ms AS updated_ms,
				        r.deleted AS deleted, r.deleted_ms AS deleted_ms
				 FROM changes c LEFT JOIN records r ON r.id = c.id
				 WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
			)
			.all(since, limit + 1) as unknown as Array<
			RecordRow & {
				seq: number;
				key: string;
				op: 'upsert' | 'delete';
				origin: string | null;
				at_ms: number;
				id: string | null;
			}
		>;
		const changes = rows.slice(0, limit).map((r) => ({
			seq: Number(r.seq),
			key: r.key,
			op: r.op,
			origin: r.origin,
			at: new Date(Number(r.at_ms)).toISOString(),
			record: r.id === null ? null : toRecord(fromRow(r)),
		}));
		return { changes, more: rows.length > limit };
	}

	/** How many changes come after `since`. */
	countChangesAfter(since: number): number {
		const row = this.db.prepare('SELECT COUNT(*) AS n FROM changes WHERE seq > ?').get(since) as {
			n: number;
		};
		return Number(row.n);
	}

	subscriptions(): Subscription[] {
		const rows = this.db
			.prepare(
				'SELECT id, url, secret, created_ms, cursor FROM subscriptions ORDER BY created_ms, id',
			)
			.all() as unknown as Array<{
			id: string;
			url: string;
			secret: string;
			created_ms: number;
			cursor: number;
		}>;
		return rows.map((r) => ({
			id: r.id,
			url: r.url,
			secret: r.secret,
			createdMs: Number(r.created_ms),
			cursor: Number(r.cursor),
		}));
	}

	/** A new subscription starts at the end of the log: it gets the changes committed after it. */
	addSubscription(id: string, url: string, secret: string): Subscription {
		const sub: Subscription = { id, url, secret, createdMs: Date.now(), cursor: this.lastSeq() };
		this.db
			.prepare(
				'INSERT INTO subscriptions (id, url, secret, created_ms, cursor) VALUES (?, ?, ?, ?, ?)',
			)
			.run(sub.id, sub.url, sub.secret, sub.createdMs, sub.cursor);
		return sub;
	}

	deleteSubscription(id: string): boolean {
		return Number(this.db.prepare('DELETE FROM subscriptions WHERE id = ?').run(id).changes) > 0;
	}

	setSubscriptionCursor(id: string, cursor: number): void {
		this.db.prepare('UPDATE subscriptions SET cursor = ? WHERE id = ?').run(cursor, id);
	}
}

/** A record key: non-empty string, or a finite number stored as its string form. */
export function normalizeId(value: unknown): string | undefined {
	if (typeof value === 'string' && value.length > 0 && value.length <= 512) return value;
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return undefined;
}
