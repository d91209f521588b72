/**
 * End-to-end: the bundled Day 66 workflow in a real n8n 2.41.1, with the packed package installed
 * as a community package, driven through its production webhook against the three demo systems
 * (real processes, real SQLite stores). Every check reads the systems' stores, not only replies.
 *
 * Skips itself, saying why, when n8n is not installed, unless E2E_REQUIRED=1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import {
	customer,
	startSystems,
	type RunningSystem,
	type StartedSystems,
} from '../systems/helpers';
import { describeWithN8n } from './describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from './n8n';

const WEBHOOK_SECRET = process.env.E2E_WEBHOOK_SECRET ?? 'e2e-webhook-header-value';
const describeE2e = describeWithN8n('day66 e2e');

type Json = Record<string, unknown>;

const workflow = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-data-sync.json'), 'utf8'),
) as Json;
const monitorWorkflow = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-sync-monitor.json'), 'utf8'),
) as Json;

export function systemCredentials(systems: Record<string, RunningSystem>) {
	return demoCredentials(Object.values(systems));
}

describeE2e('the Day 66 workflow in a real n8n', () => {
	let systems: StartedSystems;
	let n8n: RunningN8n;

	async function api(name: string, method: string, p: string, body?: unknown): Promise<Json> {
		const s = systems.systems[name];
		const res = await fetch(`${s.url}${p}`, {
			method,
			headers: {
				...s.headers,
				...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return (await res.json()) as Json;
	}
	const records = async (name: string) =>
		((await api(name, 'GET', '/records?limit=1000')).data as Json[]) ?? [];
	async function comparable(name: string): Promise<Record<string, Json>> {
		const out: Record<string, Json> = {};
		for (const { version: _v, updated_at: _u, deleted_at: _d, ...rest } of await records(name))
			out[String(rest.id)] = rest;
		return out;
	}
	const writes = async () =>
		Promise.all(
			['system_a', 'system_b', 'system_c'].map(
				async (n) => (await systems.stats(n)).applied_writes,
			),
		);
	async function sync(
		body: Json,
		secret = WEBHOOK_SECRET,
	): Promise<{ status: number; body: Json }> {
		const res = await fetch(n8n.webhookUrl('data-sync'), {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': secret },
			body: JSON.stringify(body),
		});
		const text = await res.text();
		let parsed: Json;
		try {
			parsed = JSON.parse(text) as Json;
		} catch {
			parsed = { text };
		}
		return { status: res.status, body: parsed };
	}
	const payload = async (extra: Json = {}) => ({
		source_system: 'system_a',
		sync_data: await records('system_a'),
		...extra,
	});
	/** Rows of the sync log: n8n's own data table, read from n8n's database. */
	function syncLog(): Json[] {
		const db = new DatabaseSync(path.join(n8n.userFolder, '.n8n/database.sqlite'), {
			readOnly: true,
		});
		try {
			const table = db.prepare("SELECT id FROM data_table WHERE name = 'sync_log'").get() as
				| { id: string }
				| undefined;
			if (!table) return [];
			return db.prepare(`SELECT * FROM data_table_user_${table.id} ORDER BY id`).all() as Json[];
		} finally {
			db.close();
		}
	}

	beforeAll(async () => {
		systems = await startSystems();
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows: [workflow, monitorWorkflow],
			credentials: [
				...systemCredentials(systems.systems),
				{
					id: 'dsWebhookAuth',
					name: 'Data sync webhook secret',
					type: 'httpHeaderAuth',
					data: { name: 'X-Sync-Secret', value: WEBHOOK_SECRET },
				},
			],
			publish: [String(workflow.id), String(monitorWorkflow.id)],
		});
		await n8n.waitForWebhook('data-sync');
		await n8n.waitForWebhook('data-sync/monitor', 'GET');
	}, 240_000);

	afterAll(async () => {
		const logs = n8n?.logs() ?? '';
		if (process.env.E2E_DEBUG) console.log(logs);
		await n8n?.stop();
		await systems?.stop();
		for (const secret of [
			WEBHOOK_SECRET,
			'demo-key-a-not-a-secret-7f3c',
			'demo-token-b-not-a-secret-91d2',
			'demo-pass-c-not-a-secret-4e8a',
		]) {
			expect(logs).not.toContain(secret);
		}
	}, 60_000);

	it('the first sync converges all three systems and answers with the report', async () => {
		await systems.reset();
		const seed = async (name: string, rows: Json[]) =>
			fetch(`${systems.systems[name].url}/_admin/seed`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ records: rows }),
			});
		await seed('system_a', [customer('c1', { email: 'a@a.io' }), customer('c2'), customer('c3')]);
		await seed('system_b', [customer('c1', { email: 'b@b.io' }), customer('c2')]);
		await seed('system_c', [customer('c3', { tier: 'gold' })]);
		const res = await sync(await payload());
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({
			validation_status: 'passed',
			sync_type: 'bidirectional',
			source_system: 'system_a',
			target_systems: ['system_b', 'system_c'],
		});
		const [a, b, c] = await Promise.all(['system_a', 'system_b', 'system_c'].map(comparable));
		for (const key of ['c1', 'c2', 'c3']) {
			expect(b[key]).toEqual(a[key]);
			expect(c[key]).toEqual(a[key]);
		}
		expect(syncLog()).toHaveLength(1);
	}, 60_000);

	it('edits to different fields on two systems merge, with the audit in the sync log', async () => {
		await api('system_a', 'PUT', '/records/c1', { ...customer('c1'), email: 'new@a.io' });
		await api('system_b', 'PUT', '/records/c1', {
			...(await comparable('system_b')).c1,
			tier: 'gold',
		});
		const res = await sync(await payload());
		// The default strategy (last writer wins) loses neither edit: no field conflicts.
		expect(res.body).toMatchObject({
			validation_status: 'passed',
			conflicts_detected: 0,
			conflicts_resolved: 0,
		});
		for (const name of ['system_a', 'system_b', 'system_c']) {
			expect((await comparable(name)).c1).toMatchObject({ email: 'new@a.io', tier: 'gold' });
		}
		const last = syncLog().at(-1)!;
		expect(last).toMatchObject({ status: 'passed', conflicts_detected: 0 });
		expect(JSON.parse(String(last.resolutions))).toEqual([
			expect.objectContaining({ key: 'c1', strategy: 'cleanChange', winner: 'merged' }),
		]);
	}, 60_000);

	it('the same field changed on two systems is a conflict, resolved per the strategy', async () => {
		await api('system_b', 'PUT', '/records/c1', {
			...(await comparable('system_b')).c1,
			email: 'b@b.io',
			tier: 'platinum',
		});
		await new Promise((r) => setTimeout(r, 20));
		await api('system_a', 'PUT', '/records/c1', {
			...(await comparable('system_a')).c1,
			email: 'latest@a.io',
		});
		const res = await sync(await payload({ strategy: 'fieldMerge' }));
		expect(res.body).toMatchObject({
			validation_status: 'passed',
			conflicts_detected: 1,
			conflicts_resolved: 1,
		});
		// email: both changed it, the later write wins; tier: system_b's one-sided change is kept.
		for (const name of ['system_a', 'system_b', 'system_c']) {
			expect((await comparable(name)).c1).toMatchObject({ email: 'latest@a.io', tier: 'platinum' });
		}
		const last = syncLog().at(-1)!;
		expect(last).toMatchObject({ status: 'passed', conflicts_detected: 1 });
		expect(JSON.parse(String(last.resolutions))).toEqual([
			expect.objectContaining({ key: 'c1', strategy: 'fieldMerge', winner: 'merged' }),
		]);
	}, 60_000);

	it('a re-sent request writes nothing new', async () => {
		const body = await payload();
		const before = await writes();
		const res = await sync(body);
		expect(res.body).toMatchObject({ validation_status: 'nothing_to_sync' });
		expect(await writes()).toEqual(before);
	}, 60_000);

	it('one-way never writes the source', async () => {
		await api('system_b', 'PUT', '/records/c2', {
			...(await comparable('system_b')).c2,
			tier: 'platinum',
		});
		const before = await writes();
		const res = await sync(await payload({ sync_type: 'one_way' }));
		expect(res.body).toMatchObject({ sync_type: 'one_way' });
		const after = await writes();
		expect(after[0]).toBe(before[0]);
		expect((await comparable('system_a')).c2.tier).toBe('silver');
	}, 60_000);

	it('a delete propagates as a tombstone', async () => {
		await api('system_a', 'DELETE', '/records/c3');
		const res = await sync(await payload());
		expect(res.body).toMatchObject({ validation_status: 'passed' });
		for (const name of ['system_b', 'system_c']) {
			expect((await records(name)).find((r) => r.id === 'c3')).toMatchObject({ _deleted: true });
		}
	}, 60_000);

	it('a malformed payload is answered with a clear 4xx and writes nothing', async () => {
		const before = await writes();
		const noKey = await sync({ sync_data: [{ name: 'no id' }, customer('c9')] });
		expect(noKey.status).toBe(422);
		expect(noKey.body).toMatchObject({
			status: 'rejected',
			reasons: [
				'system_a: item 0 body.sync_data[0]: the record has no key: field "id" is missing or empty',
			],
		});
		const badType = await sync({ sync_data: [customer('c9')], sync_type: 'sideways' });
		expect(badType.status).toBe(400);
		const unknown = await sync({
			sync_data: [customer('c9')],
			target_systems: ['system_b', 'system_x'],
		});
		expect(unknown.status).toBe(422);
		expect(JSON.stringify(unknown.body)).toContain('Unknown system \\"system_x\\"');
		expect(await writes()).toEqual(before);
		expect((await comparable('system_b')).c9).toBeUndefined();
	}, 60_000);

	it('a wrong webhook secret is refused', async () => {
		const before = await writes();
		const res = await sync(await payload(), 'not-the-secret');
		expect(res.status).toBe(403);
		expect(await writes()).toEqual(before);
	}, 60_000);

	it('the sync monitor proves by checksums that the systems agree, and names a key that drifts', async () => {
		const monitor = async (secret = WEBHOOK_SECRET) => {
			const res = await fetch(n8n.webhookUrl('data-sync/monitor'), {
				headers: { 'X-Sync-Secret': secret },
			});
			return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
		};
		expect((await sync(await payload())).body).toMatchObject({
			validation_status: expect.stringMatching(/^(passed|nothing_to_sync)$/),
		});
		const agreed = await monitor();
		expect(agreed.status).toBe(200);
		expect(agreed.body).toMatchObject({
			validation: 'allRecords',
			method: 'rangeChecksums',
			validation_status: 'passed',
			counts: { differences: 0 },
			transfer: { checksumRequests: 3, recordsRead: 0 },
		});

		// system_b drifts outside any sync: the monitor finds the key without reading everything.
		const before = await writes();
		await api('system_b', 'PUT', '/records/c1', {
			...(await comparable('system_b')).c1,
			balance: 999,
		});
		const drifted = await monitor();
		expect(drifted.status).toBe(409);
		expect(drifted.body).toMatchObject({
			validation_status: 'failed',
			differingKeys: ['c1'],
			differences: [{ key: 'c1', kind: 'differing', systems: ['system_b'], fields: ['balance'] }],
		});
		// The monitor only reads: the one write is the drift itself.
		expect((await writes())[1]).toBe(before[1] + 1);
		expect((await monitor('not-the-secret')).status).toBe(403);
	}, 60_000);

	it('no system secret appears in any saved execution, the sync log or the n8n log', async () => {
		const systemSecrets = systemCredentials(systems.systems).map((c) => {
			const d = c.data as unknown as Record<string, string>;
			return d.apiKey ?? d.token ?? d.password;
		});
		const db = new DatabaseSync(path.join(n8n.userFolder, '.n8n/database.sqlite'), {
			readOnly: true,
		});
		let executions: Json[];
		try {
			executions = db.prepare('SELECT data FROM execution_data').all() as Json[];
		} finally {
			db.close();
		}
		expect(executions.length).toBeGreaterThanOrEqual(6);
		const saved = JSON.stringify(executions);
		for (const secret of systemSecrets) expect(saved).not.toContain(secret);
		const logs = [JSON.stringify(syncLog()), n8n.logs()].join('\n');
		for (const secret of [WEBHOOK_SECRET, ...systemSecrets]) expect(logs).not.toContain(secret);
		// Not checked here: the Webhook node's own output keeps the request headers, so n8n saves the
		// webhook's header secret with each execution (it redacts only with its licensed redaction
		// feature). Left to the reliability issue.
	}, 60_000);
});
