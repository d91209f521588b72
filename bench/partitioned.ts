/**
 * The partitioned sync at scale (npm run bench:partitioned): N keys x the three demo systems
 * with 1% of the keys changed (some on one system, some conflicting on two, some only on one
 * system), reconciled by workflows/day66-partitioned-sync.json in n8n queue mode, once with 1
 * worker and once with 2 workers, each against its own, identically seeded set of systems.
 *
 *   node -e "require('./bench/lib/register.js'); require('./bench/partitioned.ts').main(process.argv.slice(1))" -- --keys 20000
 *   bash scripts/run.sh bench-partitioned --keys 20000     # build, n8n install, then the above
 *
 * Options: --keys N (default 1,000,000; env BENCH_KEYS), --max-keys N (the Settings node's
 * maxKeysPerRange, default 10,000 as in the bundled workflow), --concurrency N (n8n worker
 * --concurrency, default 2; not 1: the parent execution holds a slot of one worker while it
 * waits for the partitions, so 1 worker at concurrency 1 would wait for itself),
 * --out file (default bench/results-partitioned.json).
 *
 * Figures per run: wall time of the POST to data-sync/partitioned, keys/s (the report's keys /
 * wall), ranges, partition executions per worker, peak RSS per worker (the n8n worker process
 * plus its task runner, /proc sampled every 250 ms, and the kernel's VmHWM of each), bytes on
 * the wire to and from the systems (a byte-counting TCP proxy in front of each system: the
 * credentials point at it), CPU seconds of the workers, main, the demo systems, Redis +
 * PostgreSQL and this process (the proxies) during the sync, the rows of the run's base (a
 * PostgreSQL database of its own per run); then whether both sets end in the
 * same state (count and content hash of every system, POST /records/checksums). Figures only:
 * nothing here asserts a time.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { customer, startSystems, type StartedSystems } from '../test/systems/helpers';
import { freePortPair, packPackage } from '../test/e2e/n8n.ts';
import {
	createBaseStore,
	credentials,
	PARENT_ID,
	parentFor,
	partitionUrl,
	partitionWorkflow,
	runPartitioned,
	SYSTEMS,
	type Json,
} from '../test/e2e/partitioned.ts';
import { startN8nQueue } from '../test/e2e/queue.ts';
import { countingProxy, type CountingProxy } from './lib/proxy.ts';

interface Options {
	keys: number;
	maxKeys: number;
	concurrency: number;
	/**
	 * --max-old-space-size (MB) of every n8n process (--heap; default 700, 0 = Node's default).
	 * Node's default lets a worker's heap grow to about 1.3 GB of RSS before it collects, though
	 * a partition's live data is far smaller: at 100k keys the cap cut peak RSS from 0.96-1.1 GB
	 * to 0.86-0.92 GB at the same speed.
	 */
	heapMb: number;
	out: string;
}

function parseArgs(argv: string[]): Options {
	const o: Options = {
		keys: Number(process.env.BENCH_KEYS ?? 1_000_000),
		maxKeys: 10_000,
		concurrency: 2,
		heapMb: 700,
		out: path.join(__dirname, 'results-partitioned.json'),
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
		if (a === '--') continue;
		if (a.startsWith('--keys')) o.keys = Number(value());
		else if (a.startsWith('--max-keys')) o.maxKeys = Number(value());
		else if (a.startsWith('--concurrency')) o.concurrency = Number(value());
		else if (a.startsWith('--heap')) o.heapMb = Number(value());
		else if (a.startsWith('--out')) o.out = path.resolve(value());
		else if (a === '--help' || a === '-h') {
			console.log(
				'usage: bench-partitioned [--keys N] [--max-keys N] [--concurrency N] [--heap MB] [--out file]',
			);
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	if (!Number.isInteger(o.keys) || o.keys < 100) throw new Error('--keys: an integer >= 100');
	return o;
}

const log = (...parts: unknown[]) =>
	console.log(`[bench:partitioned ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ---------------------------------------------------------------------------------------------
// The data: deterministic, generated chunk by chunk (never all of it in memory)
// ---------------------------------------------------------------------------------------------

const at = (minutes: number) => new Date(Date.UTC(2026, 10, 1, 9, minutes)).toISOString();
const keyOf = (i: number) => `k-${String(i).padStart(8, '0')}`;
const TIERS = ['silver', 'gold', 'bronze', 'platinum'];

/**
 * What key i looks like on each system (undefined: absent). 1 key in 100 is changed:
 * 100 % of those by a rotating kind (hash of i): 50 % changed on one system only (later
 * updated_at there), 30 % conflicting (changed on two systems, differently, at different times),
 * 20 % present on one system only.
 */
function recordsOf(i: number): Record<string, Json | undefined> {
	const id = keyOf(i);
	const base = customer(id, { tier: TIERS[i % 2], balance: i % 1000, updated_at: at(10) });
	const out: Record<string, Json | undefined> = { system_a: base, system_b: base, system_c: base };
	if (i % 100 !== 37) return out;
	const c = Math.floor(i / 100); // the changed key's ordinal
	const kind = c % 10;
	const one = SYSTEMS[c % 3];
	const other = SYSTEMS[(c + 1) % 3];
	if (kind < 5) {
		out[one] = { ...base, tier: 'platinum', balance: base.balance + 1, updated_at: at(20) };
	} else if (kind < 8) {
		out[one] = { ...base, tier: 'gold', email: `new-${id}@example.com`, updated_at: at(20) };
		out[other] = { ...base, tier: 'bronze', balance: base.balance + 7, updated_at: at(25) };
	} else {
		for (const s of SYSTEMS) if (s !== one) out[s] = undefined;
	}
	return out;
}

const CHANGE_KINDS = (keys: number) => {
	const counts = { oneSystem: 0, conflicting: 0, onlyOnOne: 0 };
	for (let i = 37; i < keys; i += 100) {
		const kind = Math.floor(i / 100) % 10;
		if (kind < 5) counts.oneSystem++;
		else if (kind < 8) counts.conflicting++;
		else counts.onlyOnOne++;
	}
	return counts;
};

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
	const res = await fetch(url, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', ...headers },
		body: JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text.slice(0, 300)}`);
	return JSON.parse(text) as Json;
}

/** Seeds every set alike, 25k keys per /_admin/seed call, the systems in parallel. */
async function seed(sets: StartedSystems[], keys: number): Promise<void> {
	const CHUNK = 25_000;
	for (let lo = 0; lo < keys; lo += CHUNK) {
		const per: Record<string, Json[]> = { system_a: [], system_b: [], system_c: [] };
		for (let i = lo; i < Math.min(keys, lo + CHUNK); i++) {
			const recs = recordsOf(i);
			for (const s of SYSTEMS) if (recs[s]) per[s].push(recs[s]);
		}
		const bodies = Object.fromEntries(SYSTEMS.map((s) => [s, JSON.stringify({ records: per[s] })]));
		await Promise.all(
			sets.flatMap((set) =>
				SYSTEMS.map(async (s) => {
					const res = await fetch(`${set.systems[s].url}/_admin/seed`, {
						method: 'POST',
						headers: { 'Content-Type': 'application/json' },
						body: bodies[s],
					});
					if (!res.ok) throw new Error(`seeding ${s}: ${res.status} ${await res.text()}`);
					await res.arrayBuffer();
				}),
			),
		);
		if ((lo / CHUNK) % 8 === 7) log(`seeded ${Math.min(keys, lo + CHUNK)} of ${keys} keys`);
	}
}

/** Count and content hash of every system's live records. */
async function checksums(set: StartedSystems): Promise<Record<string, string>> {
	const out: Record<string, string> = {};
	for (const s of SYSTEMS) {
		const body = await post(
			`${set.systems[s].url}/records/checksums`,
			{ ranges: [{ from: null, to: null }] },
			set.systems[s].headers,
		);
		const r = (body.ranges as Array<{ count: number; hash: string }>)[0];
		out[s] = `${r.count}:${r.hash}`;
	}
	return out;
}

// ---------------------------------------------------------------------------------------------
// Processes: /proc
// ---------------------------------------------------------------------------------------------

const TICK = 100; // USER_HZ

function statOf(pid: number): { ppid: number; cpuS: number; comm: string } | undefined {
	try {
		const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const close = text.lastIndexOf(')');
		const comm = text.slice(text.indexOf('(') + 1, close);
		const f = text.slice(close + 2).split(' ');
		// f[0] = state (field 3); utime, stime = fields 14, 15
		return { ppid: Number(f[1]), cpuS: (Number(f[11]) + Number(f[12])) / TICK, comm };
	} catch {
		return undefined;
	}
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
	try {
		const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
			readFileSync(`/proc/${pid}/status`, 'utf8'),
		);
		return m ? Number(m[1]) : 0;
	} catch {
		return 0;
	}
}

function allPids(): number[] {
	return readdirSync('/proc')
		.filter((d) => /^\d+$/.test(d))
		.map(Number);
}

/** pid and all its descendants. */
function tree(root: number, parents: Map<number, number>): number[] {
	const out = [root];
	for (let i = 0; i < out.length; i++) {
		for (const [pid, ppid] of parents) if (ppid === out[i]) out.push(pid);
	}
	return out;
}

function snapshotParents(): Map<number, number> {
	const m = new Map<number, number>();
	for (const pid of allPids()) {
		const s = statOf(pid);
		if (s) m.set(pid, s.ppid);
	}
	return m;
}

/** The demo-system processes among this process's children (forked system-process.ts). */
function systemPids(): number[] {
	return allPids().filter((pid) => {
		if (statOf(pid)?.ppid !== process.pid) return false;
		try {
			return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('system-process');
		} catch {
			return false;
		}
	});
}

/** Redis and PostgreSQL server processes (CPU only; they serve n8n's queue and database). */
function servicePids(): number[] {
	return allPids().filter((pid) => {
		const comm = statOf(pid)?.comm ?? '';
		return comm.startsWith('redis-server') || comm.startsWith('postgres');
	});
}

const cpuOf = (pids: number[]) => pids.reduce((n, p) => n + (statOf(p)?.cpuS ?? 0), 0);

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

interface RunResult {
	workers: number;
	status: number;
	wallS: number;
	keys: number;
	keysPerS: number;
	ranges: number;
	conflicts: number;
	written: number;
	/** Rows in the run's base (data_sync_base) afterwards, and what the report says it wrote. */
	baseRows: number;
	baseRowsReported: number;
	reportStatus: unknown;
	/** The report's failed ranges (the first 3, with their errors) and how many there were. */
	failedRanges: { count: number; first: unknown[] };
	partitionsPerWorker: Record<string, number>;
	peakRssMbPerWorker: Record<string, number>;
	hwmMbPerWorker: Record<string, number>;
	bytes: { up: number; down: number; connections: number };
	cpuS: Record<string, number>;
	loadAvg: number[];
}

async function runOnce(
	set: StartedSystems,
	sysPids: number[],
	tgz: string,
	workers: number,
	o: Options,
): Promise<RunResult> {
	const proxies: Record<string, CountingProxy> = {};
	for (const s of SYSTEMS) proxies[s] = await countingProxy(set.systems[s].url);
	const proxied = {
		...set,
		systems: Object.fromEntries(
			SYSTEMS.map((s) => [s, { ...set.systems[s], url: proxies[s].url }]),
		),
	};
	const partition = partitionWorkflow();
	const port = await freePortPair();
	log(`run with ${workers} worker(s): starting n8n in queue mode`);
	const base = await createBaseStore();
	const queue = await startN8nQueue({
		port,
		packageTgz: tgz,
		workers,
		concurrency: o.concurrency,
		env: o.heapMb ? { NODE_OPTIONS: `--max-old-space-size=${o.heapMb}` } : {},
		credentials: credentials(proxied, base),
		workflows: [partition, parentFor(partitionUrl(port), o.maxKeys)],
		publish: [partition.id, PARENT_ID],
		readyTimeoutMs: 180_000,
	}).catch(async (error: unknown) => {
		await base.drop();
		throw error;
	});
	try {
		await queue.waitForWebhook('data-sync/partition');
		await queue.waitForWebhook('data-sync/partitioned');
		const pids = queue.pids();
		const workerNames = queue.processes.filter((n) => n !== 'main');
		const services = servicePids();
		const peakKb: Record<string, number> = Object.fromEntries(workerNames.map((w) => [w, 0]));
		const hwmKb: Record<string, number> = Object.fromEntries(workerNames.map((w) => [w, 0]));
		const trees = () => {
			const parents = snapshotParents();
			return Object.fromEntries(
				queue.processes.map((n) => [n, pids[n] ? tree(pids[n]!, parents) : []]),
			) as Record<string, number[]>;
		};
		const sample = () => {
			const t = trees();
			for (const w of workerNames) {
				peakKb[w] = Math.max(
					peakKb[w],
					t[w].reduce((n, p) => n + statusKb(p, 'VmRSS'), 0),
				);
				hwmKb[w] = Math.max(
					hwmKb[w],
					t[w].reduce((n, p) => n + statusKb(p, 'VmHWM'), 0),
				);
			}
			return t;
		};
		const cpu = (t: Record<string, number[]>) => ({
			...Object.fromEntries(queue.processes.map((n) => [n, cpuOf(t[n])])),
			systems: cpuOf(sysPids),
			redisPostgres: cpuOf(services),
			benchProxies: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
		});
		let t0Trees = sample();
		const cpu0 = cpu(t0Trees);
		for (const p of Object.values(proxies)) p.reset();
		const timer = setInterval(() => {
			t0Trees = sample();
		}, 250);
		const started = performance.now();
		const res = await runPartitioned(queue.webhookUrl('data-sync/partitioned'));
		const wallS = (performance.now() - started) / 1000;
		clearInterval(timer);
		// Processes are alive, so their own utime+stime covers the run (task runners included).
		const cpu1 = cpu(sample());
		const bytes = { up: 0, down: 0, connections: 0 };
		for (const p of Object.values(proxies)) {
			const c = p.counts();
			bytes.up += c.up;
			bytes.down += c.down;
			bytes.connections += c.connections;
		}
		const partitionRuns = new Set(
			(
				await queue.query<{ id: string }>(
					`SELECT id::text AS id FROM execution_entity WHERE "workflowId" = '${partition.id}'`,
				)
			).map((row) => row.id),
		);
		const byWorker = await queue.executionsByWorker();
		const body = res.body;
		const keys = Number(body.keys ?? 0);
		const [{ rows }] = await base.query<{ rows: number }>(
			'SELECT count(*)::int AS rows FROM data_sync_base',
		);
		const mb = (kb: number) => Math.round(kb / 1024);
		return {
			workers,
			status: res.status,
			wallS,
			keys,
			keysPerS: keys / wallS,
			ranges: Number(body.ranges ?? (body.partitions as unknown[] | undefined)?.length ?? 0),
			conflicts: Number(body.conflicts ?? 0),
			written: Number(body.written ?? 0),
			baseRows: rows,
			baseRowsReported: Number(body.base_rows ?? 0),
			reportStatus: body.status,
			failedRanges: {
				count: ((body.failed_ranges as unknown[] | undefined) ?? []).length,
				first: ((body.failed_ranges as unknown[] | undefined) ?? []).slice(0, 3),
			},
			partitionsPerWorker: Object.fromEntries(
				Object.entries(byWorker).map(([w, ids]) => [
					w,
					ids.filter((id) => partitionRuns.has(id)).length,
				]),
			),
			peakRssMbPerWorker: Object.fromEntries(workerNames.map((w) => [w, mb(peakKb[w])])),
			hwmMbPerWorker: Object.fromEntries(workerNames.map((w) => [w, mb(hwmKb[w])])),
			bytes,
			cpuS: Object.fromEntries(
				Object.entries(cpu1).map(([k, v]) => [
					k,
					Math.round((v - (cpu0 as Record<string, number>)[k]) * 10) / 10,
				]),
			),
			loadAvg: os.loadavg(),
		};
	} finally {
		await queue.stop();
		await base.drop();
		for (const p of Object.values(proxies)) await p.close();
	}
}

const fmtMiB = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

export async function main(argv: string[]): Promise<void> {
	const o = parseArgs(argv);
	const kinds = CHANGE_KINDS(o.keys);
	log(
		`${o.keys} keys x 3 systems, changed: ${JSON.stringify(kinds)}; maxKeysPerRange ${o.maxKeys}, worker concurrency ${o.concurrency}, heap ${o.heapMb ? `${o.heapMb} MB` : 'Node default'}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2))}`,
	);
	const before = new Set(systemPids());
	const setA = await startSystems();
	const pidsA = systemPids().filter((p) => !before.has(p));
	const setB = await startSystems();
	const pidsB = systemPids().filter((p) => !before.has(p) && !pidsA.includes(p));
	try {
		const t0 = performance.now();
		await seed([setA, setB], o.keys);
		const seedS = (performance.now() - t0) / 1000;
		log(`seeded both sets in ${seedS.toFixed(1)} s`);
		const tgz = packPackage();
		const one = await runOnce(setA, pidsA, tgz, 1, o);
		log(`1 worker: ${JSON.stringify(one)}`);
		const two = await runOnce(setB, pidsB, tgz, 2, o);
		log(`2 workers: ${JSON.stringify(two)}`);
		const [endA, endB] = [await checksums(setA), await checksums(setB)];
		const sameState = SYSTEMS.every((s) => endA[s] === endB[s]);
		const agree = (e: Record<string, string>) => SYSTEMS.every((s) => e[s] === e.system_a);

		const row = (label: string, f: (r: RunResult) => string) =>
			`| ${label.padEnd(34)} | ${f(one).padEnd(34)} | ${f(two).padEnd(34)} |`;
		const cpuLine = (r: RunResult) => {
			const workersCpu = Object.entries(r.cpuS)
				.filter(([k]) => k.startsWith('worker'))
				.reduce((n, [, v]) => n + v, 0);
			return `n8n workers ${workersCpu.toFixed(1)}, main ${r.cpuS.main}, systems ${r.cpuS.systems}, redis+pg ${r.cpuS.redisPostgres}, proxies ${r.cpuS.benchProxies}`;
		};
		const lines = [
			'',
			`Partitioned sync, ${o.keys.toLocaleString('en')} keys x 3 demo systems, ${kinds.oneSystem + kinds.conflicting + kinds.onlyOnOne} keys changed (${kinds.oneSystem} on one system, ${kinds.conflicting} conflicting, ${kinds.onlyOnOne} on one system only); seeding ${seedS.toFixed(0)} s`,
			'',
			`| ${'measurement'.padEnd(34)} | ${'1 worker'.padEnd(34)} | ${'2 workers'.padEnd(34)} |`,
			`| ${'-'.repeat(34)} | ${'-'.repeat(34)} | ${'-'.repeat(34)} |`,
			row('HTTP status, report status', (r) => `${r.status}, ${String(r.reportStatus)}`),
			row('wall time', (r) => `${r.wallS.toFixed(1)} s`),
			row('keys (report)', (r) => r.keys.toLocaleString('en')),
			row('keys/s', (r) => Math.round(r.keysPerS).toLocaleString('en')),
			row('ranges', (r) => String(r.ranges)),
			row('conflicts, written', (r) => `${r.conflicts}, ${r.written}`),
			row('base rows (table, report)', (r) => `${r.baseRows}, ${r.baseRowsReported}`),
			row('partitions per worker', (r) => JSON.stringify(r.partitionsPerWorker)),
			row('peak RSS per worker (+ runner)', (r) => JSON.stringify(r.peakRssMbPerWorker) + ' MB'),
			row('VmHWM per worker (+ runner)', (r) => JSON.stringify(r.hwmMbPerWorker) + ' MB'),
			row('bytes from the systems', (r) => fmtMiB(r.bytes.down)),
			row('bytes to the systems', (r) => fmtMiB(r.bytes.up)),
			row('connections', (r) => String(r.bytes.connections)),
			row('CPU s during the sync', cpuLine),
			row('load average after', (r) => r.loadAvg.map((l) => l.toFixed(2)).join(' ')),
			'',
			`speed-up 2 workers / 1 worker: ${(two.keysPerS / one.keysPerS).toFixed(2)}x (goal >= 1.5x where the systems are not the bottleneck)`,
			`end state: both sets ${sameState ? 'IDENTICAL' : 'DIFFER'} (count:hash per system ${JSON.stringify(endA)}${sameState ? '' : ` vs ${JSON.stringify(endB)}`}); systems agree within set 1: ${agree(endA)}, set 2: ${agree(endB)}`,
		];
		console.log(lines.join('\n'));
		const result = {
			date: new Date().toISOString(),
			keys: o.keys,
			maxKeysPerRange: o.maxKeys,
			concurrency: o.concurrency,
			heapMb: o.heapMb,
			changed: kinds,
			seedS,
			runs: [one, two],
			speedup: two.keysPerS / one.keysPerS,
			sameState,
			agree: [agree(endA), agree(endB)],
			checksums: [endA, endB],
		};
		console.log(JSON.stringify(result));
		writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
		log(`wrote ${path.relative(process.cwd(), o.out)}`);
		if (!sameState) process.exitCode = 1;
	} finally {
		await Promise.all([setA.stop(), setB.stop()]);
	}
}
