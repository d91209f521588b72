/**
 * End-to-end: the bundled real-time workflow (workflows/day66-realtime-sync.json) in a real
 * n8n 2.41.1 with the packed package, and the three demo systems subscribed to its Change Event
 * trigger. Edits are made in the systems themselves, as a person would (a PUT without an origin);
 * every check reads each system's own store, the systems' change feeds and n8n's data tables.
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

const SIGNING_VALUE = 'e2e-change-events-signing-secret';
const SYSTEMS = ['system_a', 'system_b', 'system_c'];
const workflow = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-realtime-sync.json'), 'utf8'),
) as Json;

const describeE2e = describeWithN8n('real-time e2e');

describeE2e('real-time sync: an edit on any system reaches the other two', () => {
	let systems: StartedSystems;
	let n8n: RunningN8n;

	const api = async (name: string, method: string, p: string, body?: unknown) =>
		(await systemApi(systems.systems[name], method, p, body)) as Json;
	/** A record as a person edits it: read it, change fields, PUT it back with its version. */
	async function edit(name: string, id: string, fields: Json): Promise<void> {
		const current = await api(name, 'GET', `/records/${id}`);
		const { updated_at: _u, ...rest } = current;
		await api(name, 'PUT', `/records/${id}`, { ...rest, ...fields });
	}
	const fieldsOf = async (name: string, id: string) => {
		const { version: _v, updated_at: _u, ...rest } = await api(name, 'GET', `/records/${id}`);
		return rest;
	};
	const appliedWrites = async () =>
		Promise.all(SYSTEMS.map(async (n) => (await systems.stats(n)).applied_writes));

	async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000) {
		const deadline = Date.now() + ms;
		let last = await read();
		while (!ok(last) && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 100));
			last = await read();
		}
		return last;
	}

	const table = (name: string) => n8n.dataTableRows(name) as Json[];
	const executions = () =>
		n8n.db(
			(db) =>
				db
					.prepare('SELECT status FROM execution_entity WHERE workflowId = ?')
					.all(String(workflow.id)) as Array<{ status: string }>,
		);

	beforeAll(async () => {
		systems = await startSystems();
		const seed = [
			customer('c1', { email: 'ada@example.com', tier: 'silver' }),
			customer('c2', { email: 'grace@example.com', tier: 'gold' }),
			customer('c3', { email: 'alan@example.com', tier: 'bronze' }),
		];
		for (const name of SYSTEMS) {
			await fetch(`${systems.systems[name].url}/_admin/seed`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ records: seed }),
			});
		}
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows: [workflow],
			credentials: [
				...demoCredentials(Object.values(systems.systems)),
				{
					id: 'dsChangeEvents',
					name: 'Data sync change events',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'signature', secret: SIGNING_VALUE, toleranceSeconds: 300 },
				},
			],
			publish: [String(workflow.id)],
		});
		await n8n.waitForWebhook('data-sync/changes');
		for (const name of SYSTEMS)
			await systems.subscribe(name, n8n.webhookUrl('data-sync/changes'), SIGNING_VALUE);
	}, 240_000);

	afterAll(async () => {
		const logs = n8n?.logs() ?? '';
		if (process.env.E2E_DEBUG) console.log(logs);
		await n8n?.stop();
		await systems?.stop();
		expect(logs).not.toContain(SIGNING_VALUE);
	}, 60_000);

	it('an edit on system_c reaches system_a and system_b, and its echoes are dropped', async () => {
		const started = Date.now();
		await edit('system_c', 'c1', { tier: 'platinum' });
		const seen = await until(
			async () => Promise.all(['system_a', 'system_b'].map((n) => fieldsOf(n, 'c1'))),
			(records) => records.every((r) => r.tier === 'platinum'),
		);
		const latencyMs = Date.now() - started;
		for (const record of seen) expect(record).toMatchObject({ tier: 'platinum' });
		// The writes to system_a and system_b carry the sync id as their origin: the feed says so.
		const feedA = await systems.changes('system_a');
		const write = feedA.filter((c) => c.key === 'c1').at(-1)!;
		expect(write.origin).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
		// The base row for c1 holds what was validated; the sync log has the run.
		const base = await until(
			async () => table('sync_base').filter((r) => r.key === 'c1'),
			(rows) => rows.length > 0,
		);
		expect(base).toHaveLength(1);
		expect(JSON.parse(String(base[0].values))).toMatchObject({ tier: 'platinum' });
		const log = await until(
			async () => table('sync_log'),
			(rows) => rows.length > 0,
		);
		expect(log.at(-1)).toMatchObject({ source_system: 'system_c', status: 'passed' });
		console.log(`[real-time e2e] edit on system_c everywhere after ${latencyMs} ms`);
	}, 60_000);

	it('no loop: once the edits stop, nothing more is written', async () => {
		const before = await appliedWrites();
		await new Promise((r) => setTimeout(r, 3000));
		expect(await appliedWrites()).toEqual(before);
		// Echo events start no execution: every execution so far was a person's edit.
		expect(executions().every((e) => e.status === 'success')).toBe(true);
	}, 30_000);

	it('edits to different fields of one record on system_a and system_b both survive', async () => {
		// A first edit syncs c2 and gives it a base row: field-level merge needs the values of the
		// last validated sync (without them the record is decided as a whole, and the audit keeps
		// the losing values).
		await edit('system_c', 'c2', { tier: 'gold+' });
		await until(
			async () => table('sync_base').filter((r) => r.key === 'c2'),
			(rows) => rows.length > 0 && String(rows[0].values).includes('gold+'),
		);
		await edit('system_a', 'c2', { email: 'grace.hopper@example.com' });
		await edit('system_b', 'c2', { tier: 'platinum' });
		const all = await until(
			async () => Promise.all(SYSTEMS.map((n) => fieldsOf(n, 'c2'))),
			(records) =>
				records.every((r) => r.email === 'grace.hopper@example.com' && r.tier === 'platinum'),
		);
		for (const record of all)
			expect(record).toMatchObject({ email: 'grace.hopper@example.com', tier: 'platinum' });
		const before = await appliedWrites();
		await new Promise((r) => setTimeout(r, 3000));
		expect(await appliedWrites()).toEqual(before);
	}, 60_000);

	it('a delete on system_b reaches the others as a tombstone', async () => {
		await api('system_b', 'DELETE', '/records/c3');
		const gone = await until(
			async () => Promise.all(['system_a', 'system_c'].map((n) => fieldsOf(n, 'c3'))),
			(records) => records.every((r) => r._deleted === true),
		);
		for (const record of gone) expect(record).toMatchObject({ _deleted: true });
	}, 60_000);
});
