/**
 * Part 5: one 10k-record sync through the bundled Day 66 workflow in a real n8n 2.41.1
 * (test/e2e/n8n.ts: the packed package installed as a community package, credentials imported,
 * workflow published), against the three demo systems, driven through the production webhook
 * exactly as test/e2e/day66.test.ts does. The time split per node comes from the execution n8n
 * saved: `<userFolder>/.n8n/database.sqlite`, tables execution_entity / execution_data, the run
 * data in n8n's `flatted` format (parsed with the flatted package n8n itself ships).
 *
 * Data: tripleDataset's shares without a base (a first sync): system_a's 10,000 records are the
 * payload; system_b / system_c hold 9,804 of those keys, 10 % changed on one system, 2 % changed
 * on two (conflicts), 1 % tombstoned on one, 2 % only in system_a.
 */
import {
	existsSync,
	mkdirSync,
	readdirSync,
	readFileSync,
	readlinkSync,
	statSync,
	writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import axios from 'axios';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import { n8nInstalled, packPackage, startN8n, type RunningN8n } from '../../test/e2e/n8n.ts';
import {
	startSystems,
	type RunningSystem,
	type StartedSystems,
} from '../../test/systems/helpers.ts';
import { tripleDataset, TRIPLE_SHARES, type Rec } from '../lib/data.ts';
import { digest, log, median, now } from '../lib/measure.ts';
import { phases, recorder, replay, type Recorder, type RecordedRequest } from '../lib/recorder.ts';
import { summarize, type ProfileSummary } from '../lib/profile.ts';
import { ROOT } from '../lib/nodes.ts';
import { readAll, reseed, stats } from '../lib/sync.ts';

const NAMES = ['system_a', 'system_b', 'system_c'] as const;

/** What a system holds, without the fields each system stamps itself: a digest and counts. */
async function endState(system: RunningSystem) {
	const records = await readAll(system);
	const rows = records.map((r) => {
		const { version: _v, updated_at: _u, deleted_at: _d, ...rest } = r;
		return JSON.stringify(rest, Object.keys(rest).sort());
	});
	return { records: records.length, digest: digest(rows) };
}

async function endStates(started: StartedSystems) {
	const out: Record<string, { records: number; digest: string }> = {};
	for (const name of NAMES) out[name] = await endState(started.systems[name]);
	return out;
}

/** The requests of the sync by kind: method, path without query, per system. */
function requestKinds(recorded: RecordedRequest[]) {
	const kinds: Record<string, { requests: number; bytesUp: number; bytesDown: number }> = {};
	for (const r of recorded) {
		const k = `${r.system} ${r.method} ${r.path.split('?')[0]}`;
		const e = (kinds[k] ??= { requests: 0, bytesUp: 0, bytesDown: 0 });
		e.requests++;
		e.bytesUp += r.body.length;
		e.bytesDown += r.responseBytes;
	}
	return kinds;
}

const SECRET = 'bench-webhook-header-value';
const PACKAGE_PREFIX = 'n8n-nodes-data-sync.';

/** As test/e2e/day66.test.ts builds them: one credential per demo system, in its slot. */
function systemCredentials(systems: Record<string, RunningSystem>) {
	return demoCredentials(Object.values(systems));
}

function newest(dir: string, ext: string): number {
	let t = 0;
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, entry.name);
		if (entry.isDirectory()) t = Math.max(t, newest(p, ext));
		else if (entry.name.endsWith(ext)) t = Math.max(t, statSync(p).mtimeMs);
	}
	return t;
}

/** Whether dist/ is older than the sources it is built from (then n8n runs older code). */
function distStale(): boolean {
	const dist = path.join(ROOT, 'dist/nodes');
	if (!existsSync(dist)) return true;
	return newest(path.join(ROOT, 'nodes'), '.ts') > newest(dist, '.js');
}

interface NodeRun {
	startTime: number;
	executionTime: number;
}
interface SavedExecution {
	id: string;
	status: string;
	startedAt: number;
	stoppedAt: number;
	runData: Record<string, NodeRun[]>;
	types: Record<string, string>;
}

const sqliteTime = (v: string | number) =>
	typeof v === 'number'
		? v
		: Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v.replace(' ', 'T')}Z`);

/** The newest finished execution after `afterId`, read from n8n's own database. */
async function savedExecution(
	n8n: RunningN8n,
	afterId: number,
	timeoutMs = 120_000,
): Promise<SavedExecution> {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const flatted = require(path.join(ROOT, '.cache/n8n/node_modules/flatted')) as {
		parse(text: string): unknown;
	};
	const file = path.join(n8n.userFolder, '.n8n/database.sqlite');
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const db = new DatabaseSync(file, { readOnly: true });
		try {
			const row = db
				.prepare(
					`SELECT e.id, e.status, e.startedAt, e.stoppedAt, d.data, d.workflowData
					 FROM execution_entity e JOIN execution_data d ON d.executionId = e.id
					 WHERE CAST(e.id AS INTEGER) > ? AND e.stoppedAt IS NOT NULL
					 ORDER BY CAST(e.id AS INTEGER) DESC LIMIT 1`,
				)
				.get(afterId) as
				| {
						id: string | number;
						status: string;
						startedAt: string;
						stoppedAt: string;
						data: string;
						workflowData: string;
				  }
				| undefined;
			if (row && row.data) {
				const data = flatted.parse(row.data) as {
					resultData: { runData: Record<string, NodeRun[]> };
				};
				const wf = JSON.parse(row.workflowData) as { nodes: Array<{ name: string; type: string }> };
				return {
					id: String(row.id),
					status: row.status,
					startedAt: sqliteTime(row.startedAt),
					stoppedAt: sqliteTime(row.stoppedAt),
					runData: data.resultData.runData,
					types: Object.fromEntries(wf.nodes.map((n) => [n.name, n.type])),
				};
			}
		} catch (error) {
			if (Date.now() > deadline) throw error;
		} finally {
			db.close();
		}
		if (Date.now() > deadline) throw new Error(`no finished execution after ${afterId} in ${file}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

function lastExecutionId(n8n: RunningN8n): number {
	const db = new DatabaseSync(path.join(n8n.userFolder, '.n8n/database.sqlite'), {
		readOnly: true,
	});
	try {
		const row = db.prepare('SELECT MAX(CAST(id AS INTEGER)) AS id FROM execution_entity').get() as {
			id: number | null;
		};
		return row.id ?? 0;
	} finally {
		db.close();
	}
}

/** The pid of this server's main `n8n start` process (its cwd is the server's user folder). */
function n8nPid(userFolder: string): number | undefined {
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			if (readlinkSync(`/proc/${entry}/cwd`) !== userFolder) continue;
			const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
			if (cmd.some((a) => a.endsWith('/n8n/bin/n8n')) && cmd.includes('start'))
				return Number(entry);
		} catch {
			// gone, or not ours to read
		}
	}
	return undefined;
}

/**
 * Starts sampling the n8n server's CPU through the V8 inspector: SIGUSR1 opens the inspector (n8n
 * prints its address), the Profiler domain does the rest. Started before the sync is sent, so
 * opening the inspector and starting the profiler (a stall of several hundred ms in n8n's main
 * thread, once) is not part of the timed round trip. Best effort: undefined when the inspector
 * cannot be opened (another process holds port 9229, no /proc ...).
 */
async function startN8nProfile(
	n8n: RunningN8n,
): Promise<((file: string) => Promise<ProfileSummary>) | undefined> {
	const pid = n8nPid(n8n.userFolder);
	if (!pid) return undefined;
	const logStart = n8n.logs().length;
	process.kill(pid, 'SIGUSR1');
	let url: string | undefined;
	for (let i = 0; i < 50 && !url; i++) {
		await new Promise((r) => setTimeout(r, 100));
		url = /Debugger listening on (ws:\/\/\S+)/.exec(n8n.logs().slice(logStart))?.[1];
	}
	if (!url) return undefined;
	const ws = new WebSocket(url);
	await new Promise((resolve, reject) => {
		ws.onopen = resolve;
		ws.onerror = reject;
	});
	let id = 0;
	const pending = new Map<number, (result: unknown) => void>();
	ws.onmessage = (event) => {
		const m = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
		if (m.id !== undefined) pending.get(m.id)?.(m.result);
	};
	const call = (method: string, params: object = {}) =>
		new Promise<unknown>((resolve) => {
			pending.set(++id, resolve);
			ws.send(JSON.stringify({ id, method, params }));
		});
	await call('Profiler.enable');
	await call('Profiler.setSamplingInterval', { interval: 1000 });
	await call('Profiler.start');
	// Let the start's code logging finish before the timed sync begins.
	await new Promise((r) => setTimeout(r, 1000));
	return async (file) => {
		const { profile } = (await call('Profiler.stop')) as { profile: unknown };
		ws.close();
		mkdirSync(path.dirname(file), { recursive: true });
		writeFileSync(file, JSON.stringify(profile));
		return summarize(file);
	};
}

/** POSTs to the webhook and waits as long as n8n takes (fetch gives up after 300 s). */
async function sync(n8n: RunningN8n, body: unknown) {
	const text = JSON.stringify(body);
	const t0 = now();
	const res = await axios.post(n8n.webhookUrl('data-sync'), text, {
		headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': SECRET },
		timeout: 0,
		maxBodyLength: Infinity,
		maxContentLength: Infinity,
		responseType: 'text',
		transformResponse: (x: string) => x,
		validateStatus: () => true,
	});
	const answer = String(res.data);
	const ms = now() - t0;
	let json: Record<string, unknown> = {};
	try {
		json = JSON.parse(answer) as Record<string, unknown>;
	} catch {
		json = { text: answer.slice(0, 500) };
	}
	return { status: res.status, ms, json, requestBytes: Buffer.byteLength(text) };
}

export async function run(args: { records?: number; maxSyncMs?: number; bareRounds?: number }) {
	if (!n8nInstalled())
		throw new Error('n8n 2.41.1 is not installed in .cache/n8n: run scripts/n8n/install.sh');
	const total = args.records ?? 10_000;
	const stale = distStale();
	if (stale) log('WARNING: dist/ is older than nodes/: n8n runs the last build (npm run build)');
	const workflow = JSON.parse(
		readFileSync(path.join(ROOT, 'workflows/day66-data-sync.json'), 'utf8'),
	) as {
		id: string;
	};
	// n base keys + 2 % created in system_a = total records in the payload.
	const n = Math.round(total / (1 + TRIPLE_SHARES.created));
	const data = tripleDataset(n, 5);
	let systems: StartedSystems | undefined;
	let n8n: RunningN8n | undefined;
	const recorders: Record<string, Recorder> = {};
	try {
		const tPack = now();
		const tgz = packPackage();
		const packMs = now() - tPack;
		systems = await startSystems();
		const started = systems;
		for (const name of NAMES) await reseed(started.systems[name], data.systems[name] as Rec[]);
		// n8n reaches each system through a recorder, so a bare client can replay its requests.
		for (const name of NAMES) recorders[name] = await recorder(name, started.systems[name].url);
		n8n = await startN8n({
			packageTgz: tgz,
			workflows: [workflow],
			credentials: [
				...systemCredentials(
					Object.fromEntries(
						NAMES.map((name) => [name, { ...started.systems[name], url: recorders[name].url }]),
					),
				),
				{
					id: 'dsWebhookTrigger',
					name: 'Data sync webhook',
					type: 'dataSyncWebhookApi',
					data: { authMethod: 'headerSecret', secret: SECRET, headerName: 'X-Sync-Secret' },
				},
			],
			publish: [String(workflow.id)],
		});
		await n8n.waitForWebhook('data-sync');
		const payloadRecords = await readAll(started.systems.system_a);

		// Warm-up: 20 keys every system already agrees on (nothing to write, the base unchanged).
		const same = (r: Rec) => JSON.stringify({ ...r, version: 0, updated_at: 0 });
		const inB = new Set((await readAll(started.systems.system_b)).map(same));
		const inC = new Set((await readAll(started.systems.system_c)).map(same));
		const warm = payloadRecords.filter((r) => inB.has(same(r)) && inC.has(same(r))).slice(0, 20);
		const warmRes = await sync(n8n, {
			source_system: 'system_a',
			target_systems: ['system_b', 'system_c'],
			sync_data: warm,
		});
		log(
			`e2e warm-up: ${warmRes.status} ${String(warmRes.json.validation_status)} in ${warmRes.ms.toFixed(0)} ms`,
		);
		await savedExecution(n8n, 0);
		const before = lastExecutionId(n8n);
		for (const name of NAMES) recorders[name].requests.length = 0;
		const statsBefore = await Promise.all(NAMES.map((name) => stats(started.systems[name])));

		const body = {
			source_system: 'system_a',
			target_systems: ['system_b', 'system_c'],
			sync_type: 'bidirectional',
			sync_data: payloadRecords,
		};
		// The sync, sampled by the V8 profiler inside n8n while it runs (started first), and given
		// at most maxSyncMs: past it the server is stopped and the profile says where the time went.
		const maxSyncMs = args.maxSyncMs ?? 300_000;
		const stopProfile = await startN8nProfile(n8n).catch(() => undefined);
		const request = sync(n8n, body);
		let timer: NodeJS.Timeout | undefined;
		const capped = new Promise<'timeout'>(
			(resolve) => (timer = setTimeout(() => resolve('timeout'), maxSyncMs)),
		);
		const done = Promise.race([request, capped]);
		const profileFile = path.join(
			process.env.BENCH_PROFILE_DIR || path.join(ROOT, 'bench/profiles'),
			`n8n-sync-${total}.cpuprofile`,
		);
		const first = await done;
		const n8nProfile = await stopProfile?.(profileFile).catch(() => undefined);
		clearTimeout(timer);
		if (first === 'timeout') {
			log(`e2e sync: no answer after ${maxSyncMs / 1000} s: stopping n8n`);
			await n8n.stop();
			await request.catch(() => undefined);
			return {
				records: payloadRecords.length,
				requestBytes: Buffer.byteLength(JSON.stringify(body)),
				timedOut: true,
				maxSyncMs,
				n8nProfile,
				setupMs: { pack: packMs, ...n8n.timings },
				distStale: stale,
			};
		}
		const res = first;
		log(
			`e2e sync: HTTP ${res.status} ${String(res.json.validation_status)} in ${res.ms.toFixed(0)} ms`,
		);
		const exec = await savedExecution(n8n, before);
		const ioFloor = await bareClient(started, data, recorders, statsBefore, args.bareRounds ?? 3);
		const executionMs = exec.stoppedAt - exec.startedAt;
		const perNode = Object.entries(exec.runData)
			.map(([name, runs]) => ({
				node: name,
				type: exec.types[name] ?? '?',
				ours: (exec.types[name] ?? '').startsWith(PACKAGE_PREFIX),
				ms: runs.reduce((s, r) => s + (r.executionTime ?? 0), 0),
				start: Math.min(...runs.map((r) => r.startTime)) - exec.startedAt,
			}))
			.sort((a, b) => a.start - b.start);
		const oursMs = perNode.filter((p) => p.ours).reduce((s, p) => s + p.ms, 0);
		const nodesMs = perNode.reduce((s, p) => s + p.ms, 0);
		const r = res.json;
		return {
			records: payloadRecords.length,
			requestBytes: res.requestBytes,
			httpStatus: res.status,
			roundTripMs: res.ms,
			executionId: exec.id,
			executionStatus: exec.status,
			executionMs,
			perNode,
			packageNodesMs: oursMs,
			otherNodesMs: nodesMs - oursMs,
			betweenNodesMs: executionMs - nodesMs,
			packageShareOfExecution: oursMs / executionMs,
			report: {
				validation_status: r.validation_status,
				reasons: r.reasons,
				counts: r.counts,
				missing: Array.isArray(r.missing) ? r.missing.slice(0, 5) : r.missing,
				extra: Array.isArray(r.extra) ? r.extra.slice(0, 5) : r.extra,
				differing: Array.isArray(r.differing) ? r.differing.slice(0, 5) : r.differing,
				base: r.base,
				records_processed: r.records_processed,
				conflicts_detected: r.conflicts_detected,
				conflicts_resolved: r.conflicts_resolved,
				records_written: r.records_written,
				failed_writes: r.failed_writes,
				transport: r.transport,
			},
			n8nProfile,
			ioFloor,
			setupMs: { pack: packMs, ...n8n.timings },
			distStale: stale,
		};
	} finally {
		await n8n?.stop();
		for (const r of Object.values(recorders)) await r.close();
		await systems?.stop();
	}
}

/**
 * The I/O floor: after n8n's sync, the same requests (recorded on their way to the systems)
 * sent by a bare fetch client to the systems reseeded as before the sync. Rounds alternate
 * direct and through the recorders (the path n8n took), so the recorder's hop shows; each
 * round must leave the systems as n8n left them.
 */
async function bareClient(
	started: StartedSystems,
	data: ReturnType<typeof tripleDataset>,
	recorders: Record<string, Recorder>,
	statsBefore: Array<{ requests: number }>,
	rounds: number,
) {
	const recorded = NAMES.flatMap((name) => recorders[name].requests.slice());
	const statsAfter = await Promise.all(NAMES.map((name) => stats(started.systems[name])));
	// /_admin/stats calls are not counted among the systems' requests.
	const systemRequests = NAMES.map((_, i) => statsAfter[i].requests - statsBefore[i].requests);
	const afterN8n = await endStates(started);
	const plan = phases(recorded);
	const auth = Object.fromEntries(NAMES.map((n) => [n, started.systems[n].headers]));
	const direct = Object.fromEntries(NAMES.map((n) => [n, started.systems[n].url]));
	const proxied = Object.fromEntries(NAMES.map((n) => [n, recorders[n].url]));
	const runs: Array<{
		round: number;
		via: 'direct' | 'recorder';
		ms: number;
		cpuMs: number;
		requests: number;
		statusMismatches: number;
		sameEndState: boolean;
	}> = [];
	// The end-state check can fail: the reseeded systems must differ from what n8n left.
	for (const name of NAMES) await reseed(started.systems[name], data.systems[name] as Rec[]);
	const seeded = await endStates(started);
	const seededDiffers = NAMES.some((n) => seeded[n].digest !== afterN8n[n].digest);
	for (let round = 1; round <= rounds; round++) {
		const order: Array<'direct' | 'recorder'> =
			round % 2 ? ['direct', 'recorder'] : ['recorder', 'direct'];
		for (const via of order) {
			for (const name of NAMES) await reseed(started.systems[name], data.systems[name] as Rec[]);
			for (const name of NAMES) recorders[name].requests.length = 0;
			const r = await replay(plan, via === 'direct' ? direct : proxied, auth);
			const state = await endStates(started);
			const sameEndState = NAMES.every(
				(n) => state[n].digest === afterN8n[n].digest && state[n].records === afterN8n[n].records,
			);
			runs.push({ round, via, ...r, sameEndState });
			log(
				`e2e bare client round ${round} ${via}: ${r.ms.toFixed(0)} ms, ${r.requests} requests, ` +
					`${r.statusMismatches} status mismatches, end state ${sameEndState ? 'as n8n left it' : 'DIFFERENT'}`,
			);
		}
	}
	const of = (via: string) => runs.filter((r) => r.via === via);
	return {
		requests: recorded.length,
		requestsCountedBySystems: systemRequests.reduce((a, b) => a + b, 0),
		requestsPerSystem: Object.fromEntries(
			NAMES.map((n, i) => [
				n,
				{
					recorded: recorders[n] ? recorded.filter((r) => r.system === n).length : 0,
					counted: systemRequests[i],
				},
			]),
		),
		kinds: requestKinds(recorded),
		phases: plan.map((p) => ({
			requests: p.requests.length,
			concurrency: p.concurrency,
			kinds: [...new Set(p.requests.map((r) => `${r.system} ${r.method} ${r.path.split('?')[0]}`))],
		})),
		recordedSpanMs: recorded.length
			? Math.max(...recorded.map((r) => r.end)) - Math.min(...recorded.map((r) => r.start))
			: 0,
		statusesNotOk: recorded.filter((r) => r.status >= 300).length,
		endStateAfterN8n: afterN8n,
		runs,
		directMedianMs: median(of('direct').map((r) => r.ms)),
		directMedianCpuMs: median(of('direct').map((r) => r.cpuMs)),
		recorderMedianMs: median(of('recorder').map((r) => r.ms)),
		recorderMedianCpuMs: median(of('recorder').map((r) => r.cpuMs)),
		seededDiffers,
		allSameEndState: runs.every((r) => r.sameEndState),
		allSameStatuses: runs.every((r) => r.statusMismatches === 0),
	};
}
