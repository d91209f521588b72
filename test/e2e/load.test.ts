/**
 * End-to-end: the packed package, installed as a community package into a real n8n 2.41.1
 * (scripts/n8n/install.sh), loads and runs in a production webhook execution.
 *
 * Skips itself, saying why, when n8n is not installed, unless E2E_REQUIRED=1 (then a missing n8n
 * is a failure). Run: `bash scripts/n8n/install.sh && npm run build && npx jest test/e2e`.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

import {
	N8N_DIR,
	N8N_VERSION,
	ROOT,
	n8nInstalled,
	packPackage,
	startN8n,
	type RunningN8n,
} from './n8n';
import { describeWithN8n } from './describe';

const PACKAGE = 'n8n-nodes-data-sync';
const WORKFLOW_ID = 'e2eLoadSmoke0001';

/**
 * Webhook -> Conflict Check (source records from the request body, no other systems, no base)
 * -> Changes output (index 1) -> No Op. The No Op is the last node, so "respond when the last
 * node finishes" with "all entries" answers with the Changes items. With one system and no
 * base every key is in sync with itself, so "Emit In-Sync Keys" sends each key to Changes.
 */
const workflow = {
	id: WORKFLOW_ID,
	name: 'e2e: package loads',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		{
			id: '7e1a3a52-0000-4000-8000-000000000001',
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: '7e1a3a52-0000-4000-8000-0000000000aa',
			parameters: {
				httpMethod: 'POST',
				path: 'smoke',
				responseMode: 'lastNode',
				responseData: 'allEntries',
				options: {},
			},
		},
		{
			id: '7e1a3a52-0000-4000-8000-000000000002',
			name: 'Conflict Check',
			type: `${PACKAGE}.conflictCheck`,
			typeVersion: 1,
			position: [220, 0],
			parameters: {
				sourceSystem: 'system_a',
				otherSystems: '',
				recordsField: 'body.records',
				baseSource: 'none',
				options: { includeInSync: true, syncId: 'e2e-sync-1' },
			},
		},
		{
			id: '7e1a3a52-0000-4000-8000-000000000003',
			name: 'Changes',
			type: 'n8n-nodes-base.noOp',
			typeVersion: 1,
			position: [440, 0],
			parameters: {},
		},
	],
	connections: {
		Webhook: { main: [[{ node: 'Conflict Check', type: 'main', index: 0 }]] },
		'Conflict Check': {
			main: [[], [{ node: 'Changes', type: 'main', index: 0 }], []],
		},
	},
};

/**
 * Type names of what package.json's "n8n" section lists: by convention the file name with a
 * lower-case first letter (dist/nodes/ConflictCheck/ConflictCheck.node.js -> conflictCheck).
 */
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
	n8n: { nodes: string[]; credentials?: string[] };
};
const typeName = (file: string) => {
	const base = path.basename(file).split('.')[0];
	return base[0].toLowerCase() + base.slice(1);
};
const listed = {
	nodes: manifest.n8n.nodes.map(typeName),
	credentials: (manifest.n8n.credentials ?? []).map(typeName),
};

const installed = n8nInstalled();

describeWithN8n('load e2e')(`package in a real n8n ${N8N_VERSION}`, () => {
	let n8n: RunningN8n | undefined;
	let tgz: string | undefined;

	beforeAll(async () => {
		if (!installed) {
			throw new Error(
				`E2E_REQUIRED=1 but n8n ${N8N_VERSION} is not installed in ${N8N_DIR}: run scripts/n8n/install.sh`,
			);
		}
		tgz = packPackage();
		n8n = await startN8n({ packageTgz: tgz, workflows: [workflow], publish: [WORKFLOW_ID] });
		process.stdout.write(
			`[e2e] n8n ready at ${n8n.url}; setup ms: ${JSON.stringify(n8n.timings)}\n`,
		);
	}, 180_000);

	afterAll(async () => {
		await n8n?.stop();
		if (tgz) rmSync(path.dirname(tgz), { recursive: true, force: true });
	}, 30_000);

	/** On failure, the server log says why (a node that did not load, a webhook not registered). */
	const withLogs = async (run: () => Promise<void>) => {
		try {
			await run();
		} catch (error) {
			const tail = n8n?.logs().split('\n').slice(-60).join('\n') ?? '(n8n not started)';
			(error as Error).message += `\n--- n8n log (tail) ---\n${tail}`;
			throw error;
		}
	};

	it('loads every node and credential type the package lists', async () => {
		await withLogs(async () => {
			// n8n adds a `<name>Tool` variant of each node that is usableAsTool: leave those out.
			const ours = (await n8n!.nodeTypes())
				.map((t) => t.name)
				.filter((name) => name.startsWith(`${PACKAGE}.`) && !name.endsWith('Tool'));
			expect(ours).toEqual(
				expect.arrayContaining([`${PACKAGE}.conflictCheck`, `${PACKAGE}.conflictResolve`]),
			);
			expect([...new Set(ours)].sort()).toEqual(listed.nodes.map((n) => `${PACKAGE}.${n}`).sort());

			const credentials = (await n8n!.credentialTypes()).map((t) => t.name);
			expect(credentials).toEqual(expect.arrayContaining(listed.credentials));

			// The HTTP route exists but, in n8n 2.x, only for a signed-in user.
			const response = await fetch(`${n8n!.url}/types/nodes.json`);
			expect(response.status).toBe(401);
		});
	}, 120_000);

	it('runs Conflict Check in a production webhook execution', async () => {
		await withLogs(async () => {
			const response = await fetch(n8n!.webhookUrl('smoke'), {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({
					records: [
						{ id: '1', name: 'a' },
						{ id: '2', name: 'b' },
					],
				}),
			});
			const text = await response.text();
			expect({ status: response.status, body: text }).toMatchObject({ status: 200 });
			const items = JSON.parse(text) as Array<Record<string, unknown>>;
			expect(Array.isArray(items)).toBe(true);
			expect(items.map((i) => i.key)).toEqual(['1', '2']);
			const names: Record<string, string> = { '1': 'a', '2': 'b' };
			for (const item of items) {
				expect(item).toMatchObject({
					syncId: 'e2e-sync-1',
					kind: 'in_sync',
					basis: 'none',
					sourceSystem: 'system_a',
					systems: ['system_a'],
					states: { system_a: 'created' },
					records: { system_a: expect.objectContaining({ name: names[item.key as string] }) },
				});
			}
		});
	}, 120_000);
});
