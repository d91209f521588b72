/**
 * The README's demo: builds nothing itself (scripts/run.sh demo builds and installs n8n first),
 * then brings up the whole Day 66 pipeline and leaves it running:
 *   1. the three demo systems, seeded with conflicting customers (.data/systems);
 *   2. a real n8n 2.41.1 with this package installed as a community package (.data/n8n);
 *   3. the system credentials, the webhook credentials (the Data Sync Trigger's, and the sync
 *      monitor's Header Auth with a value of its own) and workflows/day66-data-sync.json, published
 *      (with the sync monitor), and the learner starter workflows/learner-conflicts.json;
 *   4. one sync through the webhook (header X-Sync-Secret), whose report it prints, with the
 *      editor URL;
 *   5. workflows/day66-realtime-sync.json published, the three systems subscribed to its change
 *      trigger, and a person's edit on system_c shown reaching system_a and system_b.
 * A second run stops what the first left running and starts again on the same data.
 * `npm run demo -- stop` stops everything.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
	closeSync,
	existsSync,
	mkdirSync,
	openSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import path from 'node:path';

import axios from 'axios';

import { demoCredentials } from '../demo/systems/credentials.ts';
import { n8nEnv } from './n8n/env.ts';
import type { AuthConfig } from '../demo/systems/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = path.join(ROOT, '.data');
const RUN = path.join(DATA, 'demo');
const N8N_HOME = path.join(DATA, 'n8n');
const N8N_BIN = path.join(ROOT, '.cache/n8n/node_modules/n8n/bin/n8n');
const PORT = Number(process.env.DEMO_N8N_PORT ?? 5678);
const URL = `http://127.0.0.1:${PORT}`;
const WORKFLOW = path.join(ROOT, 'workflows/day66-data-sync.json');
const MONITOR = path.join(ROOT, 'workflows/day66-sync-monitor.json');
const LEARNER = path.join(ROOT, 'workflows/learner-conflicts.json');
const REALTIME = path.join(ROOT, 'workflows/day66-realtime-sync.json');
// Demo-only values, like the demo systems' own secrets in demo/systems/systems.json. The Data
// Sync Trigger checks the header against its credential and saves no header with an execution.
const WEBHOOK_HEADER = 'X-Sync-Secret';
const WEBHOOK_VALUE = process.env.DEMO_WEBHOOK_SECRET ?? 'demo-webhook-value-not-a-secret';
// The monitor's GET webhook is n8n's own Webhook node, which saves the request headers with each
// execution: its value is its own, so the trigger's secret is in no saved execution.
const MONITOR_VALUE = process.env.DEMO_MONITOR_SECRET ?? 'demo-monitor-value-not-a-secret';
// The systems sign their change events with this value (HMAC-SHA256 of timestamp and body).
const EVENTS_SIGNING_VALUE =
	process.env.DEMO_EVENTS_SIGNING ?? 'demo-change-events-value-not-a-secret';
const ENCRYPTION = process.env.DEMO_N8N_ENCRYPTION_KEY ?? 'n8n-nodes-data-sync-demo-key';

interface SystemConfig {
	name: string;
	port: number;
	auth: {
		type: string;
		header?: string;
		value?: string;
		token?: string;
		username?: string;
		password?: string;
	};
}
const systems = (
	JSON.parse(readFileSync(path.join(ROOT, 'demo/systems/systems.json'), 'utf8')) as {
		systems: SystemConfig[];
	}
).systems;

const step = (text: string) => console.log(`\n== ${text}`);

const demoEnv = () => n8nEnv({ userFolder: N8N_HOME, port: PORT, encryptionKey: ENCRYPTION });

/** Stops a process group recorded in a pid file, if it still runs. */
function stopRecorded(name: string): void {
	const file = path.join(RUN, `${name}.pid`);
	if (!existsSync(file)) return;
	const pid = Number(readFileSync(file, 'utf8'));
	try {
		process.kill(-pid, 'SIGTERM');
		console.log(`stopped ${name} (pid ${pid})`);
	} catch {
		// already gone
	}
	rmSync(file, { force: true });
}

/** Starts a detached process that outlives this script, logging to .data/demo/<name>.log. */
function startDetached(
	name: string,
	command: string,
	args: string[],
	env: NodeJS.ProcessEnv = process.env,
): void {
	const log = openSync(path.join(RUN, `${name}.log`), 'a');
	const child = spawn(command, args, {
		cwd: ROOT,
		env,
		detached: true,
		stdio: ['ignore', log, log],
	});
	closeSync(log);
	writeFileSync(path.join(RUN, `${name}.pid`), String(child.pid));
	child.unref();
}

async function waitFor(
	what: string,
	probe: () => Promise<boolean>,
	timeoutMs: number,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await probe().catch(() => false)) return;
		await new Promise((r) => setTimeout(r, 300));
	}
	throw new Error(`${what} did not come up within ${timeoutMs / 1000} s (see ${RUN})`);
}

const status = async (url: string, method: 'GET' | 'POST' = 'GET') =>
	(
		await axios.request({
			url,
			method,
			data: method === 'POST' ? {} : undefined,
			validateStatus: () => true,
			timeout: 3000,
		})
	).status;

function n8nCli(args: string[]): void {
	execFileSync(process.execPath, [N8N_BIN, ...args], {
		cwd: ROOT,
		env: demoEnv(),
		stdio: ['ignore', 'ignore', 'pipe'],
	});
}

function credentials(): object[] {
	const list: object[] = demoCredentials(
		systems.map((s) => ({
			name: s.name,
			url: `http://127.0.0.1:${s.port}`,
			auth: s.auth as AuthConfig,
		})),
	);
	list.push(
		{
			id: 'dsWebhookTrigger',
			name: 'Data sync webhook',
			type: 'dataSyncWebhookApi',
			data: { authMethod: 'headerSecret', secret: WEBHOOK_VALUE, headerName: WEBHOOK_HEADER },
		},
		{
			id: 'dsChangeEvents',
			name: 'Data sync change events',
			type: 'dataSyncWebhookApi',
			data: { authMethod: 'signature', secret: EVENTS_SIGNING_VALUE, toleranceSeconds: 300 },
		},
		// The sync monitor's GET webhook is n8n's own Webhook node, with Header Auth.
		{
			id: 'dsWebhookAuth',
			name: 'Data sync webhook secret',
			type: 'httpHeaderAuth',
			data: { name: WEBHOOK_HEADER, value: MONITOR_VALUE },
		},
	);
	return list;
}

function stopAll(): void {
	stopRecorded('n8n');
	stopRecorded('systems');
}

async function main(): Promise<void> {
	mkdirSync(RUN, { recursive: true });
	stopAll();
	if (process.argv[2] === 'stop') return;
	const started = Date.now();

	step('Demo systems (SQLite stores in .data/systems), seeded with conflicting customers');
	startDetached('systems', process.execPath, [
		'--disable-warning=ExperimentalWarning',
		'demo/systems/start.ts',
		'--seed-demo',
		'--data-dir',
		path.join(DATA, 'systems'),
	]);
	for (const s of systems) {
		await waitFor(
			s.name,
			async () => (await status(`http://127.0.0.1:${s.port}/health`)) === 200,
			20000,
		);
		console.log(`${s.name} http://127.0.0.1:${s.port} (${s.auth.type})`);
	}

	step('n8n 2.41.1 with this package installed as a community package (.data/n8n)');
	const nodesDir = path.join(N8N_HOME, '.n8n/nodes');
	mkdirSync(nodesDir, { recursive: true });
	if (!existsSync(path.join(nodesDir, 'package.json'))) {
		writeFileSync(
			path.join(nodesDir, 'package.json'),
			JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }),
		);
	}
	const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', RUN], {
		cwd: ROOT,
		encoding: 'utf8',
	})
		.trim()
		.split('\n')
		.pop()!;
	execFileSync(
		'npm',
		[
			'install',
			'--legacy-peer-deps',
			'--ignore-scripts',
			'--no-audit',
			'--no-fund',
			'--loglevel=error',
			path.join(RUN, packed),
		],
		{
			cwd: nodesDir,
			stdio: 'inherit',
		},
	);
	const credentialFile = path.join(RUN, 'credentials.json');
	writeFileSync(credentialFile, JSON.stringify(credentials()));
	try {
		n8nCli(['import:credentials', `--input=${credentialFile}`]);
	} finally {
		rmSync(credentialFile, { force: true });
	}
	n8nCli(['import:workflow', `--input=${WORKFLOW}`]);
	n8nCli(['import:workflow', `--input=${MONITOR}`]);
	n8nCli(['import:workflow', `--input=${LEARNER}`]);
	n8nCli(['publish:workflow', '--id=day66DataSync01']);
	n8nCli(['import:workflow', `--input=${REALTIME}`]);
	n8nCli(['publish:workflow', '--id=day66SyncMonitor01']);
	n8nCli(['publish:workflow', '--id=day66RealtimeSync01']);
	startDetached('n8n', process.execPath, [N8N_BIN, 'start'], demoEnv());
	await waitFor('n8n', async () => (await status(`${URL}/healthz/readiness`)) === 200, 120000);
	// Published workflows are activated just after readiness: wait until the webhook answers.
	await waitFor(
		'the data-sync webhook',
		async () => (await status(`${URL}/webhook/data-sync`, 'POST')) !== 404,
		60000,
	);
	console.log(`n8n ${URL} ready`);

	step('One sync through the webhook: system_a sends its customers to system_b and system_c');
	const a = systems[0];
	const auth = a.auth.type === 'apiKey' ? { [a.auth.header ?? 'X-API-Key']: a.auth.value! } : {};
	const records = (
		await axios.get(`http://127.0.0.1:${a.port}/records?limit=1000`, { headers: auth })
	).data.data as object[];
	const payload = {
		source_system: 'system_a',
		target_systems: ['system_b', 'system_c'],
		sync_type: 'bidirectional',
		strategy: 'fieldMerge',
		sync_data: records,
	};
	const response = await axios.post(`${URL}/webhook/data-sync`, payload, {
		headers: { [WEBHOOK_HEADER]: WEBHOOK_VALUE },
		validateStatus: () => true,
		timeout: 120000,
	});
	const r = response.data as Record<string, unknown>;
	// Refused before or by the sync (400/401/403 from the trigger, 422 from Conflict Check).
	if (response.status >= 400) {
		console.log(`HTTP ${response.status}: ${String(r.error ?? JSON.stringify(r))}`);
		for (const reason of (r.reasons as string[]) ?? []) console.log(`  - ${reason}`);
		process.exitCode = 1;
		return;
	}
	console.log(
		`HTTP ${response.status}: sync ${r.sync_id} ${r.sync_type} ${r.source_system} -> ${(r.target_systems as string[])?.join(', ')}`,
	);
	console.log(
		`status ${r.validation_status}: ${r.records_processed} records checked, ${r.conflicts_detected} conflicts (${r.conflicts_resolved} resolved), ${r.records_written} writes, ${r.failed_writes} failed`,
	);
	for (const insight of (r.insights as string[]) ?? []) console.log(`  - ${insight}`);
	for (const res of ((r.resolutions as Array<Record<string, unknown>>) ?? []).slice(0, 5)) {
		console.log(
			`  resolved ${res.key} by ${res.strategy}, winner ${res.winner}, overwritten ${JSON.stringify(res.losingValues)}`,
		);
	}
	writeFileSync(path.join(RUN, 'last-report.json'), JSON.stringify(r, null, 2));

	step('Sync monitor: do the three systems hold the same records? (range checksums, no full read)');
	await waitFor(
		'the monitor webhook',
		async () => (await status(`${URL}/webhook/data-sync/monitor`)) !== 404,
		60000,
	);
	const monitor = async () => {
		const res = await axios.get(`${URL}/webhook/data-sync/monitor`, {
			headers: { [WEBHOOK_HEADER]: MONITOR_VALUE },
			validateStatus: () => true,
		});
		const m = res.data as Record<string, Record<string, unknown>> & Record<string, unknown>;
		console.log(
			`HTTP ${res.status}: ${m.validation_status}, live records ${JSON.stringify(m.counts?.recordsPerSystem)}, ` +
				`${m.counts?.differences} differences, ${m.transfer?.requests} requests, ${m.transfer?.recordsRead} records read`,
		);
		for (const d of (m.differences as unknown as Array<Record<string, unknown>>) ?? [])
			console.log(`  ${d.key}: ${d.kind} on ${(d.systems as string[]).join(', ')}`);
		return m;
	};
	const first = await monitor();
	if (first.validation_status !== 'passed') {
		// The sync above checked the keys system_a sent; a key only the other systems hold
		// (cust-013 in the demo data) needs a full reconciliation: scope "all".
		step('Full reconciliation: the same sync with scope "all" (every key on any system)');
		const full = await axios.post(
			`${URL}/webhook/data-sync`,
			{ ...payload, scope: 'all' },
			{ headers: { [WEBHOOK_HEADER]: WEBHOOK_VALUE }, validateStatus: () => true, timeout: 120000 },
		);
		const f = full.data as Record<string, unknown>;
		console.log(
			`HTTP ${full.status}: status ${f.validation_status}, ${f.records_processed} records checked, ${f.records_written} writes`,
		);
		step('Sync monitor again');
		await monitor();
	}

	await realTime();

	step(`Running (${Math.round((Date.now() - started) / 1000)} s)`);
	console.log(`editor:   ${URL}/workflow/day66DataSync01  (first visit: create the owner account)`);
	console.log(
		`learner:  ${URL}/workflow/learnerConflicts01  (Execute workflow, then open Conflict Resolve)`,
	);
	console.log(
		`realtime: ${URL}/workflow/day66RealtimeSync01  (edit a record on any system: it reaches the others)`,
	);
	console.log(
		`webhook:  curl -X POST ${URL}/webhook/data-sync -H '${WEBHOOK_HEADER}: ${WEBHOOK_VALUE}' -H 'Content-Type: application/json' -d @payload.json`,
	);
	console.log(
		`monitor:  curl ${URL}/webhook/data-sync/monitor -H '${WEBHOOK_HEADER}: ${MONITOR_VALUE}'`,
	);
	console.log(
		`report:   ${path.relative(ROOT, path.join(RUN, 'last-report.json'))}; logs in ${path.relative(ROOT, RUN)}/`,
	);
	console.log('stop:     npm run demo -- stop');
	if (!['passed', 'nothing_to_sync'].includes(String(r.validation_status))) process.exitCode = 1;
}

/** Request headers that authenticate as a demo system's own users. */
function systemHeaders(s: SystemConfig): Record<string, string> {
	const a = s.auth;
	if (a.type === 'apiKey') return { [a.header ?? 'X-API-Key']: a.value! };
	if (a.type === 'bearer') return { Authorization: `Bearer ${a.token!}` };
	if (a.type === 'basic')
		return {
			Authorization: `Basic ${Buffer.from(`${a.username!}:${a.password!}`).toString('base64')}`,
		};
	return {};
}

/**
 * Real-time: each system posts its changes, signed, to the real-time workflow's trigger (one
 * subscription each), then a person's edit on system_c reaches the others.
 */
async function realTime(): Promise<void> {
	step('Real-time: the three systems post their changes to the real-time workflow');
	const hook = `${URL}/webhook/data-sync/changes`;
	await waitFor(
		'the change-event webhook',
		async () => (await status(hook, 'POST')) !== 404,
		60000,
	);
	for (const s of systems) {
		const base = `http://127.0.0.1:${s.port}`;
		// A fresh subscription each run: an earlier run's left while n8n was down would first
		// retry its backlog (with backoff) before the edit below.
		const subs = (await axios.get(`${base}/_admin/subscriptions`)).data as {
			subscriptions?: Array<{ id: string; url: string }>;
		};
		for (const sub of subs.subscriptions ?? [])
			if (sub.url === hook) await axios.delete(`${base}/_admin/subscriptions/${sub.id}`);
		await axios.post(`${base}/_admin/subscriptions`, { url: hook, secret: EVENTS_SIGNING_VALUE });
		console.log(`${s.name} -> ${hook}`);
	}
	const [a, b, c] = systems;
	const urlOf = (s: SystemConfig, p: string) => `http://127.0.0.1:${s.port}${p}`;
	const list = (await axios.get(urlOf(c, '/records?limit=1'), { headers: systemHeaders(c) })).data
		.data as Array<Record<string, unknown>>;
	const { updated_at: _u, version, ...record } = list[0];
	const tier = `edited-on-${c.name}-${Date.now() % 100000}`;
	const key = String(record.id);
	step(`A person edits ${key} on ${c.name}: tier -> ${tier}`);
	const editedAt = Date.now();
	await axios.put(
		urlOf(c, `/records/${encodeURIComponent(key)}`),
		{ ...record, tier },
		{ headers: { ...systemHeaders(c), 'If-Match': `"${String(version)}"` } },
	);
	for (const s of [a, b]) {
		await waitFor(
			`${key} on ${s.name}`,
			async () =>
				(
					await axios.get(urlOf(s, `/records/${encodeURIComponent(key)}`), {
						headers: systemHeaders(s),
					})
				).data.tier === tier,
			20000,
		);
		console.log(`${s.name} holds tier ${tier} after ${Date.now() - editedAt} ms`);
	}
}

main().catch((error: Error) => {
	console.error(`demo failed: ${error.message}`);
	process.exitCode = 1;
});
