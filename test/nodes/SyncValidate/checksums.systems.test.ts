/**
 * The demo systems' range-checksum endpoint (POST /records/checksums), in-process over HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { createSystemServer, type SystemServer } from '../../../demo/systems/server.ts';
import { SystemStore } from '../../../demo/systems/store.ts';

interface Piece {
	from: string | null;
	to: string | null;
	count: number;
	hash: string;
	range: number;
	records?: Array<Record<string, unknown>>;
}

const servers: SystemServer[] = [];
afterAll(async () => {
	for (const s of servers) await s.close();
});

async function server(records: Array<Record<string, unknown>>) {
	const s = await createSystemServer({ name: `s${servers.length}`, dbFile: ':memory:' });
	servers.push(s);
	s.store.seed(records);
	return s;
}

interface Answer {
	ranges: Piece[];
	error?: string;
}

async function checksums(
	s: SystemServer,
	body: unknown,
): Promise<{ status: number; body: Answer }> {
	const res = await fetch(`${s.url}/records/checksums`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	return { status: res.status, body: (await res.json()) as Answer };
}

const recs = (n: number) =>
	Array.from({ length: n }, (_, i) => ({ id: `k${String(i).padStart(4, '0')}`, v: i, tag: 'x' }));

test('same content gives the same checksum, whatever the versions, order of fields or writes', async () => {
	const a = await server(recs(500));
	// Written in reverse, twice (version 2), fields in another order.
	const b = await server(
		recs(500)
			.reverse()
			.map((r) => ({ tag: r.tag, v: r.v, id: r.id })),
	);
	b.store.seed(recs(500));
	const whole = { ranges: [{ from: null, to: null }] };
	const [ra, rb] = [await checksums(a, whole), await checksums(b, whole)];
	expect(ra.body.ranges[0]).toMatchObject({ count: 500 });
	expect(rb.body.ranges[0].hash).toBe(ra.body.ranges[0].hash);

	// One changed value, or the same value under another id, changes it.
	const c = await server(recs(500).map((r) => (r.v === 250 ? { ...r, v: 251 } : r)));
	expect((await checksums(c, whole)).body.ranges[0].hash).not.toBe(ra.body.ranges[0].hash);
	// Tombstones count as absent.
	const d = await server([...recs(500), { id: 'zzz', v: 1, _deleted: true }]);
	expect((await checksums(d, whole)).body.ranges[0]).toEqual(ra.body.ranges[0]);
});

test('segments cut a range into pieces that cover it exactly, by this system’s keys', async () => {
	const a = await server(recs(1000));
	const { status, body } = await checksums(a, {
		ranges: [
			{ from: null, to: 'k0500' },
			{ from: 'k0500', to: null },
		],
		segments: 8,
	});
	expect(status).toBe(200);
	const pieces = body.ranges;
	expect(pieces).toHaveLength(16);
	for (const range of [0, 1]) {
		const own = pieces.filter((p) => p.range === range);
		expect(own[0].from).toBe(range === 0 ? null : 'k0500');
		expect(own[own.length - 1].to).toBe(range === 0 ? 'k0500' : null);
		for (let i = 1; i < own.length; i++) expect(own[i].from).toBe(own[i - 1].to);
		expect(own.reduce((n, p) => n + p.count, 0)).toBe(500);
		for (const p of own) expect([62, 63]).toContain(p.count);
	}
	// Checksums of the pieces, asked for again without segments, are the same.
	const again = await checksums(a, { ranges: pieces.map(({ from, to }) => ({ from, to })) });
	expect(again.body.ranges.map((p) => p.hash)).toEqual(pieces.map((p) => p.hash));
});

test('records: true returns the live records of each range, and refuses too many', async () => {
	const a = await server(recs(6000));
	const small = await checksums(a, { ranges: [{ from: 'k0010', to: 'k0013' }], records: true });
	expect(small.body.ranges[0].records!.map((r) => r.id)).toEqual(['k0010', 'k0011', 'k0012']);
	const big = await checksums(a, { ranges: [{}], records: true });
	expect(big.status).toBe(400);
	expect(big.body.error).toMatch(/6000 records, more than 5000/);
});

test.each([
	['ranges not a list', { ranges: 'all' }, /ranges must be an array/],
	['from after to', { ranges: [{ from: 'b', to: 'a' }] }, /from must sort before to/],
	['a number bound', { ranges: [{ from: 5 }] }, /from must be null or a key/],
	['0 segments', { ranges: [{}], segments: 0 }, /segments must be an integer/],
	['2.5 segments', { ranges: [{}], segments: 2.5 }, /segments must be an integer/],
	['1001 ranges', { ranges: Array.from({ length: 1001 }, () => ({})) }, /at most 1000 ranges/],
	[
		'100 ranges x 200 segments',
		{ ranges: Array.from({ length: 100 }, () => ({})), segments: 200 },
		/at most 10000/,
	],
	[
		'records with segments',
		{ ranges: [{}], segments: 2, records: true },
		/records needs segments = 1/,
	],
])('a bad request (%s) is answered 400 with the reason', async (_, body, message) => {
	const a = await server(recs(3));
	const r = await checksums(a, body);
	expect(r.status).toBe(400);
	expect(r.body.error).toMatch(message);
});

test('a store written before content hashes existed is migrated on open', () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'checksum-migrate-'));
	try {
		const file = path.join(dir, 'old.sqlite');
		const old = new DatabaseSync(file);
		old.exec(`CREATE TABLE records (id TEXT NOT NULL PRIMARY KEY, fields TEXT NOT NULL,
			version INTEGER NOT NULL, updated_ms INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
			deleted_ms INTEGER)`);
		const insert = old.prepare('INSERT INTO records VALUES (?, ?, 1, 1, 0, NULL)');
		for (const r of recs(100)) insert.run(r.id, JSON.stringify({ v: r.v, tag: r.tag }));
		old.close();

		const migrated = new SystemStore(file);
		const fresh = new SystemStore(':memory:');
		fresh.seed(recs(100));
		const whole = [{ from: null, to: null }];
		expect(migrated.rangeChecksums(whole)).toEqual(fresh.rangeChecksums(whole));
		expect(migrated.rangeChecksums(whole)[0].count).toBe(100);
		migrated.close();
		fresh.close();
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
