/**
 * Write mode plans each batch just before sending it. These tests pin what must not change with
 * that: every batch holds the same writes in the same order as when everything was planned up
 * front, and a key whose plan fails (a record nested too deep) still stops the node before anything
 * is written, or goes to Failed under continue-on-fail while the rest is written.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { credentialData } from '../../../demo/systems/credentials';
import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE } from '../../harness';
import { connect, json, node } from '../../harness/build';
import { credentialTypes, nodeTypes, SYNC_TYPE } from '../../sync/pipeline';
import { resolvedFor } from '../sync-workflow';

const SYNC = 'Multi Target Sync';
const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-01T00:00:00Z';

interface Batch {
	system: string;
	ids: string[];
	idempotencyKey: string;
}

/** A batch endpoint per system that applies every operation, and remembers each batch. */
async function batchServer() {
	const batches: Batch[] = [];
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (chunk: Buffer) => (body += chunk.toString()));
		req.on('end', () => {
			const operations = (JSON.parse(body) as { operations: Array<{ id: string }> }).operations;
			batches.push({
				system: req.url!.split('/')[1],
				ids: operations.map((o) => o.id),
				idempotencyKey: String(req.headers['idempotency-key']),
			});
			res.setHeader('content-type', 'application/json');
			res.end(JSON.stringify({ results: operations.map(() => ({ status: 200 })) }));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const url = (system: string) =>
		`http://127.0.0.1:${(server.address() as AddressInfo).port}/${system}`;
	return { batches, url, close: () => new Promise((resolve) => server.close(resolve)) };
}

const customer = (id: string, fields: IDataObject = {}): IDataObject => ({
	id,
	name: `Customer ${id}`,
	updated_at: T0,
	...fields,
});

/**
 * 250 keys system_a changed: system_b needs every one of them, system_c only the last, so
 * system_c's one write is planned after all of system_b's.
 */
async function resolvedItems(): Promise<IDataObject[]> {
	const ids = Array.from({ length: 250 }, (_, i) => `k${String(i).padStart(3, '0')}`);
	const changed = ids.map((id) => customer(id, { name: `New ${id}`, updated_at: T1 }));
	return resolvedFor({
		system_a: changed,
		system_b: ids.map((id) => customer(id)),
		system_c: [...changed.slice(0, -1), customer(ids[249])],
	});
}

async function sync(items: IDataObject[], url: (system: string) => string, extra = {}) {
	const credentials = {
		dataSyncSystemApi: credentialData('system_b', url('system_b'), { type: 'none' }),
		dataSyncSystem2Api: credentialData('system_c', url('system_c'), { type: 'none' }),
	};
	const attached: Partial<INode> = {
		credentials: {
			dataSyncSystemApi: { id: '1', name: 'system_b' },
			dataSyncSystem2Api: { id: '2', name: 'system_c' },
		},
	};
	const parameters = {
		writeMode: 'write',
		syncType: 'one_way',
		targetSystems: 'system_b, system_c',
		connectedSystems: 2,
		options: { batchSize: 100, concurrency: 2 },
	};
	return await runWorkflow({
		workflow: {
			nodes: [
				node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
				node('Resolved', TEST_ITEMS_TYPE, { items } as INodeParameters),
				node(SYNC, SYNC_TYPE, parameters, { ...attached, ...extra }),
			],
			connections: connect(['Trigger', 'Resolved'], ['Resolved', SYNC]),
		},
		nodeTypes,
		credentials,
		credentialTypes,
		mode: 'trigger',
	});
}

/** A key whose resolved record nests deeper than the fingerprint allows. */
function refused(item: IDataObject): IDataObject {
	let deep: IDataObject = { leaf: true };
	for (let i = 0; i < 70; i++) deep = { deep };
	return { ...item, resolved: { ...(item.resolved as IDataObject), deep } };
}

let server: Awaited<ReturnType<typeof batchServer>>;
beforeEach(async () => (server = await batchServer()));
afterEach(async () => server.close());

describe('Multi Target Sync write mode, planning as it sends', () => {
	it('sends the same batches in input order, each system its own, and every key has its results', async () => {
		const items = await resolvedItems();
		const result = await sync(items, server.url);
		expect(result.status).toBe('success');
		const ofB = server.batches.filter((b) => b.system === 'system_b').map((b) => b.ids);
		expect(ofB.map((ids) => ids.length).sort()).toEqual([100, 100, 50]);
		expect(ofB.flat().sort()).toEqual(items.map((i) => i.key));
		// Batches are consecutive runs of the input, as when all was planned up front.
		for (const ids of ofB) expect(ids).toEqual(items.map((i) => i.key).slice(...range(items, ids)));
		expect(server.batches.filter((b) => b.system === 'system_c').map((b) => b.ids)).toEqual([
			['k249'],
		]);
		const results = result.output(SYNC, 0);
		expect(results).toHaveLength(500);
		expect(results.map((r) => r.pairedItem)).toEqual(
			items.flatMap((_, i) => [{ item: i }, { item: i }]),
		);
		const outcomes = json(results).map((r) => `${String(r.system)} ${String(r.outcome)}`);
		expect(outcomes.filter((o) => o === 'system_b written')).toHaveLength(250);
		expect(outcomes.filter((o) => o === 'system_c unchanged')).toHaveLength(249);
		expect(outcomes.filter((o) => o === 'system_c written')).toHaveLength(1);
	});

	it('stops on a key whose plan fails, before anything is written', async () => {
		const items = await resolvedItems();
		items[200] = refused(items[200]);
		const result = await sync(items, server.url);
		expect(result.status).toBe('error');
		expect(result.error!.message).toMatch(/^Item 200: .*nested deeper than 64 levels/);
		expect(server.batches).toEqual([]);
	});

	it('under continue-on-fail, sends that key to Failed and writes the rest', async () => {
		const items = await resolvedItems();
		items[200] = refused(items[200]);
		const result = await sync(items, server.url, { onError: 'continueRegularOutput' });
		expect(result.status).toBe('success');
		const failed = result.output(SYNC, 1);
		expect(failed.map((f) => f.pairedItem)).toEqual([{ item: 200 }]);
		expect(String(failed[0].json.error)).toMatch(/^Item 200: .*nested deeper than 64 levels/);
		expect(server.batches.flatMap((b) => b.ids)).toHaveLength(249 + 1);
		expect(json(result.output(SYNC, 0)).some((r) => r.key === items[200].key)).toBe(false);
	});
});

/** Where a batch's keys start and end in the input. */
function range(items: IDataObject[], ids: string[]): [number, number] {
	const start = items.findIndex((i) => i.key === ids[0]);
	return [start, start + ids.length];
}
