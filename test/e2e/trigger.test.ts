/**
 * End-to-end: the Data Sync Trigger in a real n8n 2.41.1, the packed package installed as a
 * community package, two small workflows of its own (test/e2e/fixtures/trigger-workflows.json):
 *
 * - POST /webhook/sync-signed: HMAC-SHA256 signature, answered by a Respond to Webhook node (v1)
 *   with the trigger's item, so the test sees exactly what the workflow received;
 * - POST /webhook/sync-header: a plain header secret, answered immediately (202).
 *
 * What it proves: a signed request starts one execution with one typed sync request and no
 * headers; a bad signature, a stale timestamp, a replay and a duplicate delivery are refused
 * (401/403/409) and start nothing; a bad body gets 400 with every reason and starts nothing; a
 * change event of echoes only starts nothing; no secret and no signature is anywhere in n8n's
 * database (saved executions, static data) or its log.
 *
 * Skips itself, saying why, when n8n is not installed, unless E2E_REQUIRED=1.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { newSyncId, signatureHeader } from '../../nodes/shared/engine';
import { describeWithN8n } from './describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from './n8n';

// eslint-disable-next-line @n8n/community-nodes/no-hardcoded-secrets -- throwaway secrets of a temp n8n
const SIGNING_SECRET = 'e2e-signing-secret-7a1f-not-real';
// eslint-disable-next-line @n8n/community-nodes/no-hardcoded-secrets -- throwaway secrets of a temp n8n
const HEADER_SECRET = 'e2e-header-secret-c93d-not-real';

type Json = Record<string, unknown>;

const workflows = JSON.parse(
	readFileSync(path.join(ROOT, 'test/e2e/fixtures/trigger-workflows.json'), 'utf8'),
) as Json[];

const describeE2e = describeWithN8n('Data Sync Trigger e2e');

describeE2e('the Data Sync Trigger in a real n8n', () => {
	let n8n: RunningN8n;
	/** Every signature sent, good or bad: none may be saved anywhere. */
	const signaturesSent: string[] = [];
	/** Executions that ran a sync, and those a duplicate started that stopped at the trigger. */
	let startedBySyncs = 0;
	let startedWithoutSync = 0;
	let startedWithError = 0;

	interface SendOptions {
		/** Unix seconds of the signature (default now). */
		timestamp?: number;
		delivery?: string;
		secret?: string;
		/** Replaces the computed signature header. */
		signature?: string | null;
		headers?: Record<string, string>;
	}

	/** POSTs a body (text as given) to the signed trigger, signed unless told otherwise. */
	async function sendSigned(body: unknown, options: SendOptions = {}, webhookPath = 'sync-signed') {
		const text = typeof body === 'string' ? body : JSON.stringify(body);
		const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
		const computed = signatureHeader(options.secret ?? SIGNING_SECRET, timestamp, text);
		const signature = options.signature === undefined ? computed : options.signature;
		if (signature) signaturesSent.push(signature.slice(3));
		const headers: Record<string, string> = {
			'Content-Type': 'application/json',
			'X-Data-Sync-Timestamp': String(timestamp),
			'X-Data-Sync-Delivery': options.delivery ?? randomUUID(),
			...(signature ? { 'X-Data-Sync-Signature': signature } : {}),
			...(options.headers ?? {}),
		};
		return await post(webhookPath, text, headers);
	}

	async function post(webhookPath: string, text: string, headers: Record<string, string>) {
		const res = await fetch(n8n.webhookUrl(webhookPath), { method: 'POST', headers, body: text });
		const raw = await res.text();
		let json: Json;
		try {
			json = JSON.parse(raw) as Json;
		} catch {
			json = { text: raw };
		}
		return { status: res.status, body: json };
	}

	function database(): DatabaseSync {
		return new DatabaseSync(path.join(n8n.userFolder, '.n8n/database.sqlite'), {
			readOnly: true,
		});
	}
	/** Executions n8n holds: `finished` counts only those that ended (and saved static data). */
	function executionCount(finished = false): number {
		const db = database();
		const where = finished ? " WHERE status NOT IN ('new', 'running', 'waiting')" : '';
		try {
			return Number(
				(db.prepare(`SELECT COUNT(*) AS n FROM execution_entity${where}`).get() as Json).n,
			);
		} finally {
			db.close();
		}
	}
	/** Waits until `expected` executions exist and have ended. */
	async function waitForExecutions(expected: number): Promise<void> {
		const deadline = Date.now() + 20_000;
		while (executionCount(true) < expected && Date.now() < deadline)
			await new Promise((r) => setTimeout(r, 200));
		expect(executionCount(true)).toBe(expected);
		expect(executionCount()).toBe(expected);
	}
	/** Asserts that nothing started: the count stays put for a while after the answer. */
	async function expectNoNewExecution(before: number): Promise<void> {
		await new Promise((r) => setTimeout(r, 1500));
		expect(executionCount()).toBe(before);
	}

	beforeAll(async () => {
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows,
			credentials: [
				{
					id: 'e2eWebhookSigned',
					name: 'Signed webhook',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'signature', secret: SIGNING_SECRET, toleranceSeconds: 300 },
				},
				{
					id: 'e2eWebhookHeader',
					name: 'Header secret webhook',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'headerSecret', secret: HEADER_SECRET, headerName: 'X-Sync-Secret' },
				},
			],
			publish: workflows.map((w) => String(w.id)),
		});
		await n8n.waitForWebhook('sync-signed');
		await n8n.waitForWebhook('sync-header');
		await n8n.waitForWebhook('sync-respond15');
	}, 240_000);

	afterAll(async () => {
		if (process.env.E2E_DEBUG) console.log(n8n?.logs());
		await n8n?.stop();
	}, 60_000);

	it('loads both triggers and the webhook credential', async () => {
		const types = await n8n.nodeTypes();
		const trigger = types.find((t) => t.name === 'n8n-nodes-data-sync.dataSyncTrigger');
		const poll = types.find((t) => t.name === 'n8n-nodes-data-sync.dataSyncPollTrigger');
		expect(trigger).toMatchObject({ group: ['trigger'], webhooks: [expect.any(Object)] });
		expect(poll).toMatchObject({ group: ['trigger'], polling: true });
		const credentials = (await n8n.credentialTypes()).map((c) => c.name);
		expect(credentials).toContain('dataSyncWebhookApi');
	}, 60_000);

	it('a signed request starts one execution with one typed sync request and no headers', async () => {
		const before = executionCount();
		const records = [
			{ id: 'c1', name: 'Ada', updated_at: '2026-12-01T10:00:00Z' },
			{ id: 'c2', name: 'Grace' },
		];
		const res = await sendSigned({ sync_data: records, sync_type: 'one_way' });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({
			syncId: expect.stringMatching(
				/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
			),
			syncType: 'one_way',
			sourceSystem: 'system_a',
			targetSystems: ['system_b', 'system_c'],
			strategy: 'fieldMerge',
			scope: 'source',
			keys: ['c1', 'c2'],
			records,
			trigger: 'request',
			changes: null,
			echoesDropped: 0,
			range: null,
			receivedAt: expect.any(String),
		});
		await waitForExecutions(before + 1);
		startedBySyncs += 1;
	}, 60_000);

	it('a bad signature, a missing one, another secret or a stale timestamp is refused, and starts nothing', async () => {
		const before = executionCount();
		const body = { sync_data: [{ id: 'c1' }] };
		const tampered = await sendSigned(body, {
			signature: signatureHeader(SIGNING_SECRET, Math.floor(Date.now() / 1000), '{"sync_data":[]}'),
		});
		expect(tampered).toEqual({
			status: 403,
			body: { status: 'rejected', error: 'the signature does not match the body' },
		});
		expect((await sendSigned(body, { signature: null })).status).toBe(401);
		expect((await sendSigned(body, { secret: 'a-different-secret-entirely' })).status).toBe(403);
		const stale = await sendSigned(body, { timestamp: Math.floor(Date.now() / 1000) - 301 });
		expect(stale).toEqual({
			status: 403,
			body: {
				status: 'rejected',
				error: 'the timestamp is more than 300 s from now: a late or replayed request',
			},
		});
		const unsigned = await post('sync-signed', JSON.stringify(body), {
			'Content-Type': 'application/json',
		});
		expect(unsigned.status).toBe(401);
		await expectNoNewExecution(before);
	}, 60_000);

	it('a replayed request and a re-sent delivery are refused with 409 before any execution', async () => {
		const before = executionCount();
		const body = JSON.stringify({ sync_data: [{ id: 'r1' }] });
		const timestamp = Math.floor(Date.now() / 1000);
		const delivery = randomUUID();
		const first = await sendSigned(body, { timestamp, delivery });
		expect(first.status).toBe(200);
		// The delivery is recorded by the execution it started, once that ends.
		const afterFirst = before + 1;
		await waitForExecutions(afterFirst);
		// The same bytes again: the same delivery id.
		expect(await sendSigned(body, { timestamp, delivery })).toEqual({
			status: 409,
			body: { status: 'rejected', error: `delivery "${delivery}" was already received` },
		});
		// A captured request under a new delivery id: its signature gives it away.
		expect(await sendSigned(body, { timestamp, delivery: randomUUID() })).toEqual({
			status: 409,
			body: { status: 'rejected', error: 'this request was already received: a replay' },
		});
		// The sender re-sending the delivery, newly signed: the delivery id gives it away.
		expect((await sendSigned(body, { timestamp: timestamp + 1, delivery })).status).toBe(409);
		await expectNoNewExecution(afterFirst);
		startedBySyncs += 1;
	}, 60_000);

	it('the same delivery twice at once: one sync runs; the duplicate is refused, or stopped at the trigger', async () => {
		const before = executionCount();
		const body = JSON.stringify({ sync_data: [{ id: 'twice' }] });
		const options = { timestamp: Math.floor(Date.now() / 1000), delivery: randomUUID() };
		const answers = await Promise.all([sendSigned(body, options), sendSigned(body, options)]);
		const synced = answers.filter((a) => a.status === 200 && typeof a.body.syncId === 'string');
		expect(synced).toHaveLength(1);
		// The other: refused before any execution (409), or, when both were in flight at once,
		// stopped by the trigger's step inside its execution (n8n's deduplication store): its
		// Respond node never runs, n8n answers 200 without a body.
		const other = answers.find((a) => a !== synced[0])!;
		if (process.env.E2E_DEBUG) console.log('duplicate at once answered', other);
		if (other.status === 200) expect(other.body).toEqual({ text: '' });
		else expect(other.status).toBe(409);
		const started = other.status === 200 ? 2 : 1;
		await waitForExecutions(before + started);
		startedBySyncs += 1;
		startedWithoutSync += started - 1;
	}, 60_000);

	it('a duplicate the static data forgot is stopped inside its execution by n8n’s deduplication store', async () => {
		const body = JSON.stringify({ sync_data: [{ id: 'forgotten' }] });
		const options = { timestamp: Math.floor(Date.now() / 1000), delivery: randomUUID() };
		const before = executionCount();
		expect((await sendSigned(body, options)).status).toBe(200);
		await waitForExecutions(before + 1);
		// As when overlapping executions overwrite each other's static data (one blob per workflow).
		const db = new DatabaseSync(path.join(n8n.userFolder, '.n8n/database.sqlite'));
		try {
			db.prepare(
				"UPDATE workflow_entity SET staticData = NULL WHERE id = 'e2eTriggerSign01'",
			).run();
		} finally {
			db.close();
		}
		const again = await sendSigned(body, options);
		// It passed webhook(), so an execution starts; the trigger's step finds the delivery in the
		// deduplication store and passes nothing on: the Respond node never runs, no sync does.
		expect(again).toEqual({ status: 200, body: { text: '' } });
		await waitForExecutions(before + 2);
		startedBySyncs += 1;
		startedWithoutSync += 1;
	}, 60_000);

	it('an invalid body gets 400 with every reason, and starts nothing', async () => {
		const before = executionCount();
		const delivery = randomUUID();
		const res = await sendSigned(
			{
				sync_data: [{ id: 'c1' }, { name: 'no key' }, { id: 'c1' }],
				sync_type: 'sideways',
				strategy: 'coinFlip',
				target_systems: [],
				scope: 'everything',
			},
			{ delivery },
		);
		expect(res).toEqual({
			status: 400,
			body: {
				status: 'rejected',
				error: 'invalid sync request: nothing was started',
				reasons: [
					'sync_data[1] has no key: "id" is missing, empty, or not a string or number',
					'sync_data[2] repeats the key "c1" of sync_data[0]',
					'sync_type must be one of bidirectional, one_way, real_time, not "sideways"',
					'strategy must be one of lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview, not "coinFlip"',
					'scope must be one of source, all, not "everything"',
					'target_systems must be a non-empty array of system names, not []',
				],
			},
		});
		const tooMany = await sendSigned({
			sync_data: Array.from({ length: 51 }, (_, i) => ({ id: `k${i}` })),
		});
		expect(tooMany.body.reasons).toEqual(['sync_data holds 51 records, over the limit of 50']);
		await expectNoNewExecution(before);
		// Only accepted deliveries are remembered: the corrected request may reuse the delivery id.
		const corrected = await sendSigned({ sync_data: [{ id: 'c1' }] }, { delivery });
		expect(corrected.status).toBe(200);
		await waitForExecutions(before + 1);
		startedBySyncs += 1;
	}, 60_000);

	it('a change event of echoes only answers 200 with the count and starts nothing', async () => {
		const before = executionCount();
		const echoes = await sendSigned({
			type: 'changes',
			system: 'system_b',
			changes: [
				{ seq: 12, key: 'cust-1', op: 'upsert', origin: newSyncId(), at: new Date().toISOString() },
				{ seq: 13, key: 'cust-2', op: 'delete', origin: newSyncId(), at: new Date().toISOString() },
			],
			records: [{ id: 'cust-1', name: 'written by the sync' }],
		});
		expect(echoes).toEqual({
			status: 200,
			body: {
				status: 'ignored',
				reason: 'every change system_b reported was written by a sync (an echo): nothing to sync',
				echoesDropped: 2,
			},
		});
		await expectNoNewExecution(before);
	}, 60_000);

	it('a change event starts a real_time sync from its system, without the echoes', async () => {
		const before = executionCount();
		const res = await sendSigned({
			type: 'changes',
			system: 'system_b',
			changes: [
				{ seq: 20, key: 'cust-1', op: 'upsert', origin: null, at: '2026-12-01T10:00:00Z' },
				{ seq: 21, key: 'cust-9', op: 'upsert', origin: newSyncId(), at: '2026-12-01T10:00:01Z' },
			],
			records: [{ id: 'cust-1', name: 'Ada' }, { id: 'cust-9' }],
		});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({
			syncType: 'real_time',
			sourceSystem: 'system_b',
			targetSystems: ['system_a', 'system_c'],
			strategy: 'fieldMerge',
			scope: 'source',
			keys: ['cust-1'],
			records: [{ id: 'cust-1', name: 'Ada' }],
			trigger: 'changeEvent',
			changes: [{ seq: 20, key: 'cust-1', op: 'upsert', origin: null, at: '2026-12-01T10:00:00Z' }],
			echoesDropped: 1,
		});
		await waitForExecutions(before + 1);
		startedBySyncs += 1;
	}, 60_000);

	it('a header secret: 202 with the sync id at once; a wrong or missing secret is refused', async () => {
		const before = executionCount();
		const body = JSON.stringify({ sync_data: [{ id: 'h1' }], scope: 'all' });
		const accepted = await post('sync-header', body, {
			'Content-Type': 'application/json',
			'X-Sync-Secret': HEADER_SECRET,
		});
		expect(accepted).toEqual({
			status: 202,
			body: {
				status: 'accepted',
				syncId: expect.any(String),
				syncType: 'bidirectional',
				sourceSystem: 'system_a',
				targetSystems: ['system_b', 'system_c'],
				keys: 1,
				echoesDropped: 0,
			},
		});
		await waitForExecutions(before + 1);
		startedBySyncs += 1;
		const wrong = await post('sync-header', body, {
			'Content-Type': 'application/json',
			'X-Sync-Secret': `${HEADER_SECRET}-wrong`,
		});
		expect(wrong).toEqual({
			status: 403,
			body: { status: 'rejected', error: 'the X-Sync-Secret header does not match' },
		});
		const missing = await post('sync-header', body, { 'Content-Type': 'application/json' });
		expect(missing.status).toBe(401);
		await expectNoNewExecution(before + 1);
	}, 60_000);

	it('Respond to Webhook 1.1 and later refuse to answer for this trigger: version 1 is the one to use', async () => {
		const before = executionCount();
		const res = await sendSigned({ sync_data: [{ id: 'v15' }] }, {}, 'sync-respond15');
		expect(res).toEqual({ status: 500, body: { message: 'Error in workflow' } });
		await waitForExecutions(before + 1);
		const db = database();
		try {
			const [row] = db
				.prepare(
					'SELECT e.status, d.data FROM execution_entity e JOIN execution_data d ON d.executionId = e.id ORDER BY e.id DESC LIMIT 1',
				)
				.all() as Array<{ status: string; data: string }>;
			expect(row.status).toBe('error');
			expect(row.data).toContain('No Webhook node found in the workflow');
		} finally {
			db.close();
		}
		startedWithError += 1;
	}, 60_000);

	it('the saved executions hold the typed request, and no secret or signature is anywhere in n8n', async () => {
		const db = database();
		let saved: Array<{ data: string }>;
		let staticData: Array<{ staticData: string | null }>;
		try {
			saved = db.prepare('SELECT data FROM execution_data').all() as Array<{ data: string }>;
			staticData = db.prepare('SELECT staticData FROM workflow_entity').all() as Array<{
				staticData: string | null;
			}>;
		} finally {
			db.close();
		}
		// One per accepted request above, and one per duplicate that was stopped at the trigger.
		expect(saved.length).toBe(startedBySyncs + startedWithoutSync + startedWithError);
		expect(startedBySyncs).toBe(7);
		const text = saved.map((row) => row.data).join('\n');
		// The trigger's item is saved (its fields), the request's headers are not.
		expect(text).toContain('changeEvent');
		expect(text).toContain('receivedAt');
		for (const header of ['x-data-sync-signature', 'x-data-sync-timestamp', 'x-sync-secret'])
			expect(text.toLowerCase()).not.toContain(header);
		// The replay keys webhook() hands to the trigger's step are taken off the item.
		expect(text).not.toContain('__dataSyncReplayKeys');
		expect(text).not.toMatch(/signature:[0-9a-f]{32}/);
		// The replay memory is in the trigger's static data, hashed.
		expect(staticData.map((row) => row.staticData ?? '').join()).toMatch(/delivery:[0-9a-f]{32}/);

		expect(signaturesSent.length).toBeGreaterThan(10);
		const folder = path.join(n8n.userFolder, '.n8n');
		const files = readdirSync(folder, { recursive: true, withFileTypes: true })
			.filter((entry) => entry.isFile())
			.map((entry) => path.join(entry.parentPath, entry.name));
		const everything = [...files.map((f) => readFileSync(f).toString('latin1')), n8n.logs()].join(
			'\n',
		);
		for (const secret of [SIGNING_SECRET, HEADER_SECRET]) expect(everything).not.toContain(secret);
		for (const signature of signaturesSent) expect(everything).not.toContain(signature);
	}, 60_000);
});
