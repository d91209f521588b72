/**
 * Data Sync Poll Trigger: a system's change feed read from a cursor kept in the node's static
 * data. The first poll of an active workflow starts at the feed's end (n8n's convention); each
 * later poll emits one real-time sync request of the changed keys, without the echoes of the
 * sync's own writes, and nothing when there is nothing else. A manual run (Fetch Test Event)
 * reads one page from the stored position and moves nothing.
 *
 * The cursor logic runs against an in-memory feed behind a stubbed HTTP helper; one run goes
 * through n8n's own engine (n8n-core, PollContext) against a real HTTP feed, authenticated by
 * the system's credential.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {
	IDataObject,
	IHttpRequestOptions,
	INode,
	INodeParameters,
	IPollFunctions,
} from 'n8n-workflow';

import { DataSyncSystemApi } from '../../../credentials/DataSyncSystemApi.credentials';
import { DataSyncPollTrigger } from '../../../nodes/DataSyncPollTrigger/DataSyncPollTrigger.node';
import { pollChanges } from '../../../nodes/DataSyncPollTrigger/poll';
import { newSyncId, type SyncRequest } from '../../../nodes/shared/engine';
import { runWorkflow } from '../../harness';
import { node } from '../../harness/build';

const POLL_TYPE = 'n8n-nodes-data-sync.dataSyncPollTrigger';
const SYNC_ID = newSyncId();

interface Change {
	seq: number;
	key: string;
	op: 'upsert' | 'delete';
	origin: string | null;
	at: string;
	record: IDataObject | null;
}

/** A system's change feed in memory: GET /records/changes?since&limit as the contract says. */
class Feed {
	changes: Change[] = [];
	requests: Array<{ since: number; limit: number }> = [];
	broken = false;

	add(key: string, origin: string | null = null, op: 'upsert' | 'delete' = 'upsert'): Change {
		const seq = (this.changes.at(-1)?.seq ?? 0) + 1;
		const change: Change = {
			seq,
			key,
			op,
			origin,
			at: new Date(1_800_000_000_000 + seq * 1000).toISOString(),
			record: op === 'delete' ? null : { id: key, v: seq },
		};
		this.changes.push(change);
		return change;
	}

	answer(since: number, limit: number): IDataObject {
		this.requests.push({ since, limit });
		if (this.broken) return { changes: 'not a list' };
		const after = this.changes.filter((c) => c.seq > since);
		const page = after.slice(0, limit);
		return {
			changes: page as unknown as IDataObject[],
			last_seq: page.at(-1)?.seq ?? since,
			has_more: after.length > page.length,
		};
	}
}

const PARAMETERS: IDataObject = {
	systems: 'system_a, system_b, system_c',
	changesPath: '/records/changes',
	strategy: 'lastWriterWins',
	keyFields: 'id',
	options: { pageSize: 100 },
};

/** A poll context over the in-memory feed: static data kept between polls, as n8n keeps it. */
function pollContext(feed: Feed, mode: 'trigger' | 'manual', parameters: IDataObject = {}) {
	const staticData: IDataObject = {};
	const params = { ...PARAMETERS, ...parameters };
	const theNode = {
		name: 'Data Sync Poll Trigger',
		type: POLL_TYPE,
		credentials: { dataSyncSystemApi: { id: '1', name: 'system_b' } },
	} as unknown as INode;
	const ctx = {
		getNode: () => theNode,
		getMode: () => mode,
		getNodeParameter: (name: string, fallback?: unknown) => params[name] ?? fallback,
		getCredentials: async () => ({ systemName: 'system_b', baseUrl: 'http://b.test' }),
		getWorkflowStaticData: () => staticData,
		helpers: {
			httpRequestWithAuthentication: async (_type: string, options: IHttpRequestOptions) => {
				expect(options.url).toBe('http://b.test/records/changes');
				const qs = options.qs as { since: number; limit: number };
				return { statusCode: 200, headers: {}, body: feed.answer(qs.since, qs.limit) };
			},
		},
	} as unknown as IPollFunctions;
	return { poll: () => pollChanges.call(ctx), staticData };
}

function emitted(result: Awaited<ReturnType<typeof pollChanges>>): SyncRequest {
	expect(result).not.toBeNull();
	expect(result![0]).toHaveLength(1);
	return result![0][0].json as unknown as SyncRequest;
}

describe('an active workflow polling a change feed', () => {
	it('the first poll starts at the feed’s end: what happened before is not replayed', async () => {
		const feed = new Feed();
		for (let i = 0; i < 250; i++) feed.add(`old-${i}`);
		const { poll, staticData } = pollContext(feed, 'trigger');
		expect(await poll()).toBeNull();
		expect(staticData).toEqual({ cursor: 250, seeking: false });
		// Paged to the end with the largest pages.
		expect(feed.requests).toEqual([{ since: 0, limit: 1000 }]);
		expect(await poll()).toBeNull();
	});

	it('a later edit becomes one real_time sync from the polled system to the others', async () => {
		const feed = new Feed();
		feed.add('old');
		const { poll, staticData } = pollContext(feed, 'trigger');
		await poll();
		feed.add('cust-1');
		feed.add('cust-2', null, 'delete');
		const request = emitted(await poll());
		expect(request).toMatchObject({
			syncType: 'real_time',
			sourceSystem: 'system_b',
			targetSystems: ['system_a', 'system_c'],
			strategy: 'lastWriterWins',
			scope: 'source',
			keys: ['cust-1', 'cust-2'],
			records: [{ id: 'cust-1', v: 2 }],
			trigger: 'changeFeed',
			echoesDropped: 0,
		});
		expect(request.changes).toEqual([
			expect.objectContaining({ seq: 2, key: 'cust-1', op: 'upsert', origin: null }),
			expect.objectContaining({ seq: 3, key: 'cust-2', op: 'delete', origin: null }),
		]);
		expect(staticData.cursor).toBe(3);
		// Nothing new: nothing emitted, nothing moved.
		expect(await poll()).toBeNull();
		expect(staticData.cursor).toBe(3);
	});

	it('the sync’s own writes come back as echoes: dropped, and alone they start nothing', async () => {
		const feed = new Feed();
		const { poll, staticData } = pollContext(feed, 'trigger');
		await poll();
		feed.add('cust-1', SYNC_ID);
		feed.add('cust-2', SYNC_ID);
		expect(await poll()).toBeNull();
		expect(staticData.cursor).toBe(2);
		feed.add('cust-3', null);
		feed.add('cust-3', SYNC_ID);
		const request = emitted(await poll());
		expect(request).toMatchObject({ keys: ['cust-3'], echoesDropped: 1 });
		// The newest state the feed showed: the sync's write after the edit.
		expect(request.records).toEqual([{ id: 'cust-3', v: 4 }]);
	});

	it('many changes are read page by page, up to the most one poll takes; the next goes on', async () => {
		const feed = new Feed();
		const { poll, staticData } = pollContext(feed, 'trigger', {
			options: { pageSize: 40, maxRecords: 100 },
		});
		await poll();
		feed.requests = [];
		for (let i = 0; i < 130; i++) feed.add(`k${i}`);
		const first = emitted(await poll());
		expect(first.keys).toHaveLength(100);
		expect(feed.requests).toEqual([
			{ since: 0, limit: 40 },
			{ since: 40, limit: 40 },
			{ since: 80, limit: 20 },
		]);
		expect(staticData.cursor).toBe(100);
		const second = emitted(await poll());
		expect(second.keys).toEqual(Array.from({ length: 30 }, (_, i) => `k${i + 100}`));
		expect(staticData.cursor).toBe(130);
	});

	it('a broken feed is an error naming the system, and the cursor stays where it was', async () => {
		const feed = new Feed();
		const { poll, staticData } = pollContext(feed, 'trigger');
		await poll();
		feed.add('cust-1');
		feed.broken = true;
		await expect(poll()).rejects.toThrow(
			'system_b: GET /records/changes did not answer as a change feed: changes must be an array, not "not a list"',
		);
		expect(staticData.cursor).toBe(0);
		feed.broken = false;
		expect(emitted(await poll()).keys).toEqual(['cust-1']);
	});

	it('a feed record without its key is refused before the cursor moves', async () => {
		const feed = new Feed();
		const { poll, staticData } = pollContext(feed, 'trigger');
		await poll();
		feed.add('cust-1').record = { name: 'no id' };
		await expect(poll()).rejects.toThrow(
			'system_b: /records/changes gave changes that cannot be synced',
		);
		expect(staticData.cursor).toBe(0);
	});

	it('the polled system must have others to sync to', async () => {
		const feed = new Feed();
		const { poll } = pollContext(feed, 'trigger', { systems: 'system_b' });
		await expect(poll()).rejects.toThrow('No system to sync "system_b" to');
	});
});

describe('Fetch Test Event (manual)', () => {
	it('reads one page from the stored position (the start when none) and moves nothing', async () => {
		const feed = new Feed();
		feed.add('cust-1');
		feed.add('cust-2', SYNC_ID);
		const { poll, staticData } = pollContext(feed, 'manual', { options: { pageSize: 1 } });
		const request = emitted(await poll());
		expect(request.keys).toEqual(['cust-1']);
		expect(feed.requests).toEqual([{ since: 0, limit: 1 }]);
		expect(staticData).toEqual({});
	});
});

describe('in n8n’s engine, against a real feed', () => {
	let server: Server;
	let url: string;
	const feed = new Feed();
	const seenKeys: Array<string | undefined> = [];

	beforeAll(async () => {
		server = createServer((req, res) => {
			const u = new URL(req.url ?? '/', 'http://x');
			seenKeys.push(req.headers['x-api-key'] as string | undefined);
			if (u.pathname !== '/records/changes' || req.headers['x-api-key'] !== 'feed-key') {
				res.writeHead(req.headers['x-api-key'] === 'feed-key' ? 404 : 401).end('{}');
				return;
			}
			const body = feed.answer(
				Number(u.searchParams.get('since')),
				Number(u.searchParams.get('limit')),
			);
			res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		await new Promise((resolve) => server.close(resolve));
	});

	it('a manual run polls through the system credential and emits the typed request', async () => {
		feed.add('cust-7');
		const result = await runWorkflow({
			workflow: {
				nodes: [
					node('Poll', POLL_TYPE, { ...PARAMETERS } as INodeParameters, {
						credentials: { dataSyncSystemApi: { id: 'b', name: 'system_b' } },
					}),
				],
				connections: {},
			},
			nodeTypes: { [POLL_TYPE]: new DataSyncPollTrigger() },
			credentials: {
				dataSyncSystemApi: {
					systemName: 'system_b',
					baseUrl: url,
					authType: 'apiKey',
					headerName: 'X-API-Key',
					apiKey: 'feed-key',
				},
			},
			credentialTypes: [new DataSyncSystemApi()],
			mode: 'manual',
		});
		expect(result.status).toBe('success');
		const [item] = result.output('Poll');
		expect(item.json).toMatchObject({
			sourceSystem: 'system_b',
			keys: ['cust-7'],
			records: [{ id: 'cust-7', v: 1 }],
			trigger: 'changeFeed',
		});
		expect(seenKeys).toEqual(['feed-key']);
	});
});
