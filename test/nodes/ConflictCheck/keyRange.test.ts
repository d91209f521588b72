/**
 * Read Records: Key Range in n8n's engine, without the demo systems: the parameters are checked
 * before anything is read, and a system that ignores `from`/`to` (a stub that lists everything)
 * stops the node instead of letting this range's execution check keys another range owns.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject } from 'n8n-workflow';

import { runWorkflow } from '../../harness';
import { credentialTypes } from '../../sync/pipeline';
import { nodeTypes, syncWorkflow } from '../sync-workflow';

const CHECK = 'Conflict Check';

/** A system that answers every list with all its records, whatever range it is asked for. */
async function rangeBlindSystem(records: IDataObject[]) {
	const queries: string[] = [];
	const server = http.createServer((req, res) => {
		queries.push(String(req.url));
		res.setHeader('Content-Type', 'application/json');
		res.end(JSON.stringify({ data: records, next_cursor: null }));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		queries,
		close: async () => await new Promise((resolve) => server.close(resolve)),
	};
}

async function check(rangeCheck: IDataObject, baseUrl = 'http://127.0.0.1:9') {
	return await runWorkflow({
		workflow: syncWorkflow({
			systems: { system_a: [{ id: 'm5', region: 'eu' }] },
			check: {
				systemsFrom: 'http',
				httpSystems: 'system_b',
				connectedSystems: 2,
				readBy: 'range',
				scope: 'all',
				...rangeCheck,
			},
			checkExtra: {
				credentials: {
					dataSyncSystemApi: { id: '1', name: 'system_a' },
					dataSyncSystem2Api: { id: '2', name: 'system_b' },
				},
			},
			resolve: false,
		}),
		nodeTypes,
		credentials: {
			dataSyncSystemApi: { systemName: 'system_a', baseUrl, authType: 'none' },
			dataSyncSystem2Api: { systemName: 'system_b', baseUrl, authType: 'none' },
		},
		credentialTypes,
		mode: 'trigger',
	});
}

test('a composite key cannot be read by range: the node says why before reading', async () => {
	const result = await check({ keyFields: 'region, id', keysFrom: 'a' });
	expect(result.nodeError(CHECK)?.message).toBe(
		'Read Records: Key Range needs one key field, not 2 (region, id)',
	);
});

test('Keys From that is not a key names the field', async () => {
	const result = await check({ keysFrom: '={{ { from: "a" } }}' });
	expect(result.nodeError(CHECK)?.message).toBe('Keys From must be a key, got object');
});

test('a system that ignores from and to stops the node: it answered a key outside the range', async () => {
	const blind = await rangeBlindSystem([{ id: 'a1' }, { id: 'm1' }, { id: 'z1' }]);
	try {
		const result = await check({ keysFrom: 'm', keysTo: 'n' }, blind.url);
		expect(result.nodeError(CHECK)?.message).toMatch(
			/^system_[ab] answered with key "a1", outside the Key Range \("m" <= key < "n"\): it does not list by the from and to query parameters$/,
		);
		// Both systems (one stub here) were asked for the range, one page of the credential's size.
		expect(blind.queries).toEqual(Array(2).fill('/records?limit=500&from=m&to=n'));
	} finally {
		await blind.close();
	}
});
