/**
 * End-to-end: the bundled Day 66 workflow in a real n8n 2.41.1, with the packed package installed
 * as a community package, driven through its production webhook (the Data Sync Trigger, header
 * secret) against the three demo systems (real processes, real SQLite stores). Every check reads
 * the systems' stores or n8n's database, not only replies. A copy of the workflow whose webhook
 * credential asks for signatures is called with the README's openssl + curl recipe.
 *
 * Skips itself, saying why, when n8n is not installed, unless E2E_REQUIRED=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import {
	customer,
	startSystems,
	type RunningSystem,
	type StartedSystems,
	systemApi,
} from '../systems/helpers';
import { describeWithN8n } from './describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from './n8n';

const WEBHOOK_SECRET = process.env.E2E_WEBHOOK_SECRET ?? 'e2e-webhook-header-value';
const SIGNING_VALUE = 'e2e-day66-signing-secret-0b5e';
/** The sync monitor's own header secret (n8n's Webhook node with Header Auth). */
const MONITOR_SECRET = process.env.E2E_MONITOR_SECRET ?? 'e2e-monitor-header-value';
const describeE2e = describeWithN8n('day66 e2e');

type Json = Record<string, unknown>;

const workflow = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-data-sync.json'), 'utf8'),
) as Json;
/** The Day 66 workflow under its own id and path, its webhook credential asking for signatures. */
const signedWorkflow = (() => {
	const wf = JSON.parse(JSON.stringify(workflow)) as Json & { nodes: Json[] };
	wf.id = 'day66DataSyncSig1';
	wf.name = 'Day 66, signed requests';
	const trigger = wf.nodes.find((n) => n.type === 'n8n-nodes-data-sync.dataSyncTrigger')!;
	(trigger.parameters as Json).path = 'data-sync-signed';
	trigger.webhookId = '6b7c1f0e-3d2a-4c55-9a1e-d66da7a5c0b2';
	trigger.credentials = { dataSyncWebhookApi: { id: 'dsWebhookSigned', name: 'Signed webhook' } };
	return wf;
})();
const monitorWorkflow = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-sync-monitor.json'), 'utf8'),
) as Json;

export function systemCredentials(systems: Record<string, RunningSystem>) {
	return demoCredentials(Object.values(systems));
}

describeE2e('the Day 66 workflow in a real n8n', () => {
	let systems: StartedSystems;
	let n8n: RunningN8n;

	const api = async (name: string, method: string, p: string, body?: unknown) =>
		(await systemApi(systems.systems[name], method, p, body)) as Json;
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
	/** POSTs text to the Day 66 webhook with the header secret (none for `secret: null`). */
	async function post(
		text: string,
		secret: string | null = WEBHOOK_SECRET,
		headers: Record<string, string> = {},
	): Promise<{ status: number; body: Json }> {
		const res = await fetch(n8n.webhookUrl('data-sync'), {
			method: 'POST',
			headers: {
				'Content-Type': 'application/json',
				...(secret === null ? {} : { 'X-Sync-Secret': secret }),
				...headers,
			},
			body: text,
		});
		const raw = await res.text();
		let parsed: Json;
		try {
			parsed = JSON.parse(raw) as Json;
		} catch {
			parsed = { text: raw };
		}
		return { status: res.status, body: parsed };
	}
	const sync = async (body: Json, secret: string | null = WEBHOOK_SECRET) =>
		await post(JSON.stringify(body), secret);
	const payload = async (extra: Json = {}) => ({
		source_system: 'system_a',
		sync_data: await records('system_a'),
		...extra,
	});
	const n8nDb = <T>(read: (db: DatabaseSync) => T): T => n8n.db(read);
	/** Rows of the sync log: n8n's own data table, read from n8n's database. */
	const syncLog = (): Json[] => n8n.dataTableRows('sync_log') as Json[];
	/** Executions n8n holds; `finished`: only those that ended (and saved their static data). */
	const executions = (finished = false): number =>
		n8nDb((db) =>
			Number(
				(
					db
						.prepare(
							`SELECT COUNT(*) AS n FROM execution_entity${finished ? " WHERE status NOT IN ('new', 'running', 'waiting')" : ''}`,
						)
						.get() as Json
				).n,
			),
		);
	/** Waits until every execution n8n started has ended. */
	async function settle(): Promise<void> {
		const deadline = Date.now() + 20_000;
		while (executions(true) < executions() && Date.now() < deadline)
			await new Promise((r) => setTimeout(r, 100));
	}
	/** A refused request starts no execution: the count stays put a while after the answer. */
	async function expectNothingStarted(before: number): Promise<void> {
		await new Promise((r) => setTimeout(r, 1000));
		expect(executions()).toBe(before);
	}

	beforeAll(async () => {
		systems = await startSystems();
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows: [workflow, signedWorkflow, monitorWorkflow],
			credentials: [
				...systemCredentials(systems.systems),
				{
					id: 'dsWebhookTrigger',
					name: 'Data sync webhook',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'headerSecret', secret: WEBHOOK_SECRET, headerName: 'X-Sync-Secret' },
				},
				{
					id: 'dsWebhookSigned',
					name: 'Signed webhook',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'signature', secret: SIGNING_VALUE, toleranceSeconds: 300 },
				},
				{
					id: 'dsWebhookAuth',
					name: 'Data sync webhook secret',
					type: 'httpHeaderAuth',
					data: { name: 'X-Sync-Secret', value: MONITOR_SECRET },
				},
			],
			publish: [String(workflow.id), String(signedWorkflow.id), String(monitorWorkflow.id)],
		});
		await n8n.waitForWebhook('data-sync');
		await n8n.waitForWebhook('data-sync-signed');
		await n8n.waitForWebhook('data-sync/monitor', 'GET');
	}, 240_000);

	afterAll(async () => {
		const logs = n8n?.logs() ?? '';
		if (process.env.E2E_DEBUG) console.log(logs);
		await n8n?.stop();
		await systems?.stop();
		for (const secret of [
			WEBHOOK_SECRET,
			SIGNING_VALUE,
			MONITOR_SECRET,
			'demo-key-a-not-a-secret-7f3c',
			'demo-token-b-not-a-secret-91d2',
			'demo-pass-c-not-a-secret-4e8a',
		]) {
			expect(logs).not.toContain(secret);
		}
	}, 60_000);

	it('the first sync converges all three systems and answers with the report, under the trigger’s sync id', async () => {
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
		// Source, targets and sync type are the trigger's defaults: the payload names only the source.
		expect(res.body).toMatchObject({
			validation_status: 'passed',
			sync_type: 'bidirectional',
			source_system: 'system_a',
			target_systems: ['system_b', 'system_c'],
			sync_id: expect.stringMatching(
				/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
			),
		});
		const [a, b, c] = await Promise.all(['system_a', 'system_b', 'system_c'].map(comparable));
		for (const key of ['c1', 'c2', 'c3']) {
			expect(b[key]).toEqual(a[key]);
			expect(c[key]).toEqual(a[key]);
		}
		expect(syncLog()).toHaveLength(1);
		expect(syncLog()[0].sync_id).toBe(res.body.sync_id);
		// The trigger's sync id is the origin of every write of the run (what echo detection reads).
		for (const name of ['system_b', 'system_c']) {
			const feed = (await api(name, 'GET', '/records/changes?since=0&limit=1000'))
				.changes as Json[];
			const written = feed.filter((change) => change.origin !== null);
			expect(written.length).toBeGreaterThan(0);
			expect(new Set(written.map((change) => change.origin))).toEqual(new Set([res.body.sync_id]));
		}
		await settle();
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
		await settle();
	}, 60_000);

	it('a malformed payload gets the trigger’s 400 with every reason and starts nothing', async () => {
		const before = await writes();
		const started = executions();
		const noKey = await sync({ sync_data: [{ name: 'no id' }, customer('c9')] });
		expect(noKey).toEqual({
			status: 400,
			body: {
				status: 'rejected',
				error: 'invalid sync request: nothing was started',
				reasons: ['sync_data[0] has no key: "id" is missing, empty, or not a string or number'],
			},
		});
		// Every problem at once, not only the first.
		const everything = await sync({
			sync_data: [customer('c9'), customer('c9'), 'a string'],
			sync_type: 'sideways',
			strategy: 'coinFlip',
			source_system: false,
			target_systems: ['system_b', ''],
			scope: 'everything',
		});
		expect(everything.status).toBe(400);
		expect(everything.body.reasons).toEqual([
			'sync_data[1] repeats the key "c9" of sync_data[0]',
			'sync_data[2] must be an object (a record), not "a string"',
			'sync_type must be one of bidirectional, one_way, real_time, not "sideways"',
			'strategy must be one of lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview, not "coinFlip"',
			'scope must be one of source, all, not "everything"',
			'source_system must be a system name (a non-empty string), not false',
			'target_systems[1] must be a system name, not ""',
		]);
		// Any content type: the trigger reads the bytes as sent.
		const notJson = await post('{"sync_data": [', WEBHOOK_SECRET, { 'Content-Type': 'text/plain' });
		expect(notJson.status).toBe(400);
		expect((notJson.body.reasons as string[])[0]).toMatch(/^the body is not JSON: /);
		// Declared JSON that is not: n8n's own body parser answers first (422), before any node.
		const brokenJson = await post('{"sync_data": [');
		expect(brokenJson.status).toBe(422);
		expect(brokenJson.body).toMatchObject({ message: 'Failed to parse request body' });
		if (process.env.E2E_DEBUG) console.log('broken JSON answered', brokenJson);
		expect((await sync({ sync_data: [] })).body.reasons).toEqual([
			'sync_data is empty: send at least one of the records',
		]);
		await expectNothingStarted(started);
		expect(await writes()).toEqual(before);
		expect((await comparable('system_b')).c9).toBeUndefined();
	}, 60_000);

	it('a system the workflow does not reach is refused by Conflict Check: 422, nothing written', async () => {
		const before = await writes();
		const unknown = await sync({
			sync_data: [customer('c9')],
			target_systems: ['system_b', 'system_x'],
		});
		expect(unknown.status).toBe(422);
		expect(unknown.body).toMatchObject({
			status: 'rejected',
			error: 'the sync request was rejected: nothing was written',
			sync_id: expect.any(String),
		});
		expect(JSON.stringify(unknown.body.reasons)).toContain('Unknown system \\"system_x\\"');
		expect(await writes()).toEqual(before);
		expect((await comparable('system_b')).c9).toBeUndefined();
		await settle();
	}, 60_000);

	it('a missing or wrong webhook secret is refused (401, 403) and starts nothing', async () => {
		const before = await writes();
		const started = executions();
		const body = await payload();
		expect(await sync(body, null)).toEqual({
			status: 401,
			body: { status: 'rejected', error: 'X-Sync-Secret header missing' },
		});
		expect(await sync(body, 'not-the-secret')).toEqual({
			status: 403,
			body: { status: 'rejected', error: 'the X-Sync-Secret header does not match' },
		});
		await expectNothingStarted(started);
		expect(await writes()).toEqual(before);
	}, 60_000);

	it('a client that retries a delivery (same X-Data-Sync-Delivery) gets 409: the sync ran once', async () => {
		const delivery = 'day66-e2e-delivery-1';
		const text = JSON.stringify(await payload());
		const first = await post(text, WEBHOOK_SECRET, { 'X-Data-Sync-Delivery': delivery });
		expect(first.status).toBe(200);
		// The delivery is recorded by the execution it started, once that ends.
		await settle();
		const started = executions();
		const again = await post(text, WEBHOOK_SECRET, { 'X-Data-Sync-Delivery': delivery });
		expect(again).toEqual({
			status: 409,
			body: { status: 'rejected', error: `delivery "${delivery}" was already received` },
		});
		await expectNothingStarted(started);
	}, 60_000);

	it('the sync monitor proves by checksums that the systems agree, and names a key that drifts', async () => {
		const monitor = async (secret = MONITOR_SECRET) => {
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
		await settle();
	}, 60_000);

	it('the README’s signed curl (openssl HMAC) runs the same workflow when its credential asks for signatures', async () => {
		const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
		const recipe = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
			.map((m) => m[1])
			.find((block) => block.includes('X-Data-Sync-Signature'));
		expect(recipe).toBeDefined();
		const dir = mkdtempSync(path.join(tmpdir(), 'day66-signed-'));
		const run = (secret: string) =>
			execFileSync(
				'bash',
				[
					'-euo',
					'pipefail',
					'-c',
					recipe!
						.replace(/^SECRET=.*$/m, `SECRET='${secret}'`)
						.replace('http://127.0.0.1:5678/webhook/data-sync', n8n.webhookUrl('data-sync-signed'))
						.replace(/^curl /m, "curl -sS -w '\\n%{http_code}' "),
				],
				{ cwd: dir, encoding: 'utf8' },
			);
		try {
			await api('system_a', 'PUT', '/records/c7', customer('c7', { tier: 'gold' }));
			const c7 = (await records('system_a')).find((r) => r.id === 'c7');
			writeFileSync(
				path.join(dir, 'payload.json'),
				`${JSON.stringify({ source_system: 'system_a', sync_data: [c7] }, null, 2)}\n`,
			);
			const answer = (secret: string) => {
				const lines = run(secret).trimEnd().split('\n');
				return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) as Json };
			};
			const signed = answer(SIGNING_VALUE);
			expect(signed.status).toBe(200);
			expect(signed.body).toMatchObject({ validation_status: 'passed', records_written: 2 });
			for (const name of ['system_b', 'system_c'])
				expect((await comparable(name)).c7).toMatchObject({ tier: 'gold' });
			const other = answer('a-different-secret-entirely');
			expect(other).toEqual({
				status: 403,
				body: { status: 'rejected', error: 'the signature does not match the body' },
			});
			// Sent with the header secret instead: this webhook wants a signature.
			const res = await fetch(n8n.webhookUrl('data-sync-signed'), {
				method: 'POST',
				headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': SIGNING_VALUE },
				body: JSON.stringify({ sync_data: [c7] }),
			});
			expect(res.status).toBe(401);
			await res.arrayBuffer();
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
		await settle();
	}, 60_000);

	it('no secret appears in any saved execution, the sync log or the n8n log; the request is saved typed, without headers', async () => {
		const systemSecrets = systemCredentials(systems.systems).map((c) => {
			const d = c.data as unknown as Record<string, string>;
			return d.apiKey ?? d.token ?? d.password;
		});
		const day66Ids = [String(workflow.id), String(signedWorkflow.id)];
		const saved = n8nDb(
			(db) =>
				db
					.prepare(
						'SELECT e.workflowId AS workflowId, d.data AS data FROM execution_entity e JOIN execution_data d ON d.executionId = e.id',
					)
					.all() as Array<{ workflowId: string; data: string }>,
		);
		const day66 = saved.filter((row) => day66Ids.includes(row.workflowId)).map((r) => r.data);
		expect(day66.length).toBeGreaterThanOrEqual(10);
		const all = saved.map((row) => row.data);
		const holding = (rows: string[], secret: string) =>
			rows.filter((data) => data.includes(secret)).length;
		// The webhook credential's secrets: in no saved execution at all.
		expect(holding(all, WEBHOOK_SECRET)).toBe(0);
		expect(holding(all, SIGNING_VALUE)).toBe(0);
		for (const secret of systemSecrets) expect(holding(all, secret)).toBe(0);
		// What a Day 66 execution saves of the request: the trigger's typed item, no header.
		const text = day66.join('\n');
		expect(text).toContain('receivedAt');
		for (const header of ['x-sync-secret', 'x-data-sync-signature', 'x-data-sync-timestamp'])
			expect(text.toLowerCase()).not.toContain(header);
		// The sync monitor still starts with n8n's own Webhook node (Header Auth), whose output
		// keeps the request headers: its GETs save its secret. Pinned, so a change is noticed.
		expect(holding(all, MONITOR_SECRET)).toBeGreaterThan(0);
		const logs = [JSON.stringify(syncLog()), n8n.logs()].join('\n');
		for (const secret of [WEBHOOK_SECRET, SIGNING_VALUE, MONITOR_SECRET, ...systemSecrets])
			expect(logs).not.toContain(secret);
	}, 60_000);
});
