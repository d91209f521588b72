/**
 * The demo systems' change feeds (child processes): the persisted change log read with a cursor
 * (GET /records/changes), the writer's origin on every change, and outbound events pushed to
 * subscribers, signed, in seq order, retried, never holding a write. See demo/systems/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { SystemStore } from '../../demo/systems/store.ts';
import { startReceiver, signatureValid, startSystems } from './helpers';
import type { EventReceiver, FeedChange, StartedSystems } from './helpers';

// JSON answers are walked freely in assertions; expect() checks their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const A = 'system_a';
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SECRET = 'whsec-test-not-a-secret';

let sys: StartedSystems;
const receivers: EventReceiver[] = [];
const subscriptions: Array<[string, string]> = [];

beforeAll(async () => {
	sys = await startSystems({
		names: [A],
		// Quick retries, so a failing subscriber is retried (and given up on) within a test.
		delivery: { retryBaseMs: 20, retryMaxMs: 80, timeoutMs: 1000, maxAttempts: 4 },
	});
});

beforeEach(async () => {
	await sys.reset();
});

afterEach(async () => {
	for (const [name, id] of subscriptions.splice(0)) await sys.unsubscribe(name, id);
	for (const r of receivers.splice(0)) await r.close();
});

afterAll(async () => {
	await sys?.stop();
});

async function call(
	method: string,
	pathName: string,
	options: { body?: unknown; headers?: Record<string, string>; auth?: boolean } = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
	const s = sys.systems[A];
	const headers: Record<string, string> = {
		...(options.auth === false ? {} : s.headers),
		...(options.headers ?? {}),
	};
	if (options.body !== undefined) headers['Content-Type'] = 'application/json';
	const res = await fetch(`${s.url}${pathName}`, {
		method,
		headers,
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Json) : {} };
}

const put = (id: string, body: unknown, headers?: Record<string, string>) =>
	call('PUT', `/records/${encodeURIComponent(id)}`, { body, headers });
const del = (id: string, headers?: Record<string, string>) =>
	call('DELETE', `/records/${encodeURIComponent(id)}`, { headers });
const batch = (operations: unknown[], headers?: Record<string, string>) =>
	call('POST', '/records/batch', { body: { operations }, headers });
const feed = (query = '') => call('GET', `/records/changes${query}`);
const admin = async (method: string, pathName: string, body?: unknown) => {
	const res = await fetch(`${sys.systems[A].url}${pathName}`, {
		method,
		headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, body: (await res.json()) as Json };
};

/** A receiver subscribed to system_a, both cleaned up after the test. */
async function subscribed(): Promise<{ receiver: EventReceiver; id: string }> {
	const receiver = await startReceiver();
	receivers.push(receiver);
	const id = await sys.subscribe(A, receiver.url, SECRET);
	subscriptions.push([A, id]);
	return { receiver, id };
}

const seqsOf = (changes: Array<{ seq: number }>) => changes.map((c) => c.seq);
const increasing = (seqs: number[]) => seqs.every((s, i) => i === 0 || s > seqs[i - 1]);

describe('change feed', () => {
	it('lists every committed change after the cursor, with the current record, tombstones included', async () => {
		const start = (await feed()).body.last_seq as number;
		expect((await put('c1', { name: 'one' })).status).toBe(201);
		expect((await put('c1', { name: 'one, renamed' })).status).toBe(200);
		expect((await put('c2', { name: 'two' })).status).toBe(201);
		expect((await del('c1')).status).toBe(200);

		const res = await feed(`?since=${start}`);
		expect(res.status).toBe(200);
		expect(res.body.has_more).toBe(false);
		const changes = res.body.changes as FeedChange[];
		expect(changes.map((c) => [c.key, c.op, c.origin])).toEqual([
			['c1', 'upsert', null],
			['c1', 'upsert', null],
			['c2', 'upsert', null],
			['c1', 'delete', null],
		]);
		expect(increasing(seqsOf(changes))).toBe(true);
		expect(changes[0].seq).toBeGreaterThan(start);
		expect(res.body.last_seq).toBe(changes[3].seq);
		for (const c of changes) expect(c.at).toMatch(ISO_MS);
		// The record as it is now: c1's changes all carry its tombstone.
		expect(changes[0].record).toMatchObject({
			id: 'c1',
			name: 'one, renamed',
			version: 3,
			_deleted: true,
		});
		expect(changes[3].record).toEqual(changes[0].record);
		expect(changes[2].record).toMatchObject({ id: 'c2', name: 'two', version: 1 });
		expect(changes[2].record).not.toHaveProperty('_deleted');
		// The delete's time is the tombstone's.
		expect(changes[3].at).toBe(changes[3].record?.deleted_at);

		// since is exclusive; nothing new keeps the cursor where it is.
		const after = await feed(`?since=${changes[1].seq}`);
		expect(seqsOf(after.body.changes)).toEqual(seqsOf(changes.slice(2)));
		const none = await feed(`?since=${changes[3].seq}`);
		expect(none.body).toEqual({ changes: [], last_seq: changes[3].seq, has_more: false });
		expect((await sys.stats(A)).last_seq).toBe(changes[3].seq);
	});

	it('logs only what was applied: no entry for a 412, a replay, a no-op delete or a refused request', async () => {
		await put('k', { v: 1 }, { 'Idempotency-Key': 'feed-k-1' });
		const start = (await feed()).body.last_seq as number;
		expect((await put('k', { v: 1 }, { 'Idempotency-Key': 'feed-k-1' })).status).toBe(201);
		expect((await put('k', { v: 2 }, { 'If-Match': '"7"' })).status).toBe(412);
		expect((await put('k', [1, 2])).status).toBe(400);
		expect((await call('PUT', '/records/k', { auth: false, body: { v: 3 } })).status).toBe(401);
		expect((await del('k')).status).toBe(200);
		expect((await del('k')).status).toBe(200); // a tombstone deleted again: a no-op
		expect((await del('never-there')).status).toBe(404);
		const changes = (await feed(`?since=${start}`)).body.changes as FeedChange[];
		expect(changes.map((c) => [c.key, c.op])).toEqual([['k', 'delete']]);
	});

	it('pages with limit and has_more; since past the end answers where the log ends', async () => {
		const start = (await feed()).body.last_seq as number;
		await batch(Array.from({ length: 12 }, (_, i) => ({ op: 'upsert', id: `p${i}`, record: {} })));
		const pages: Json[] = [];
		for (let since = start; ; ) {
			const res = await feed(`?since=${since}&limit=5`);
			expect(res.status).toBe(200);
			pages.push(res.body);
			since = res.body.last_seq;
			if (!res.body.has_more) break;
		}
		expect(pages.map((p) => [p.changes.length, p.has_more])).toEqual([
			[5, true],
			[5, true],
			[2, false],
		]);
		const all = pages.flatMap((p) => p.changes as FeedChange[]);
		expect(all.map((c) => c.key)).toEqual(Array.from({ length: 12 }, (_, i) => `p${i}`));
		expect(increasing(seqsOf(all))).toBe(true);
		expect(pages.map((p) => p.last_seq)).toEqual([all[4].seq, all[9].seq, all[11].seq]);

		// The default page is 500; a limit over 5000 is capped, not refused.
		expect((await feed(`?since=${start}`)).body.changes).toHaveLength(12);
		expect((await feed(`?since=${start}&limit=999999`)).body.changes).toHaveLength(12);
		// A cursor past the end (a store made anew) gets the real end back.
		expect((await feed('?since=999999')).body).toEqual({
			changes: [],
			last_seq: all[11].seq,
			has_more: false,
		});
		for (const bad of ['?since=-1', '?since=abc', '?limit=0', '?limit=2.5', '?since=1e3']) {
			const res = await feed(bad);
			expect([bad, res.status]).toEqual([bad, 400]);
		}
		// Authenticated like the other record endpoints.
		expect((await call('GET', '/records/changes', { auth: false })).status).toBe(401);
	});

	it('records the writer: X-Sync-Origin on PUT, DELETE and batch, an operation overriding it, none = null', async () => {
		const start = (await feed()).body.last_seq as number;
		await put('o1', { v: 1 }, { 'X-Sync-Origin': 'sync-0001' });
		await put('o1', { v: 2 }); // a person's edit
		await put('o2', { v: 1 }, { 'X-Sync-Origin': '' }); // empty = none
		await del('o1', { 'X-Sync-Origin': 'sync-0002' });
		const b = await batch(
			[
				{ op: 'upsert', id: 'o3', record: { v: 1 } },
				{ op: 'upsert', id: 'o4', record: { v: 1 }, origin: 'sync-other' },
				{ op: 'upsert', id: 'o5', record: { v: 1 }, origin: null },
				{ op: 'delete', id: 'o2' },
				{ op: 'upsert', id: 'o6', record: { v: 1 }, origin: 42 },
			],
			{ 'X-Sync-Origin': 'sync-0003' },
		);
		expect(b.body.results.map((r: Json) => r.status)).toEqual([201, 201, 201, 200, 400]);
		expect(b.body.results[4].error).toMatch(/origin must be/);
		await batch([{ op: 'upsert', id: 'o7', record: { v: 1 } }]);
		// The seed is a change too: a feed reader sees every change to the records.
		await admin('POST', '/_admin/seed', { records: [{ id: 'o8', v: 1 }] });
		const res = await fetch(`${sys.systems[A].url}/_admin/seed`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-Sync-Origin': 'loader' },
			body: JSON.stringify({ records: [{ id: 'o9', v: 1, _deleted: true }] }),
		});
		expect(res.status).toBe(200);
		expect((await put('o10', {}, { 'X-Sync-Origin': 'x'.repeat(256) })).status).toBe(400);

		const changes = (await feed(`?since=${start}`)).body.changes as FeedChange[];
		expect(changes.map((c) => [c.key, c.op, c.origin])).toEqual([
			['o1', 'upsert', 'sync-0001'],
			['o1', 'upsert', null],
			['o2', 'upsert', null],
			['o1', 'delete', 'sync-0002'],
			['o3', 'upsert', 'sync-0003'],
			['o4', 'upsert', 'sync-other'],
			['o5', 'upsert', null],
			['o2', 'delete', 'sync-0003'],
			['o7', 'upsert', null],
			['o8', 'upsert', null],
			['o9', 'delete', 'loader'],
		]);
		// The origin is not part of a write's identity: a retry under another origin replays.
		await put('o11', { v: 1 }, { 'Idempotency-Key': 'o11-k', 'X-Sync-Origin': 'first' });
		const again = await put(
			'o11',
			{ v: 1 },
			{ 'Idempotency-Key': 'o11-k', 'X-Sync-Origin': 'second' },
		);
		expect(again.headers.get('idempotent-replayed')).toBe('true');
		const last = (await feed(`?since=${changes[changes.length - 1].seq}`)).body.changes;
		expect(last.map((c: FeedChange) => c.origin)).toEqual(['first']);
	});

	it('keeps "changes" usable as a record id: PUT, DELETE and lookup reach it, GET is the feed', async () => {
		expect((await put('changes', { name: 'the record' })).status).toBe(201);
		const looked = await call('POST', '/records/lookup', { body: { keys: ['changes'] } });
		expect(looked.body.data).toEqual([expect.objectContaining({ id: 'changes', version: 1 })]);
		const res = await feed();
		expect(res.body).toMatchObject({ changes: expect.any(Array), has_more: false });
		expect(res.body.changes.map((c: FeedChange) => c.key)).toContain('changes');
		expect((await del('changes')).body.data).toMatchObject({ id: 'changes', _deleted: true });
		// Any other method on the path is the record's.
		expect((await call('PATCH', '/records/changes')).status).toBe(405);
	});

	it('counts on across a restart and a reset: seq never goes back, subscriptions and their cursors stay', async () => {
		const dataDir = `${sys.dataDir}/restart`;
		// The subscriber is down before the restart: nothing is dropped, everything waits.
		const own = await startSystems({
			names: ['system_b'],
			dataDir,
			delivery: { retryBaseMs: 50, retryMaxMs: 50, maxAttempts: 100 },
		});
		const receiver = await startReceiver();
		receivers.push(receiver);
		receiver.answer = () => 503;
		let second: StartedSystems | undefined;
		const write = (s: StartedSystems, id: string) =>
			fetch(`${s.systems.system_b.url}/records/${id}`, {
				method: 'PUT',
				headers: { ...s.systems.system_b.headers, 'Content-Type': 'application/json' },
				body: '{}',
			});
		try {
			await own.subscribe('system_b', receiver.url, SECRET);
			await write(own, 'r1');
			await write(own, 'r2');
			const before = await own.changes('system_b');
			await receiver.waitForRequests(1);
			await own.stop();

			receiver.answer = () => 200;
			second = await startSystems({ names: ['system_b'], dataDir });
			const subs = (await fetch(`${second.systems.system_b.url}/_admin/subscriptions`).then((r) =>
				r.json(),
			)) as Json;
			expect(subs.subscriptions).toEqual([expect.objectContaining({ url: receiver.url })]);
			expect(JSON.stringify(subs)).not.toContain(SECRET);
			await write(second, 'r3');
			const after = await second.changes('system_b');
			expect(after.map((c) => [c.seq, c.key])).toEqual([
				...before.map((c) => [c.seq, c.key]),
				[before[1].seq + 1, 'r3'],
			]);
			// What was not delivered before the restart goes out after it, in order.
			await receiver.waitFor((events) =>
				events.flatMap((e) => e.body.changes).some((c) => c.key === 'r3'),
			);
			expect(receiver.accepted.flatMap((e) => e.body.changes.map((c) => c.key))).toEqual([
				'r1',
				'r2',
				'r3',
			]);

			await second.reset();
			expect(await second.changes('system_b')).toEqual([]);
			await write(second, 'r4');
			const reset = await second.changes('system_b');
			expect(reset.map((c) => c.key)).toEqual(['r4']);
			expect(reset[0].seq).toBeGreaterThan(after[after.length - 1].seq);
			// A reset moves the subscription past the wiped log: only r4 follows.
			await receiver.waitFor((events) =>
				events.flatMap((e) => e.body.changes).some((c) => c.key === 'r4'),
			);
			expect(receiver.accepted.flatMap((e) => e.body.changes.map((c) => c.key))).toEqual([
				'r1',
				'r2',
				'r3',
				'r4',
			]);
		} finally {
			await own.stop();
			await second?.stop();
		}
	});
});

describe('a store from before the change log', () => {
	it('gets one change per record when opened, so a reader from 0 sees every record', () => {
		const dir = mkdtempSync(path.join(tmpdir(), 'data-sync-feed-'));
		try {
			const file = path.join(dir, 'old.sqlite');
			const store = new SystemStore(file);
			store.applyWrite({ op: 'upsert', id: 'b', record: { v: 1 } });
			store.applyWrite({ op: 'upsert', id: 'a', record: { v: 1 } });
			store.applyWrite({ op: 'delete', id: 'b' });
			store.close();
			// As an older version of the store left it: no change log.
			const db = new DatabaseSync(file);
			db.exec('DROP TABLE changes');
			db.close();

			const reopened = new SystemStore(file);
			const { changes } = reopened.changesSince(0, 10);
			expect(changes.map((c) => [c.seq, c.key, c.op, c.origin])).toEqual([
				[1, 'a', 'upsert', null],
				[2, 'b', 'delete', null],
			]);
			expect(changes[1].at).toBe(changes[1].record?.deleted_at);
			reopened.applyWrite({ op: 'upsert', id: 'c', record: {}, origin: 'sync-x' });
			expect(reopened.changesSince(2, 10).changes.map((c) => [c.seq, c.origin])).toEqual([
				[3, 'sync-x'],
			]);
			reopened.close();
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('outbound events', () => {
	it('pushes each commit to a subscriber, signed over the timestamp and the raw body', async () => {
		const { receiver, id } = await subscribed();
		const listed = await admin('GET', '/_admin/subscriptions');
		expect(listed.body.subscriptions).toEqual([
			expect.objectContaining({ id, url: receiver.url, delivered: 0, failed: 0, dropped: 0 }),
		]);
		expect(JSON.stringify(listed.body)).not.toContain(SECRET);

		await put('e1', { name: 'first' }, { 'X-Sync-Origin': 'sync-e' });
		await receiver.waitFor((events) => events.length === 1);
		await del('e1');
		await receiver.waitFor((events) => events.length === 2);

		const [one, two] = receiver.accepted;
		for (const event of [one, two]) {
			expect(signatureValid(event, SECRET)).toBe(true);
			expect(signatureValid(event, 'another-secret')).toBe(false);
			expect(event.headers['content-type']).toBe('application/json');
			const ts = Number(event.headers['x-data-sync-timestamp']);
			expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(10);
			expect(event.headers['x-data-sync-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
		}
		expect(one.headers['x-data-sync-delivery']).not.toBe(two.headers['x-data-sync-delivery']);
		const fromFeed = (await feed()).body.changes as FeedChange[];
		const strip = ({ record: _r, ...change }: FeedChange) => change;
		expect(one.body).toEqual({
			type: 'changes',
			system: A,
			changes: [strip(fromFeed[0])],
			records: [expect.objectContaining({ id: 'e1', name: 'first', version: 1 })],
		});
		expect(one.body.changes[0]).toMatchObject({ key: 'e1', op: 'upsert', origin: 'sync-e' });
		expect(two.body.changes).toEqual([strip(fromFeed[1])]);
		expect(two.body.records).toEqual([
			expect.objectContaining({ id: 'e1', _deleted: true, version: 2 }),
		]);
		// A tampered body no longer matches its signature.
		expect(signatureValid({ ...one, raw: one.raw.replace('first', 'forged') }, SECRET)).toBe(false);

		const stats = await sys.stats(A);
		expect(stats.deliveries).toEqual({
			subscriptions: 1,
			pending: 0,
			delivered: 2,
			failed: 0,
			dropped: 0,
		});

		// Unsubscribed: no more events.
		await sys.unsubscribe(A, id);
		subscriptions.splice(0);
		await put('e2', {});
		await new Promise((r) => setTimeout(r, 150));
		expect(receiver.received).toHaveLength(2);
		expect((await admin('DELETE', `/_admin/subscriptions/${id}`)).status).toBe(404);
	});

	it('refuses a subscription without an http(s) URL or a secret', async () => {
		for (const body of [
			{ url: 'ftp://127.0.0.1/x', secret: 's' },
			{ url: 'not a url', secret: 's' },
			{ url: 'http://127.0.0.1:1/x' },
			{ url: 'http://127.0.0.1:1/x', secret: '' },
			{ url: 'http://user:pass@127.0.0.1:1/x', secret: 's' },
		]) {
			expect((await admin('POST', '/_admin/subscriptions', body)).status).toBe(400);
		}
		expect((await admin('GET', '/_admin/subscriptions')).body.subscriptions).toEqual([]);
	});

	it('retries a failing subscriber with the same delivery id, and the writes never wait for it', async () => {
		const { receiver } = await subscribed();
		let calls = 0;
		receiver.answer = () => (++calls <= 2 ? 503 : 200);
		const started = Date.now();
		await put('f1', { v: 1 });
		await receiver.waitFor((events) => events.length === 1);
		expect(receiver.received.map((e) => e.headers['x-data-sync-delivery'])).toEqual(
			Array(3).fill(receiver.accepted[0].headers['x-data-sync-delivery']),
		);
		for (const e of receiver.received) expect(signatureValid(e, SECRET)).toBe(true);
		expect(Date.now() - started).toBeLessThan(5000);
		expect((await sys.stats(A)).deliveries).toMatchObject({ delivered: 1, failed: 2, dropped: 0 });

		// A subscriber that never answers (timeoutMs 1000) holds no write: 20 writes meanwhile.
		receiver.answer = () => 'hang';
		await put('f2', {});
		const times: number[] = [];
		for (let i = 0; i < 20; i++) {
			const t = Date.now();
			expect((await put(`g${i}`, { i }, { 'Idempotency-Key': `g-${i}` })).status).toBe(201);
			times.push(Date.now() - t);
		}
		expect(Math.max(...times)).toBeLessThan(500);
		// The rest arrives in order once the subscriber answers again.
		receiver.answer = () => 200;
		await receiver.waitFor((events) =>
			events.some((e) => e.body.changes.some((c) => c.key === 'g19')),
		);
		const keys = receiver.accepted.flatMap((e) => e.body.changes.map((c) => c.key));
		expect(keys).toEqual(['f1', 'f2', ...Array.from({ length: 20 }, (_, i) => `g${i}`)]);
	});

	it('gives up on an event after maxAttempts, counts it, and goes on with the next', async () => {
		const { receiver, id } = await subscribed();
		receiver.answer = (e) => (e.body.changes.some((c) => c.key === 'lost') ? 500 : 200);
		await put('lost', {});
		await receiver.waitForRequests(4);
		await put('next', {});
		await receiver.waitFor((events) => events.length === 1);
		expect(receiver.received).toHaveLength(5);
		expect(receiver.accepted[0].body.changes.map((c) => c.key)).toEqual(['next']);
		expect((await sys.stats(A)).deliveries).toMatchObject({ delivered: 1, failed: 4, dropped: 1 });
		const view = (await admin('GET', '/_admin/subscriptions')).body.subscriptions[0];
		expect(view).toMatchObject({ id, delivered: 1, failed: 4, dropped: 1, pending: 0 });
		// The dropped change stays in the feed, where the subscriber catches up.
		expect((await feed()).body.changes.map((c: FeedChange) => c.key)).toEqual(['lost', 'next']);
	});

	it('a dead subscriber URL costs retries only: the writes and a second subscriber go on', async () => {
		const dead = await startReceiver();
		const deadUrl = dead.url;
		await dead.close();
		const deadId = await sys.subscribe(A, deadUrl, SECRET);
		subscriptions.push([A, deadId]);
		const { receiver } = await subscribed();
		for (let i = 0; i < 5; i++) expect((await put(`d${i}`, {})).status).toBe(201);
		await receiver.waitFor((events) => events.flatMap((e) => e.body.changes).length === 5);
		const subs = (await admin('GET', '/_admin/subscriptions')).body.subscriptions as Json[];
		const deadView = subs.find((s) => s.id === deadId)!;
		expect(deadView.delivered).toBe(0);
		expect(deadView.failed).toBeGreaterThan(0);
		expect(deadView.last_error).toMatch(/ECONNREFUSED|fetch failed/);
	});

	it('coalesces changes committed while an event is out into the next one, in seq order', async () => {
		const { receiver } = await subscribed();
		let release: () => void = () => undefined;
		const held = new Promise<void>((resolve) => (release = resolve));
		receiver.answer = async (e) => {
			if (e.body.changes.some((c) => c.key === 'h0')) await held;
			return 200;
		};
		await put('h0', { v: 0 });
		await receiver.waitForRequests(1);
		for (let i = 1; i <= 10; i++) await put(`h${i % 4}`, { v: i });
		// One batch: its changes commit together and go out together.
		await batch(Array.from({ length: 5 }, (_, i) => ({ op: 'upsert', id: `b${i}`, record: {} })));
		release();
		await receiver.waitFor((events) => events.flatMap((e) => e.body.changes).length === 16);

		const events = receiver.accepted.map((e) => e.body);
		expect(events[0].changes.map((c) => c.key)).toEqual(['h0']);
		// All 15 changes committed meanwhile came in one event.
		expect(events).toHaveLength(2);
		const next = events[1];
		expect(next.changes.map((c) => c.key)).toEqual([
			'h1',
			'h2',
			'h3',
			'h0',
			'h1',
			'h2',
			'h3',
			'h0',
			'h1',
			'h2',
			'b0',
			'b1',
			'b2',
			'b3',
			'b4',
		]);
		const seqs = events.flatMap((e) => seqsOf(e.changes));
		expect(seqs).toEqual(seqsOf((await feed()).body.changes));
		expect(increasing(seqs)).toBe(true);
		// One current record per key, as it is after the last change.
		expect(next.records.map((r) => r.id)).toEqual([
			'h1',
			'h2',
			'h3',
			'h0',
			'b0',
			'b1',
			'b2',
			'b3',
			'b4',
		]);
		expect(next.records.slice(0, 4).map((r) => [r.id, r.v, r.version])).toEqual([
			['h1', 9, 3],
			['h2', 10, 3],
			['h3', 7, 2],
			['h0', 8, 3],
		]);
	});
});
