/**
 * GET /records?from=&to= on a demo system (a child process): the list restricted to a key range
 * (`from` inclusive, `to` exclusive, either open), with limit and cursor paging, in key order,
 * tombstones included as the unrestricted list includes them. What a partitioned sync reads.
 */
import { startSystems, type StartedSystems } from './helpers';

// JSON answers are walked freely in assertions; expect() checks their shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const B = 'system_b';
let sys: StartedSystems;

beforeAll(async () => {
	sys = await startSystems({ names: [B] });
	await sys.reset();
	const ids = ['a', 'b', 'b1', 'c', 'c\u00e9', 'd', 'e', 'z'];
	const records = ids.map((id) => ({ id, n: id, ...(id === 'c' ? { _deleted: true } : {}) }));
	const res = await fetch(`${sys.systems[B].url}/_admin/seed`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ records }),
	});
	expect(res.status).toBe(200);
});

afterAll(async () => {
	await sys?.stop();
});

async function list(query: string): Promise<{ status: number; body: Json }> {
	const s = sys.systems[B];
	const res = await fetch(`${s.url}/records?${query}`, { headers: s.headers });
	return { status: res.status, body: (await res.json()) as Json };
}

/** Every id of a range, page by page with the cursor. */
async function idsIn(query: string, limit: number): Promise<string[]> {
	const ids: string[] = [];
	let cursor: string | null = null;
	do {
		const more: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
		const page = await list(`${query}&limit=${limit}${more}`);
		expect(page.status).toBe(200);
		ids.push(...(page.body.data as Json[]).map((r) => String(r.id)));
		cursor = page.body.next_cursor as string | null;
	} while (cursor);
	return ids;
}

test('from is inclusive, to exclusive, either open; tombstones included; key order', async () => {
	expect(await idsIn('from=b&to=d', 100)).toEqual(['b', 'b1', 'c', 'c\u00e9']);
	expect(await idsIn('from=d', 100)).toEqual(['d', 'e', 'z']);
	expect(await idsIn('to=b1', 100)).toEqual(['a', 'b']);
	expect(await idsIn('from=&to=', 100)).toEqual(['a', 'b', 'b1', 'c', 'c\u00e9', 'd', 'e', 'z']);
	const page = await list('from=c&to=ca');
	expect(page.body.data).toEqual([expect.objectContaining({ id: 'c', _deleted: true })]);
	expect(await idsIn('from=c&to=ca&include_deleted=false', 100)).toEqual([]);
});

test('pages through a range with limit and cursor, and adjacent ranges cover the list exactly', async () => {
	expect(await idsIn('from=b&to=e', 2)).toEqual(['b', 'b1', 'c', 'c\u00e9', 'd']);
	const whole = await idsIn('', 3);
	const parts = [
		...(await idsIn('to=b1', 1)),
		...(await idsIn('from=b1&to=d', 1)),
		...(await idsIn('from=d', 1)),
	];
	expect(parts).toEqual(whole);
	// The last page of a range says so: no cursor past its end.
	const last = await list('from=d&to=z&limit=2');
	expect(last.body).toMatchObject({ data: [{ id: 'd' }, { id: 'e' }], next_cursor: null });
});

test('a range whose from does not sort before its to is a 400 naming the parameters', async () => {
	for (const q of ['from=d&to=b', 'from=b&to=b']) {
		const res = await list(q);
		expect(res).toEqual({ status: 400, body: { error: 'from must sort before to' } });
	}
	// UTF-8 byte order: "é" (0xC3 0xA9) sorts after "z".
	expect((await list('from=%C3%A9&to=z')).status).toBe(400);
	const long = await list(`from=${'k'.repeat(513)}`);
	expect(long).toEqual({
		status: 400,
		body: { error: 'from must be a key of up to 512 characters' },
	});
});
