/**
 * End-to-end: the Data Sync Poll Trigger in a real n8n 2.41.1 with the packed package, for a
 * system that cannot push. system_b is polled every minute; its changes go through the same
 * typed pipeline as the real-time workflow (Conflict Check by key, Conflict Resolve, Multi Target
 * Sync) to system_a and system_c. Edits are made in system_b itself, as a person would.
 *
 * Shows, reading each system's own store and n8n's database:
 * - the first poll of the published workflow starts at the feed's end (old changes are not
 *   synced again) and keeps its cursor in the node's static data;
 * - an edit on system_b reaches system_a and system_c at the next scheduled poll;
 * - the cursor survives a crash: an edit made while n8n is down is synced by the first poll
 *   after the restart, and nothing before it is synced twice.
 *
 * Skips itself, saying why, when n8n is not installed, unless E2E_REQUIRED=1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import { customer, startSystems, systemApi, type StartedSystems } from '../systems/helpers';
import { describeWithN8n } from './describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from './n8n';

type Json = Record<string, unknown>;

const SYSTEMS = ['system_a', 'system_b', 'system_c'];
const realtime = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-realtime-sync.json'), 'utf8'),
) as { nodes: Array<Json & { name: string }> };
const pipelineNode = (name: string) => {
	const found = realtime.nodes.find((n) => n.name === name);
	if (!found) throw new Error(`the real-time workflow has no node ${name}`);
	return found;
};

/**
 * The real-time workflow's pipeline behind a poll trigger in place of the webhook one: the
 * trigger keeps the name the pipeline's expressions read (Change Event). No base here: without
 * one, Conflict Check decides record by record.
 */
const workflow = {
	id: 'day66PollSync001',
	name: 'Day 66: system_b polled every minute',
	active: false,
	settings: { executionOrder: 'v1' },
	nodes: [
		{
			parameters: {
				pollTimes: { item: [{ mode: 'everyMinute' }] },
				systems: 'system_a, system_b, system_c',
				strategy: 'lastWriterWins',
				keyFields: 'id',
				options: {},
			},
			id: '6b0c8f0e-5a53-4c0e-9f57-0d5e5a1b0001',
			name: 'Change Event',
			type: 'n8n-nodes-data-sync.dataSyncPollTrigger',
			typeVersion: 1,
			position: [0, 300],
			credentials: { dataSyncSystemApi: { id: 'dsPolledB', name: 'system_b (polled)' } },
		},
		pipelineNode('Conflict Check'),
		pipelineNode('Conflict Resolve'),
		pipelineNode('Multi Target Sync'),
	],
	connections: {
		'Change Event': { main: [[{ node: 'Conflict Check', type: 'main', index: 0 }]] },
		'Conflict Check': {
			main: [
				[{ node: 'Conflict Resolve', type: 'main', index: 0 }],
				[{ node: 'Conflict Resolve', type: 'main', index: 1 }],
			],
		},
		'Conflict Resolve': { main: [[{ node: 'Multi Target Sync', type: 'main', index: 0 }]] },
	},
};

const describeE2e = describeWithN8n('poll trigger e2e');

describeE2e('Data Sync Poll Trigger: a system that cannot push, polled from a cursor', () => {
	let systems: StartedSystems;
	let n8n: RunningN8n;

	const api = async (name: string, method: string, p: string, body?: unknown) =>
		(await systemApi(systems.systems[name], method, p, body)) as Json;
	async function edit(name: string, id: string, fields: Json): Promise<void> {
		const { updated_at: _u, ...rest } = await api(name, 'GET', `/records/${id}`);
		await api(name, 'PUT', `/records/${id}`, { ...rest, ...fields });
	}
	const tierOf = async (name: string, id: string) =>
		(await api(name, 'GET', `/records/${id}`)).tier;
	const lastSeq = async (name: string) =>
		Number((await api(name, 'GET', '/records/changes?since=0&limit=1000')).last_seq);
	/** The trigger's static data (its cursor), as n8n saved it. */
	const cursor = () =>
		n8n.db((d) => {
			const row = d
				.prepare('SELECT staticData FROM workflow_entity WHERE id = ?')
				.get(workflow.id) as { staticData: string | null } | undefined;
			const data = JSON.parse(row?.staticData ?? '{}') as Record<string, { cursor?: number }>;
			return data['node:Change Event']?.cursor;
		});
	const executions = () =>
		n8n.db(
			(d) =>
				d
					.prepare('SELECT id, status FROM execution_entity WHERE workflowId = ? ORDER BY id')
					.all(workflow.id) as Array<{ id: number; status: string }>,
		);
	async function until<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, ms: number) {
		const deadline = Date.now() + ms;
		let last = await read();
		while (!ok(last) && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 250));
			last = await read();
		}
		return last;
	}

	beforeAll(async () => {
		systems = await startSystems();
		const seed = [
			customer('c1', { tier: 'silver' }),
			customer('c2', { tier: 'gold' }),
			customer('c3', { tier: 'bronze' }),
		];
		for (const name of SYSTEMS) {
			await fetch(`${systems.systems[name].url}/_admin/seed`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ records: seed }),
			});
		}
		// A change from before the workflow was published: the first poll must not sync it.
		await edit('system_b', 'c3', { tier: 'old-news' });
		const b = Object.values(systems.systems).find((s) => s.name === 'system_b')!;
		const [polled] = demoCredentials([b]);
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows: [workflow],
			credentials: [
				...demoCredentials(Object.values(systems.systems)),
				{ ...polled, id: 'dsPolledB', name: 'system_b (polled)', type: 'dataSyncSystemApi' },
			],
			publish: [workflow.id],
		});
	}, 240_000);

	afterAll(async () => {
		if (process.env.E2E_DEBUG) console.log(n8n?.logs());
		await n8n?.stop();
		await systems?.stop();
	}, 60_000);

	it('the first poll starts at the feed’s end and keeps its cursor in static data', async () => {
		const end = await lastSeq('system_b');
		expect(await until(cursor, (c) => c !== undefined, 30_000)).toBe(end);
		// It emitted nothing: no execution, and the change from before is not synced.
		expect(executions()).toEqual([]);
		expect(await tierOf('system_a', 'c3')).toBe('bronze');
	}, 60_000);

	it('an edit on system_b reaches system_a and system_c at the next poll', async () => {
		const edited = Date.now();
		await edit('system_b', 'c1', { tier: 'platinum' });
		const afterEdit = await lastSeq('system_b');
		// Every minute on the minute: at most a minute, plus the sync.
		const tiers = await until(
			async () => Promise.all(['system_a', 'system_c'].map((n) => tierOf(n, 'c1'))),
			(t) => t.every((x) => x === 'platinum'),
			90_000,
		);
		expect(tiers).toEqual(['platinum', 'platinum']);
		console.log(`[poll e2e] edit on system_b everywhere after ${Date.now() - edited} ms`);
		const runs = await until(
			executions,
			(e) => e.length > 0 && e.at(-1)!.status !== 'running',
			10_000,
		);
		expect(runs.map((e) => e.status)).toEqual(['success']);
		expect(await until(cursor, (c) => c === afterEdit, 10_000)).toBe(afterEdit);
		// The writes went to system_a and system_c: system_b's feed has only the person's edit.
		expect(await tierOf('system_a', 'c3')).toBe('bronze');
	}, 120_000);

	it('after a crash, the first poll syncs what changed while n8n was down, and only that', async () => {
		const before = executions().length;
		await n8n.crash();
		await edit('system_b', 'c2', { tier: 'diamond' });
		const endSeq = await lastSeq('system_b');
		await n8n.restart();
		// The activation poll reads from the saved cursor: no minute to wait.
		const tiers = await until(
			async () => Promise.all(['system_a', 'system_c'].map((n) => tierOf(n, 'c2'))),
			(t) => t.every((x) => x === 'diamond'),
			30_000,
		);
		expect(tiers).toEqual(['diamond', 'diamond']);
		expect(await until(cursor, (c) => c === endSeq, 10_000)).toBe(endSeq);
		const runs = await until(
			executions,
			(e) => e.length > before && e.at(-1)!.status !== 'running',
			10_000,
		);
		expect(runs.slice(before).map((e) => e.status)).toEqual(['success']);
		// c1 was not synced again, c3's old change still not at all.
		expect(await tierOf('system_a', 'c1')).toBe('platinum');
		expect(await tierOf('system_a', 'c3')).toBe('bronze');
	}, 120_000);
});
