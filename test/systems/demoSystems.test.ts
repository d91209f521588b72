/**
 * The demo systems (demo/systems) over real HTTP: three child processes, each with its own
 * SQLite file, on free loopback ports. See demo/systems/README.md for the REST shape.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { createSystemServer } from '../../demo/systems/server.ts';
import { startSystems } from './helpers';
import type { StartedSystems } from './helpers';

// JSON answers are walked freely in assertions; expect() checks their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

interface Answer {
	status: number;
	headers: Headers;
	body: Json;
}

let sys: StartedSystems;

beforeAll(async () => {
	sys = await startSystems();
});

afterAll(async () => {
	await sys?.stop();
});

async function call(
	name: string,
	method: string,
	pathName: string,
	options: {
		body?: unknown;
		headers?: Record<string, string>;
		auth?: boolean;
		signal?: AbortSignal;
	} = {},
): Promise<Answer> {
	const s = sys.systems[name];
	const headers: Record<string, string> = {
		...(options.auth === false ? {} : s.headers),
		...(options.headers ?? {}),
	};
	if (options.body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(`${s.url}${pathName}`, {
		method,
		headers,
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
		signal: options.signal,
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : {} };
}

const put = (name: string, id: string, body: unknown, headers?: Record<string, string>) =>
	call(name, 'PUT', `/records/${encodeURIComponent(id)}`, { body, headers });
const get = (name: string, id: string) => call(name, 'GET', `/records/${encodeURIComponent(id)}`);
const del = (name: string, id: string, headers?: Record<string, string>) =>
	call(name, 'DELETE', `/records/${encodeURIComponent(id)}`, { headers });

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('health and auth', () => {
	it('answers /health without auth, with the system name and live record count', async () => {
		for (const name of ['system_a', 'system_b', 'system_c']) {
			const res = await call(name, 'GET', '/health', { auth: false });
			expect(res.status).toBe(200);
			expect(res.body).toEqual({ ok: true, system: name, records: expect.any(Number) });
		}
	});

	it('accepts the right secret and 401s a missing or wrong one, for each scheme', async () => {
		const wrong: Record<string, Record<string, string>> = {
			system_a: { 'X-API-Key': 'demo-key-a-wrong' },
			system_b: { Authorization: 'Bearer demo-token-b-wrong' },
			system_c: {
				Authorization: `Basic ${Buffer.from('demo-user-c:wrong-password').toString('base64')}`,
			},
		};
		expect(Object.keys(sys.systems.system_a.headers)).toEqual(['X-API-Key']);
		expect(sys.systems.system_b.headers.Authorization).toMatch(/^Bearer /);
		expect(sys.systems.system_c.headers.Authorization).toMatch(/^Basic /);
		for (const name of ['system_a', 'system_b', 'system_c']) {
			expect((await call(name, 'GET', '/records?limit=1')).status).toBe(200);
			const missing = await call(name, 'GET', '/records?limit=1', { auth: false });
			expect(missing.status).toBe(401);
			expect(missing.body).toEqual({ error: 'unauthorized' });
			const bad = await call(name, 'GET', '/records?limit=1', {
				auth: false,
				headers: wrong[name],
			});
			expect(bad.status).toBe(401);
			// writes are protected too, and a rejected write writes nothing
			const w = await call(name, 'PUT', '/records/auth-probe', {
				auth: false,
				headers: wrong[name],
				body: { x: 1 },
			});
			expect(w.status).toBe(401);
			expect((await get(name, 'auth-probe')).status).toBe(404);
		}
		// bearer scheme name is case-insensitive; a basic header with the right password but the
		// wrong user is still refused
		const token = sys.systems.system_b.headers.Authorization.slice('Bearer '.length);
		expect(
			(
				await call('system_b', 'GET', '/records?limit=1', {
					auth: false,
					headers: { Authorization: `bearer ${token}` },
				})
			).status,
		).toBe(200);
		const c = sys.systems.system_c.auth as { password: string };
		const wrongUser = `Basic ${Buffer.from(`someone:${c.password}`).toString('base64')}`;
		expect(
			(
				await call('system_c', 'GET', '/records?limit=1', {
					auth: false,
					headers: { Authorization: wrongUser },
				})
			).status,
		).toBe(401);
	});
});

describe('records', () => {
	it('creates, reads and updates with server-managed version and updated_at', async () => {
		const before = Date.now();
		const created = await put('system_a', 'crud-1', {
			name: 'Ada',
			tier: 'gold',
			version: 99,
			updated_at: '2000-01-01T00:00:00.000Z',
			_deleted: true,
			deleted_at: '2000-01-01T00:00:00.000Z',
		});
		expect(created.status).toBe(201);
		expect(created.headers.get('etag')).toBe('"1"');
		const rec = created.body.data;
		expect(rec).toEqual({
			id: 'crud-1',
			name: 'Ada',
			tier: 'gold',
			version: 1,
			updated_at: expect.stringMatching(ISO_MS),
		});
		const stamped = Date.parse(rec.updated_at);
		expect(stamped).toBeGreaterThanOrEqual(before);
		expect(stamped).toBeLessThanOrEqual(Date.now());

		const read = await get('system_a', 'crud-1');
		expect(read.status).toBe(200);
		expect(read.body).toEqual(rec);
		expect(read.headers.get('etag')).toBe('"1"');

		// PUT replaces the record's fields
		const updated = await put('system_a', 'crud-1', { name: 'Ada L.', balance: 12.5 });
		expect(updated.status).toBe(200);
		expect(updated.body.data).toMatchObject({
			id: 'crud-1',
			name: 'Ada L.',
			balance: 12.5,
			version: 2,
		});
		expect(updated.body.data.tier).toBeUndefined();
		expect(Date.parse(updated.body.data.updated_at)).toBeGreaterThan(stamped);
		expect(updated.headers.get('etag')).toBe('"2"');

		// numeric ids are stored as strings; body id must match the path
		const numeric = await put('system_a', '42', { id: 42, name: 'n' });
		expect(numeric.status).toBe(201);
		expect(numeric.body.data.id).toBe('42');
		expect((await put('system_a', '43', { id: 'other' })).status).toBe(400);
		expect((await put('system_a', '43', [1, 2])).status).toBe(400);
		const invalidJson = await call('system_a', 'PUT', '/records/43', {
			headers: { 'Content-Type': 'application/json' },
		});
		expect(invalidJson.status).toBe(400);

		const missing = await get('system_a', 'no-such-record');
		expect(missing.status).toBe(404);
		expect(missing.body).toEqual({ error: 'not found' });
	});

	it('pages through 250 records in id order with an opaque cursor', async () => {
		await sys.reset();
		const ids = Array.from({ length: 250 }, (_, i) => `page-${String(i).padStart(3, '0')}`);
		const shuffled = [...ids].reverse();
		const batch = await call('system_b', 'POST', '/records/batch', {
			body: {
				operations: shuffled.map((id) => ({
					op: 'upsert',
					id,
					record: { n: Number(id.slice(5)) },
				})),
			},
		});
		expect(batch.status).toBe(200);
		expect(batch.body.results.every((r: Json) => r.status === 201)).toBe(true);

		const seen: string[] = [];
		const sizes: number[] = [];
		let cursor: string | null = null;
		do {
			const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
			const page = await call('system_b', 'GET', `/records?limit=100${q}`);
			expect(page.status).toBe(200);
			sizes.push(page.body.data.length);
			seen.push(...page.body.data.map((r: Json) => r.id));
			cursor = page.body.next_cursor;
		} while (cursor);
		expect(sizes).toEqual([100, 100, 50]);
		expect(seen).toEqual(ids);

		// default limit is 100; limit above 1000 is capped; bad limit and cursor are 400
		expect((await call('system_b', 'GET', '/records')).body.data).toHaveLength(100);
		const big = await call('system_b', 'GET', '/records?limit=5000');
		expect(big.body.data).toHaveLength(250);
		expect(big.body.next_cursor).toBeNull();
		expect((await call('system_b', 'GET', '/records?limit=0')).status).toBe(400);
		expect((await call('system_b', 'GET', '/records?cursor=not-a-cursor')).status).toBe(400);
		expect((await call('system_b', 'GET', '/records?since=yesterday')).status).toBe(400);
	});

	it('reads incrementally with since (ISO or epoch ms), tombstones included unless excluded', async () => {
		await put('system_c', 'since-1', { v: 1 });
		await put('system_c', 'since-2', { v: 1 });
		const all = await call('system_c', 'GET', '/records?limit=1000');
		const watermark = all.body.data
			.map((r: Json) => r.updated_at as string)
			.sort()
			.pop() as string;

		await put('system_c', 'since-1', { v: 2 });
		await put('system_c', 'since-3', { v: 1 });
		await del('system_c', 'since-2');

		const iso = await call('system_c', 'GET', `/records?since=${encodeURIComponent(watermark)}`);
		expect(iso.status).toBe(200);
		expect(iso.body.data.map((r: Json) => [r.id, r.version, r._deleted === true])).toEqual([
			['since-1', 2, false],
			['since-2', 2, true],
			['since-3', 1, false],
		]);
		const ms = await call('system_c', 'GET', `/records?since=${Date.parse(watermark)}`);
		expect(ms.body.data).toEqual(iso.body.data);
		// the same instant with an offset, and a date-time without a zone (refused, never guessed)
		const offset = new Date(Date.parse(watermark) + 2 * 3600 * 1000)
			.toISOString()
			.replace('Z', '+02:00');
		const viaOffset = await call('system_c', 'GET', `/records?since=${encodeURIComponent(offset)}`);
		expect(viaOffset.body.data).toEqual(iso.body.data);
		expect((await call('system_c', 'GET', '/records?since=2025-06-01T09:00:00')).status).toBe(400);
		const live = await call(
			'system_c',
			'GET',
			`/records?since=${Date.parse(watermark)}&include_deleted=false`,
		);
		expect(live.body.data.map((r: Json) => r.id)).toEqual(['since-1', 'since-3']);
	});

	it('looks records up by key: found ones only, tombstones included', async () => {
		await put('system_a', 'lk-1', { v: 1 });
		await put('system_a', '7', { v: 7 });
		await put('system_a', 'lk-2', { v: 2 });
		await del('system_a', 'lk-2');
		const res = await call('system_a', 'POST', '/records/lookup', {
			body: { keys: ['lk-2', 'nope', 7, 'lk-1', 'lk-1'] },
		});
		expect(res.status).toBe(200);
		expect(res.body.data.map((r: Json) => [r.id, r._deleted === true])).toEqual([
			['lk-2', true],
			['7', false],
			['lk-1', false],
		]);
		expect(
			(await call('system_a', 'POST', '/records/lookup', { body: { keys: 'lk-1' } })).status,
		).toBe(400);
		const tooMany = Array.from({ length: 1001 }, (_, i) => `k${i}`);
		expect(
			(await call('system_a', 'POST', '/records/lookup', { body: { keys: tooMany } })).status,
		).toBe(400);
	});
});

describe('optimistic concurrency', () => {
	it('honours If-Match and If-None-Match with 412 and the current version', async () => {
		await put('system_a', 'occ-1', { v: 1 });
		await put('system_a', 'occ-1', { v: 2 });

		const stale = await put('system_a', 'occ-1', { v: 'stale' }, { 'If-Match': '"1"' });
		expect(stale.status).toBe(412);
		expect(stale.body).toEqual({ error: 'version mismatch', current_version: 2 });
		expect((await get('system_a', 'occ-1')).body).toMatchObject({ v: 2, version: 2 });

		const fresh = await put('system_a', 'occ-1', { v: 3 }, { 'If-Match': '2' }); // quotes optional
		expect(fresh.status).toBe(200);
		expect(fresh.body.data.version).toBe(3);

		const absent = await put('system_a', 'occ-missing', { v: 1 }, { 'If-Match': '"1"' });
		expect(absent.status).toBe(412);
		expect(absent.body.current_version).toBeNull();
		expect((await get('system_a', 'occ-missing')).status).toBe(404);

		const exists = await put('system_a', 'occ-1', { v: 'x' }, { 'If-None-Match': '*' });
		expect(exists.status).toBe(412);
		expect(exists.body.current_version).toBe(3);
		const created = await put('system_a', 'occ-2', { v: 1 }, { 'If-None-Match': '*' });
		expect(created.status).toBe(201);

		const badDelete = await del('system_a', 'occ-1', { 'If-Match': '"2"' });
		expect(badDelete.status).toBe(412);
		expect(badDelete.body.current_version).toBe(3);
		expect((await get('system_a', 'occ-1')).body._deleted).toBeUndefined();
		expect((await put('system_a', 'occ-1', { v: 1 }, { 'If-Match': 'banana' })).status).toBe(400);
	});

	it('deletes to a tombstone, deletes again as a no-op, and revives on write', async () => {
		await put('system_b', 'tomb-1', { name: 'Grace', tier: 'gold' });
		const writesBefore = (await sys.stats('system_b')).applied_writes;

		const deleted = await del('system_b', 'tomb-1');
		expect(deleted.status).toBe(200);
		const tomb = deleted.body.data;
		expect(tomb).toMatchObject({
			id: 'tomb-1',
			name: 'Grace',
			tier: 'gold',
			version: 2,
			_deleted: true,
		});
		expect(tomb.deleted_at).toMatch(ISO_MS);
		expect(tomb.updated_at).toBe(tomb.deleted_at);
		expect((await get('system_b', 'tomb-1')).body).toEqual(tomb);

		const again = await del('system_b', 'tomb-1');
		expect(again.status).toBe(200);
		expect(again.body.data).toEqual(tomb);
		expect((await sys.stats('system_b')).applied_writes).toBe(writesBefore + 1);

		expect((await del('system_b', 'tomb-missing')).status).toBe(404);

		// If-None-Match: * treats a tombstone as absent: the write revives the record
		const revived = await put('system_b', 'tomb-1', { name: 'Grace H.' }, { 'If-None-Match': '*' });
		expect(revived.status).toBe(201);
		expect(revived.body.data).toEqual({
			id: 'tomb-1',
			name: 'Grace H.',
			version: 3,
			updated_at: expect.stringMatching(ISO_MS),
		});
		expect((await sys.stats('system_b')).applied_writes).toBe(writesBefore + 2);
	});

	it('applies a batch op by op, in order, with mixed results', async () => {
		await put('system_c', 'b-exists', { v: 1 });
		await put('system_c', 'b-gone', { v: 1 });
		const res = await call('system_c', 'POST', '/records/batch', {
			body: {
				operations: [
					{ op: 'upsert', id: 'b-new', record: { v: 1 } },
					{ op: 'upsert', id: 'b-exists', record: { v: 2 }, if_match: 1 },
					{ op: 'upsert', id: 'b-exists', record: { v: 'stale' }, if_match: 1 },
					{ op: 'delete', id: 'b-missing' },
					{ op: 'frobnicate', id: 'b-x' },
					{ op: 'delete', id: 'b-gone', if_match: '"1"' },
					{ op: 'upsert', id: 'b-new', record: { v: 'dup' }, if_none_match: true },
					{ op: 'upsert', record: { id: 5, v: 5 } },
				],
			},
		});
		expect(res.status).toBe(200);
		expect(res.body.results.map((r: Json) => [r.id, r.status])).toEqual([
			['b-new', 201],
			['b-exists', 200],
			['b-exists', 412],
			['b-missing', 404],
			['b-x', 400],
			['b-gone', 200],
			['b-new', 412],
			['5', 201],
		]);
		expect(res.body.results[2]).toEqual({
			id: 'b-exists',
			status: 412,
			error: 'version mismatch',
			current_version: 2,
		});
		expect(res.body.results[5].data._deleted).toBe(true);
		expect((await get('system_c', 'b-exists')).body).toMatchObject({ v: 2, version: 2 });
		expect((await get('system_c', 'b-new')).body).toMatchObject({ v: 1, version: 1 });

		const tooMany = Array.from({ length: 501 }, (_, i) => ({
			op: 'upsert',
			id: `t${i}`,
			record: {},
		}));
		expect(
			(await call('system_c', 'POST', '/records/batch', { body: { operations: tooMany } })).status,
		).toBe(400);
		expect((await call('system_c', 'POST', '/records/batch', { body: { ops: [] } })).status).toBe(
			400,
		);
	});
});

describe('idempotency', () => {
	it('replays the first answer for a repeated key and writes nothing; a different body is 422', async () => {
		const s0 = await sys.stats('system_a');
		const first = await put('system_a', 'idem-1', { v: 1 }, { 'Idempotency-Key': 'key-idem-1' });
		expect(first.status).toBe(201);
		expect(first.headers.get('idempotent-replayed')).toBeNull();
		const s1 = await sys.stats('system_a');
		expect(s1.applied_writes).toBe(s0.applied_writes + 1);

		// another write happens in between: the replay still answers what the first request got
		await put('system_a', 'idem-1', { v: 2 });
		const replay = await put('system_a', 'idem-1', { v: 1 }, { 'Idempotency-Key': 'key-idem-1' });
		expect(replay.status).toBe(201);
		expect(replay.body).toEqual(first.body);
		expect(replay.headers.get('idempotent-replayed')).toBe('true');
		expect(replay.headers.get('etag')).toBe('"1"');
		const s2 = await sys.stats('system_a');
		expect(s2.applied_writes).toBe(s1.applied_writes + 1); // only the unkeyed write in between
		expect(s2.idempotent_replays).toBe(s1.idempotent_replays + 1);
		expect((await get('system_a', 'idem-1')).body).toMatchObject({ v: 2, version: 2 });

		const reused = await put(
			'system_a',
			'idem-1',
			{ v: 'other' },
			{ 'Idempotency-Key': 'key-idem-1' },
		);
		expect(reused.status).toBe(422);
		expect((await sys.stats('system_a')).applied_writes).toBe(s2.applied_writes);

		// DELETE
		const d1 = await del('system_a', 'idem-1', { 'Idempotency-Key': 'key-idem-del' });
		const d2 = await del('system_a', 'idem-1', { 'Idempotency-Key': 'key-idem-del' });
		expect(d2.status).toBe(d1.status);
		expect(d2.body).toEqual(d1.body);
		expect(d2.headers.get('idempotent-replayed')).toBe('true');

		// the write log names the key of each applied write
		const log = (await (await fetch(`${sys.systems.system_a.url}/_admin/writes`)).json()) as Json[];
		const mine = log.filter((w) => w.id === 'idem-1');
		expect(mine.map((w) => [w.op, w.version, w.idempotency_key])).toEqual([
			['upsert', 1, 'key-idem-1'],
			['upsert', 2, null],
			['delete', 3, 'key-idem-del'],
		]);
	});

	it('replays batch operations by their own key, and whole batches by the request key', async () => {
		const ops = [
			{ op: 'upsert', id: 'idem-b1', record: { v: 1 }, idempotency_key: 'op-k1' },
			{ op: 'upsert', id: 'idem-b2', record: { v: 1 }, idempotency_key: 'op-k2' },
		];
		const first = await call('system_b', 'POST', '/records/batch', { body: { operations: ops } });
		expect(first.body.results.map((r: Json) => r.status)).toEqual([201, 201]);
		const before = (await sys.stats('system_b')).applied_writes;

		const second = await call('system_b', 'POST', '/records/batch', {
			body: {
				operations: [
					ops[0],
					{ ...ops[1], record: { v: 'changed' } },
					{ op: 'upsert', id: 'idem-b3', record: { v: 1 }, idempotency_key: 'op-k3' },
				],
			},
		});
		expect(second.body.results[0]).toEqual({ ...first.body.results[0], replayed: true });
		expect(second.body.results[1].status).toBe(422);
		expect(second.body.results[2].status).toBe(201);
		expect((await sys.stats('system_b')).applied_writes).toBe(before + 1);

		// a batch op key and a PUT key share one namespace: the same write replays either way
		const viaPut = await put('system_b', 'idem-b1', { v: 1 }, { 'Idempotency-Key': 'op-k1' });
		expect(viaPut.status).toBe(201);
		expect(viaPut.headers.get('idempotent-replayed')).toBe('true');

		const body = { operations: [{ op: 'upsert', id: 'idem-b4', record: { v: 1 } }] };
		const r1 = await call('system_b', 'POST', '/records/batch', {
			body,
			headers: { 'Idempotency-Key': 'batch-k1' },
		});
		const r2 = await call('system_b', 'POST', '/records/batch', {
			body,
			headers: { 'Idempotency-Key': 'batch-k1' },
		});
		expect(r2.body).toEqual(r1.body);
		expect(r2.headers.get('idempotent-replayed')).toBe('true');
		expect((await get('system_b', 'idem-b4')).body.version).toBe(1);
		const r3 = await call('system_b', 'POST', '/records/batch', {
			body: { operations: [] },
			headers: { 'Idempotency-Key': 'batch-k1' },
		});
		expect(r3.status).toBe(422);
	});
});

describe('faults', () => {
	afterEach(async () => {
		for (const name of ['system_a', 'system_b', 'system_c']) {
			await sys.setFaults(name, {
				errorRate: 0,
				throttleRate: 0,
				resetRate: 0,
				slowRate: 0,
				failAfterCommitRate: 0,
			});
		}
	});

	it('errorRate 1: answers 500 and 503 alternately and writes nothing', async () => {
		const before = await sys.stats('system_c');
		await sys.setFaults('system_c', { errorRate: 1 });
		const statuses = [];
		for (let i = 0; i < 4; i++)
			statuses.push((await put('system_c', 'fault-err', { v: i })).status);
		expect(statuses.sort()).toEqual([500, 500, 503, 503]);
		await sys.setFaults('system_c', { errorRate: 0 });
		expect((await get('system_c', 'fault-err')).status).toBe(404);
		const after = await sys.stats('system_c');
		expect(after.applied_writes).toBe(before.applied_writes);
		expect(after.records).toBe(before.records);
		expect(after.faults.errors).toBe(before.faults.errors + 4);
	});

	it('throttleRate 1: 429 with Retry-After in seconds and in HTTP-date form', async () => {
		await sys.setFaults('system_a', { throttleRate: 1, retryAfterSeconds: 2 });
		const values: string[] = [];
		for (let i = 0; i < 2; i++) {
			const res = await call('system_a', 'GET', '/records?limit=1');
			expect(res.status).toBe(429);
			values.push(res.headers.get('retry-after') as string);
		}
		const seconds = values.find((v) => /^\d+$/.test(v));
		const date = values.find((v) => !/^\d+$/.test(v)) as string;
		expect(seconds).toBe('2');
		expect(date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
		const wait = Date.parse(date) - Date.now();
		expect(wait).toBeGreaterThan(500);
		expect(wait).toBeLessThanOrEqual(3000);
	});

	it('resetRate 1: destroys the socket (fetch rejects) and writes nothing', async () => {
		const before = (await sys.stats('system_b')).applied_writes;
		await sys.setFaults('system_b', { resetRate: 1 });
		await expect(put('system_b', 'fault-reset', { v: 1 })).rejects.toThrow();
		await sys.setFaults('system_b', { resetRate: 0 });
		expect((await get('system_b', 'fault-reset')).status).toBe(404);
		const after = await sys.stats('system_b');
		expect(after.applied_writes).toBe(before);
		expect(after.faults.resets).toBeGreaterThanOrEqual(1);
	});

	it('failAfterCommit: the write is applied, the answer lost; the keyed retry replays it', async () => {
		const before = (await sys.stats('system_a')).applied_writes;
		await sys.setFaults('system_a', { failAfterCommitRate: 1 });
		await expect(
			put('system_a', 'fault-fac', { v: 1 }, { 'Idempotency-Key': 'fac-1' }),
		).rejects.toThrow();
		await sys.setFaults('system_a', { failAfterCommitRate: 0 });

		expect((await get('system_a', 'fault-fac')).body).toMatchObject({ v: 1, version: 1 });
		expect((await sys.stats('system_a')).applied_writes).toBe(before + 1);

		const retry = await put('system_a', 'fault-fac', { v: 1 }, { 'Idempotency-Key': 'fac-1' });
		expect(retry.status).toBe(201);
		expect(retry.headers.get('idempotent-replayed')).toBe('true');
		expect(retry.body.data).toMatchObject({ id: 'fault-fac', v: 1, version: 1 });
		const after = await sys.stats('system_a');
		expect(after.applied_writes).toBe(before + 1);
		expect(after.faults.failed_after_commit).toBeGreaterThanOrEqual(1);
	});

	it('slow: a client that times out leaves the write fully applied, and the keyed retry replays', async () => {
		await sys.setFaults('system_c', { slowRate: 1, slowMs: 800 });
		await expect(
			call('system_c', 'PUT', '/records/fault-slow', {
				body: { v: 1 },
				headers: { 'Idempotency-Key': 'slow-1' },
				signal: AbortSignal.timeout(200),
			}),
		).rejects.toThrow();
		await sys.setFaults('system_c', { slowRate: 0 });
		expect((await get('system_c', 'fault-slow')).body).toMatchObject({ v: 1, version: 1 });
		const retry = await put('system_c', 'fault-slow', { v: 1 }, { 'Idempotency-Key': 'slow-1' });
		expect(retry.status).toBe(201);
		expect(retry.headers.get('idempotent-replayed')).toBe('true');
		expect((await sys.stats('system_c')).faults.slow).toBeGreaterThanOrEqual(1);
	});

	it('latencyMs delays every request; admin and health stay direct', async () => {
		await sys.setFaults('system_b', { latencyMs: 150 });
		try {
			let t = Date.now();
			await call('system_b', 'GET', '/records?limit=1');
			expect(Date.now() - t).toBeGreaterThanOrEqual(140);
			t = Date.now();
			await call('system_b', 'GET', '/health');
			expect(Date.now() - t).toBeLessThan(140);
		} finally {
			await sys.setFaults('system_b', { latencyMs: 0 });
		}
	});
});

describe('persistence and in-process use', () => {
	it('keeps records and idempotency keys across a process restart on the same data dir', async () => {
		const dataDir = mkdtempSync(path.join(tmpdir(), 'data-sync-restart-'));
		try {
			const first = await startSystems({ names: ['system_a'], dataDir });
			const url = first.systems.system_a.url;
			const headers = { ...first.systems.system_a.headers, 'Content-Type': 'application/json' };
			const created = await fetch(`${url}/records/persist-1`, {
				method: 'PUT',
				headers: { ...headers, 'Idempotency-Key': 'persist-key' },
				body: JSON.stringify({ name: 'kept' }),
			});
			expect(created.status).toBe(201);
			const createdBody = (await created.json()) as Json;
			await first.stop();

			const second = await startSystems({ names: ['system_a'], dataDir });
			try {
				const url2 = second.systems.system_a.url;
				const read = await fetch(`${url2}/records/persist-1`, { headers });
				expect(read.status).toBe(200);
				expect(await read.json()).toEqual(createdBody.data);
				const writes = (await second.stats('system_a')).applied_writes;
				const replay = await fetch(`${url2}/records/persist-1`, {
					method: 'PUT',
					headers: { ...headers, 'Idempotency-Key': 'persist-key' },
					body: JSON.stringify({ name: 'kept' }),
				});
				expect(replay.status).toBe(201);
				expect(replay.headers.get('idempotent-replayed')).toBe('true');
				expect(await replay.json()).toEqual(createdBody);
				expect((await second.stats('system_a')).applied_writes).toBe(writes);
			} finally {
				await second.stop();
			}
		} finally {
			rmSync(dataDir, { recursive: true, force: true });
		}
	});

	it('runs in-process too, and a fault seed gives the same fault sequence every run', async () => {
		const runOnce = async () => {
			const s = await createSystemServer({
				name: 'inproc',
				dbFile: ':memory:',
				faults: { errorRate: 0.5, seed: 42 },
			});
			try {
				const statuses: number[] = [];
				for (let i = 0; i < 12; i++) {
					const res = await fetch(`${s.url}/records/r${i}`, {
						method: 'PUT',
						headers: { 'Content-Type': 'application/json' },
						body: JSON.stringify({ i }),
					});
					statuses.push(res.status);
					await res.arrayBuffer();
				}
				s.setFaults({ errorRate: 0 });
				const list = (await (await fetch(`${s.url}/records?limit=100`)).json()) as Json;
				expect(list.data).toHaveLength(statuses.filter((x) => x === 201).length);
				expect(s.stats().applied_writes).toBe(list.data.length);
				return statuses;
			} finally {
				await s.close();
			}
		};
		const a = await runOnce();
		const b = await runOnce();
		expect(a).toEqual(b);
		expect(a).toContain(201);
		expect(a.some((x) => x >= 500)).toBe(true);
	});
});
