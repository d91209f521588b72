/**
 * The benchmark suite: one command prints every figure with its ratio and writes
 * bench/results.json. Each measurement runs in a fresh child process (bench/worker.js), so each
 * peak RSS is that measurement's own; the parent only orchestrates and prints.
 *
 *   node bench/run.js                         # everything (about 6-8 min on 2 cores)
 *   node bench/run.js --only compare,scale    # some parts: compare, scale, writes, validate, e2e
 *   node bench/run.js --quick                 # smaller sizes, fewer rounds (a smoke run)
 *   node bench/run.js --profile               # also CPU-profile the key measurements (extra runs)
 *
 * The machine is shared and noisy: every comparison is measured side by side in the same run,
 * interleaved where it repeats, and CPU time is reported next to wall time.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { PAIR_SHARES, TRIPLE_SHARES } from './lib/data.ts';
import { median } from './lib/measure.ts';
import { printSummary, type ProfileSummary } from './lib/profile.ts';

const BENCH = __dirname;
const PARTS = ['compare', 'scale', 'writes', 'validate', 'e2e'] as const;
type Part = (typeof PARTS)[number];

interface Options {
	only: Part[];
	quick: boolean;
	profile: boolean;
	out: string;
	/** Past this, the real-n8n sync is abandoned and n8n's CPU profile reported instead. */
	e2eTimeoutS: number;
}

function parseArgs(argv: string[]): Options {
	const o: Options = {
		only: [...PARTS],
		quick: false,
		profile: false,
		out: path.join(BENCH, 'results.json'),
		e2eTimeoutS: 180,
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => (a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
		if (a.startsWith('--only')) {
			o.only = value()
				.split(',')
				.map((s) => s.trim())
				.filter(Boolean) as Part[];
			const bad = o.only.filter((p) => !PARTS.includes(p));
			if (bad.length)
				throw new Error(`unknown part ${bad.join(', ')} (parts: ${PARTS.join(', ')})`);
		} else if (a === '--quick') o.quick = true;
		else if (a === '--profile') o.profile = true;
		else if (a.startsWith('--out')) o.out = path.resolve(value());
		else if (a.startsWith('--e2e-timeout')) o.e2eTimeoutS = Number(value());
		else if (a === '--help' || a === '-h') {
			console.log(
				`usage: node bench/run.js [--only ${PARTS.join(',')}] [--quick] [--profile] [--out file] [--e2e-timeout seconds]`,
			);
			process.exit(0);
		} else throw new Error(`unknown argument ${a}`);
	}
	return o;
}

// ---------------------------------------------------------------------------------------------
// Children
// ---------------------------------------------------------------------------------------------

const userFolder = mkdtempSync(path.join(os.tmpdir(), 'n8n-data-sync-bench-'));
let profileDir: string | undefined;

interface ChildResult<T> {
	result: T;
	maxRssMb: number;
}

function child<T>(
	task: string,
	args: object,
	o: { heapMb?: number; profile?: boolean; timeoutMs?: number } = {},
) {
	return new Promise<ChildResult<T>>((resolve, reject) => {
		const env: NodeJS.ProcessEnv = { ...process.env, N8N_USER_FOLDER: userFolder };
		if (o.profile && profileDir) env.BENCH_PROFILE_DIR = profileDir;
		else delete env.BENCH_PROFILE_DIR;
		const proc = fork(path.join(BENCH, 'worker.js'), [JSON.stringify({ task, args })], {
			execArgv: [
				'--expose-gc',
				`--max-old-space-size=${o.heapMb ?? 4096}`,
				'--disable-warning=ExperimentalWarning',
			],
			env,
			stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		});
		let message: { ok: boolean; result?: T; error?: string; maxRssMb?: number } | undefined;
		const timer = setTimeout(() => {
			proc.kill('SIGKILL');
			reject(
				new Error(
					`${task} ${JSON.stringify(args)} did not finish in ${(o.timeoutMs ?? 900_000) / 1000} s`,
				),
			);
		}, o.timeoutMs ?? 900_000);
		proc.on('message', (m) => (message = m as typeof message));
		proc.on('exit', (code, signal) => {
			clearTimeout(timer);
			if (message?.ok) resolve({ result: message.result as T, maxRssMb: message.maxRssMb ?? NaN });
			else
				reject(
					new Error(
						`${task} ${JSON.stringify(args)} failed (${signal ?? code}): ${message?.error ?? 'no answer'}`,
					),
				);
		});
	});
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const lines: string[] = [];
const out = (line = '') => {
	lines.push(line);
	console.log(line);
};
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const ratio = (x: number) =>
	Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}x` : '-';
const kb = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

function table(head: string[], rows: Array<Array<string | number>>): void {
	const cells = [head, ...rows.map((r) => r.map(String))];
	const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
	const fmt = (r: string[]) =>
		r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
	out(`  ${fmt(head)}`);
	out(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
	for (const r of cells.slice(1)) out(`  ${fmt(r)}`);
}

interface Goal {
	part: Part;
	goal: string;
	/** The measured figures behind the ratio. */
	measured: string;
	/** The figure against the goal's threshold, e.g. "1.31x (limit 1.5x)". */
	ratio: string;
	met: boolean;
	/** Measured at --quick sizes, not at the goal's: the verdict is only indicative. */
	quick?: boolean;
	/** A goal from before issue 14 (kept so the figure stays visible). */
	earlier?: boolean;
}
const goals: Goal[] = [];
const profiles: ProfileSummary[] = [];
const results: Record<string, unknown> = {};

// ---------------------------------------------------------------------------------------------
// Parts
// ---------------------------------------------------------------------------------------------

interface CompareRun {
	nodeMs: number;
	wallMs: number;
	cpuMs: number;
	peakRssMb: number;
	peakOverBeforeMb: number;
	groups: Record<string, { count: number; digest: string; asGenerated: boolean }>;
	profile?: ProfileSummary;
	bareJoin?: {
		joins: Array<{ ms: number; cpuMs: number }>;
		checks: Array<{ nodeMs: number; cpuMs: number }>;
		identical: boolean;
	};
}

async function compare(o: Options) {
	const sizes = o.quick ? [1000, 5000] : [1000, 5000, 20000];
	const ccRuns = o.quick ? 1 : 3;
	const joinRounds = o.quick ? 2 : 3;
	out(
		`\n## 1. ConflictCheck vs n8n Compare Datasets (in n8n's engine, in-process; ${sizes.join(' / ')} keys per side)`,
	);
	out(
		`   data: ${pct(PAIR_SHARES.same)} same, ${pct(PAIR_SHARES.changed)} changed (= conflicting: no base), ` +
			`${pct(PAIR_SHARES.onlyA)} created (only in A), ${pct(PAIR_SHARES.onlyB)} deleted (only in B); ` +
			`ConflictCheck ${ccRuns === 1 ? 'once' : `median of ${ccRuns} runs`}, Compare Datasets once; a fresh process per run`,
	);
	out(
		`   bare hash join: both sides in a Map by key, each key classified by sorted-key JSON without updated_at/version; ` +
			`in each ConflictCheck process, on the same records, interleaved (check, join, check, join ...; ${joinRounds} joins per process)`,
	);
	const rows: Array<Array<string | number>> = [];
	const raw: Record<number, unknown> = {};
	for (const size of sizes) {
		const cc: CompareRun[] = [];
		let cd: CompareRun | undefined;
		for (let i = 0; i < ccRuns + 1; i++) {
			// Interleaved: cc, cd, cc, cc ... (each cc process also interleaves bare joins)
			if (i === 1)
				cd = (await child<CompareRun>('compare', { tool: 'compareDatasets', size, warmup: 500 }))
					.result;
			else
				cc.push(
					(
						await child<CompareRun>('compare', {
							tool: 'conflictCheck',
							size,
							warmup: 500,
							joinRounds,
						})
					).result,
				);
		}
		if (!cd)
			cd = (await child<CompareRun>('compare', { tool: 'compareDatasets', size, warmup: 500 }))
				.result;
		const m = (pick: (r: CompareRun) => number) => median(cc.map(pick));
		const same =
			Object.keys(cd.groups).every((g) =>
				cc.every((r) => r.groups[g].digest === cd.groups[g].digest),
			) && Object.values(cd.groups).every((g) => g.asGenerated);
		const joins = cc.flatMap((r) => r.bareJoin?.joins ?? []);
		const checks = cc.flatMap((r) => r.bareJoin?.checks ?? []);
		const joinMs = median(joins.map((x) => x.ms));
		const joinCpuMs = median(joins.map((x) => x.cpuMs));
		const checkMs = median(checks.map((x) => x.nodeMs));
		const checkCpuMs = median(checks.map((x) => x.cpuMs));
		const joinSame = cc.every((r) => r.bareJoin?.identical === true);
		const counts = Object.entries(cd.groups)
			.map(([g, v]) => `${g} ${v.count}`)
			.join(', ');
		rows.push(
			[
				`ConflictCheck ${size}`,
				f0(m((r) => r.nodeMs)),
				f0(m((r) => r.cpuMs)),
				f0(m((r) => r.peakRssMb)),
				f0(m((r) => r.peakOverBeforeMb)),
				'',
				'',
			],
			[
				`Compare Datasets ${size}`,
				f0(cd.nodeMs),
				f0(cd.cpuMs),
				f0(cd.peakRssMb),
				f0(cd.peakOverBeforeMb),
				'',
				'',
			],
			[
				`  ratio ${size}`,
				ratio(cd.nodeMs / m((r) => r.nodeMs)),
				ratio(cd.cpuMs / m((r) => r.cpuMs)),
				'',
				'',
				same ? 'identical' : 'DIFFER',
				counts,
			],
			[
				`bare hash join ${size}`,
				f1(joinMs),
				f1(joinCpuMs),
				'',
				'',
				joinSame ? 'identical' : 'DIFFER',
				`median of ${joins.length}`,
			],
			[
				`  ConflictCheck / join ${size}`,
				ratio(checkMs / joinMs),
				ratio(checkCpuMs / joinCpuMs),
				'',
				'',
				'',
				`check median of ${checks.length}: ${f0(checkMs)} ms, CPU ${f0(checkCpuMs)} ms`,
			],
		);
		raw[size] = {
			conflictCheck: cc,
			compareDatasets: cd,
			identicalGroupings: same,
			bareJoin: {
				medianMs: joinMs,
				medianCpuMs: joinCpuMs,
				checkMedianMs: checkMs,
				checkMedianCpuMs: checkCpuMs,
				ratio: checkMs / joinMs,
				cpuRatio: checkCpuMs / joinCpuMs,
				identicalGroupings: joinSame,
			},
		};
		if (size === sizes.at(-1)) {
			const r = cd.nodeMs / m((x) => x.nodeMs);
			const j = checkMs / joinMs;
			goals.push({
				part: 'compare',
				goal: `Conflict Check within 1.5x of a bare hash join at ${size} keys per side (goal: 20000), same groupings`,
				measured: `${f0(checkMs)} vs ${f1(joinMs)} ms (CPU ${f0(checkCpuMs)} vs ${f1(joinCpuMs)} ms, ${ratio(checkCpuMs / joinCpuMs)}); groupings ${joinSame ? 'identical' : 'DIFFER'}`,
				ratio: `${ratio(j)} (limit 1.5x)`,
				met: j <= 1.5 && joinSame,
				quick: size !== 20000,
			});
			goals.push({
				part: 'compare',
				goal: `ConflictCheck >= 100x faster than Compare Datasets at ${size}, identical groupings`,
				measured: `${f0(cd.nodeMs)} vs ${f0(m((x) => x.nodeMs))} ms (CPU ${ratio(cd.cpuMs / m((x) => x.cpuMs))}); groupings ${same ? 'identical' : 'DIFFER'}`,
				ratio: `${ratio(r)} (at least 100x)`,
				met: r >= 100 && same,
				quick: size !== 20000,
				earlier: true,
			});
		}
	}
	table(
		[
			'node, keys per side',
			'node ms',
			'CPU ms',
			'peak RSS MB',
			'RSS growth MB',
			'groups',
			'group sizes',
		],
		rows,
	);
	out(
		"   node ms = the node's execution time as n8n records it; CPU ms = this process's CPU time for the",
	);
	out(
		'   whole workflow run; peak RSS of the measuring process (RSS growth = peak - RSS before the run).',
	);
	if (o.profile) {
		const size = sizes.at(-1)!;
		const p = (
			await child<CompareRun>(
				'compare',
				{ tool: 'conflictCheck', size, warmup: 500 },
				{ profile: true },
			)
		).result;
		if (p.profile) profiles.push(p.profile);
	}
	results.compare = raw;
}

interface EngineRun {
	size: number;
	indexTotalMs: number;
	checkMs: number;
	totalMs: number;
	cpuMs: number;
	rssBeforeMb: number;
	peakRssMb: number;
	peakOverBeforeMb: number;
	asExpected: boolean;
	counts: Record<string, number>;
	profile?: ProfileSummary;
}
interface N8nCheckRun {
	size: number;
	nodeMs: number;
	wallMs: number;
	cpuMs: number;
	rssBeforeMb: number;
	peakRssMb: number;
	peakOverBeforeMb: number;
	profile?: ProfileSummary;
}

async function scale(o: Options) {
	const sizes = o.quick ? [1_000, 10_000, 100_000] : [10_000, 100_000, 1_000_000];
	out(
		`\n## 2. Engine at scale (indexRecords x 3 + checkConflicts, no n8n; ${sizes.join(' / ')} keys x 3 systems + base` +
			`${o.quick ? '; quick: the goal sizes are 10k / 100k / 1M' : ''})`,
	);
	out(
		`   data: of the base keys ${pct(TRIPLE_SHARES.changed)} changed on one system, ${pct(TRIPLE_SHARES.conflicting)} conflicting ` +
			`(two systems: half on the same field, a conflict; half on different fields, merged as a change), ${pct(TRIPLE_SHARES.deleted)} deleted (tombstone), plus ${pct(TRIPLE_SHARES.created)} created in system_a; ` +
			'base with values; one fresh process per size',
	);
	const runs: EngineRun[] = [];
	for (const size of sizes)
		runs.push((await child<EngineRun>('engine', { size }, { heapMb: 8192 })).result);
	const n8nSize = o.quick ? 20_000 : 100_000;
	const viaN8n = (await child<N8nCheckRun>('engineN8n', { size: n8nSize }, { heapMb: 8192 }))
		.result;
	const rows: Array<Array<string | number>> = [];
	runs.forEach((r, i) => {
		const a = runs[i - 1];
		if (a)
			rows.push([
				`  growth x${r.size / a.size} keys`,
				ratio(r.indexTotalMs / a.indexTotalMs),
				ratio(r.checkMs / a.checkMs),
				ratio(r.totalMs / a.totalMs),
				ratio(r.cpuMs / a.cpuMs),
				ratio(r.rssBeforeMb / a.rssBeforeMb),
				ratio(r.peakRssMb / a.peakRssMb),
				ratio(r.peakOverBeforeMb / a.peakOverBeforeMb),
				'',
			]);
		rows.push([
			`engine ${r.size} x 3`,
			f0(r.indexTotalMs),
			f0(r.checkMs),
			f0(r.totalMs),
			f0(r.cpuMs),
			f0(r.rssBeforeMb),
			f0(r.peakRssMb),
			f0(r.peakOverBeforeMb),
			r.asExpected ? 'yes' : 'NO',
		]);
	});
	const [a, b] = runs.slice(-2);
	const sameSize = runs.find((r) => r.size === viaN8n.size);
	rows.push([
		`ConflictCheck in n8n ${viaN8n.size} x 3`,
		'',
		'',
		f0(viaN8n.nodeMs),
		f0(viaN8n.cpuMs),
		f0(viaN8n.rssBeforeMb),
		f0(viaN8n.peakRssMb),
		f0(viaN8n.peakOverBeforeMb),
		'',
	]);
	if (sameSize)
		rows.push([
			`  n8n / engine at ${viaN8n.size}`,
			'',
			'',
			ratio(viaN8n.nodeMs / sameSize.totalMs),
			ratio(viaN8n.cpuMs / sameSize.cpuMs),
			'',
			ratio(viaN8n.peakRssMb / sameSize.peakRssMb),
			ratio(viaN8n.peakOverBeforeMb / sameSize.peakOverBeforeMb),
			'',
		]);
	table(
		[
			'run',
			'index ms',
			'check ms',
			'total ms',
			'CPU ms',
			'RSS before MB',
			'peak RSS MB',
			'RSS growth MB',
			'counts ok',
		],
		rows,
	);
	out(
		'   RSS before = the process holding the input records and the base; growth = what indexing and checking add.',
	);
	out(
		'   ConflictCheck in n8n: node time (records as n8n items on 3 inputs, the base on the Base input).',
	);
	const big = runs.at(-1)!;
	const at = `${big.size.toLocaleString('en-US')} keys x 3`;
	const counted = big.asExpected ? '' : '; COUNTS WRONG';
	goals.push(
		{
			part: 'scale',
			goal: `engine at ${at} (goal: 1M) under 10 s`,
			measured: `${f1(big.totalMs / 1000)} s (CPU ${f1(big.cpuMs / 1000)} s)${counted}`,
			ratio: `${ratio(big.totalMs / 10_000)} of 10 s`,
			met: big.totalMs < 10_000 && big.asExpected,
			quick: o.quick,
		},
		{
			part: 'scale',
			goal: `engine at ${at} (goal: 1M) under 2 GB peak RSS`,
			measured: `peak RSS ${f0(big.peakRssMb)} MB (${f0(big.rssBeforeMb)} MB holding the data)`,
			ratio: `${ratio(big.peakRssMb / 2048)} of 2 GB`,
			met: big.peakRssMb < 2048,
			quick: o.quick,
		},
		{
			part: 'scale',
			goal: `engine growth ${a.size.toLocaleString('en-US')} -> ${b.size.toLocaleString('en-US')} keys (goal: 100k -> 1M) within 11x time`,
			measured: `${f0(a.totalMs)} -> ${f0(b.totalMs)} ms (CPU x${f1(b.cpuMs / a.cpuMs)}; peak RSS x${f1(b.peakRssMb / a.peakRssMb)})`,
			// One decimal: a step just past the limit must not print as the limit itself.
			ratio: `${f1(b.totalMs / a.totalMs)}x (limit 11x)`,
			met: b.totalMs / a.totalMs <= 11,
			quick: o.quick,
		},
	);
	if (o.profile) {
		const p = (
			await child<EngineRun>(
				'engine',
				{ size: o.quick ? 20_000 : 100_000 },
				{ heapMb: 8192, profile: true },
			)
		).result;
		if (p.profile) profiles.push(p.profile);
		const q = (
			await child<N8nCheckRun>('engineN8n', { size: n8nSize }, { heapMb: 8192, profile: true })
		).result;
		if (q.profile) profiles.push(q.profile);
	}
	const syncs = await syncGrowth(o);
	growthTable(runs, syncs, o);
	results.scale = { engine: runs, conflictCheckInN8n: viaN8n, wholeSync: syncs };
}

interface SyncRun {
	records: number;
	wallMs: number;
	cpuMs: number;
	rssBeforeMb: number;
	peakRssMb: number;
	peakOverBeforeMb: number;
	perNode: Record<string, number>;
	report: Record<string, unknown>;
}

/** A whole sync (Day 66's four package nodes in n8n's engine, demo systems) at three sizes. */
async function syncGrowth(o: Options): Promise<SyncRun[]> {
	const sizes = o.quick ? [200, 2_000, 10_000] : [1_000, 10_000, 50_000];
	out(
		`\n## 2b. A whole sync at ${sizes.join(' / ')} records${o.quick ? ' (quick: the goal sizes are 1k / 10k / 50k)' : ''}: ` +
			"Day 66's Conflict Check -> Conflict Resolve -> Multi Target Sync -> Sync Validate in n8n's engine (in-process), the 3 demo systems as processes",
	);
	out(
		"   data as in part 5 (system_a's records are the payload, no base); one fresh process per size, after a 200-record warm-up",
	);
	const runs: SyncRun[] = [];
	for (const records of sizes)
		runs.push(
			(await child<SyncRun>('syncN8n', { records }, { heapMb: 8192, timeoutMs: 1_800_000 })).result,
		);
	table(
		[
			'records',
			'wall ms',
			'CPU ms',
			'peak RSS MB',
			'RSS growth MB',
			...Object.keys(runs[0].perNode),
			'report',
		],
		runs.map((r) => [
			r.records,
			f0(r.wallMs),
			f0(r.cpuMs),
			f0(r.peakRssMb),
			f0(r.peakOverBeforeMb),
			...Object.values(r.perNode).map(f0),
			`${String(r.report.validation_status)}, written ${String(r.report.records_written)}`,
		]),
	);
	out(
		"   node columns: each node's time as n8n records it; CPU = the n8n-engine process only (not the demo systems).",
	);
	return runs;
}

/** Time and memory per size and the growth factor per step, so a super-linear step shows. */
function growthTable(engine: EngineRun[], syncs: SyncRun[], o: Options) {
	out(
		`\n## 2c. Growth${o.quick ? ' (quick sizes)' : ''}: per step, time x and memory x against keys x (linear = the same factor)`,
	);
	const rows: Array<Array<string | number>> = [];
	const add = (
		what: string,
		list: Array<{ size: number; ms: number; cpuMs: number; peakMb: number; growthMb: number }>,
	) =>
		list.forEach((r, i) => {
			const p = list[i - 1];
			const time = p ? r.ms / p.ms : NaN;
			const keys = p ? r.size / p.size : NaN;
			rows.push([
				what,
				r.size.toLocaleString('en-US'),
				f0(r.ms),
				f0(r.cpuMs),
				f0(r.peakMb),
				f0(r.growthMb),
				p ? `x${f1(keys)}` : '',
				p ? ratio(time) : '',
				p ? ratio(r.cpuMs / p.cpuMs) : '',
				p ? ratio(r.peakMb / p.peakMb) : '',
				p ? ratio(r.growthMb / p.growthMb) : '',
				p ? (time > keys * 1.1 ? 'super-linear' : 'linear or better') : '',
			]);
		});
	add(
		'engine (keys x 3)',
		engine.map((r) => ({
			size: r.size,
			ms: r.totalMs,
			cpuMs: r.cpuMs,
			peakMb: r.peakRssMb,
			growthMb: r.peakOverBeforeMb,
		})),
	);
	add(
		'whole sync (records)',
		syncs.map((r) => ({
			size: r.records,
			ms: r.wallMs,
			cpuMs: r.cpuMs,
			peakMb: r.peakRssMb,
			growthMb: r.peakOverBeforeMb,
		})),
	);
	table(
		[
			'what',
			'size',
			'ms',
			'CPU ms',
			'peak RSS MB',
			'RSS growth MB',
			'keys x',
			'time x',
			'CPU x',
			'peak x',
			'RSS growth x',
			'step (wall time)',
		],
		rows,
	);
	out(
		'   super-linear = time grew more than 1.1x the keys; RSS growth = peak minus RSS before the run (the data held).',
	);
}

interface WritesResult {
	records: number;
	batchSize: number;
	concurrency: number;
	rounds: number;
	requestsPerRun: number;
	summary: Record<string, { medianMs: number; writesPerSec: number; clientCpuMs: number }>;
	runs: Array<{ round: number; who: string; ms: number }>;
	profile?: ProfileSummary;
}

async function writes(o: Options) {
	const args = {
		records: o.quick ? 2000 : 10_000,
		rounds: o.quick ? 1 : 3,
		batchSize: 100,
		concurrency: 4,
		clients: ['fetch', 'axios'],
	};
	out(
		`\n## 3. Writes: Multi Target Sync vs a bare HTTP client (${args.records} changed records to one demo system, ` +
			`batches of ${args.batchSize}, ${args.concurrency} in flight; median of ${args.rounds} interleaved rounds)`,
	);
	const { result: r } = await child<WritesResult>('writes', args, {
		timeoutMs: 600_000,
		profile: o.profile,
	});
	if (r.profile) profiles.push(r.profile);
	const ceilingWho = Object.entries(r.summary)
		.filter(([who]) => who !== 'node')
		.sort((x, y) => y[1].writesPerSec - x[1].writesPerSec)[0][0];
	const ceiling = r.summary[ceilingWho];
	const rows = Object.entries(r.summary).map(([who, s]) => [
		who === 'node' ? 'Multi Target Sync (n8n engine)' : `bare ${who} client`,
		f0(s.medianMs),
		f0(s.writesPerSec),
		f0(s.clientCpuMs),
		pct(s.writesPerSec / ceiling.writesPerSec),
		r.runs
			.filter((x) => x.who === who)
			.map((x) => f0(x.ms))
			.join(' / '),
	]);
	table(['writer', 'median ms', 'writes/s', 'client CPU ms', 'of ceiling', 'per round ms'], rows);
	out(
		`   ceiling = the faster bare client (${ceilingWho}); ${r.requestsPerRun} POST /records/batch per run, same bodies and`,
	);
	out('   idempotency keys as the node sends; the system is reset and reseeded before every run.');
	const share = r.summary.node.writesPerSec / ceiling.writesPerSec;
	goals.push({
		part: 'writes',
		goal: `Multi Target Sync at least 80% of the bare client's writes/s (${args.records} writes${o.quick ? '; goal: 10k' : ''})`,
		measured: `${f0(r.summary.node.writesPerSec)} vs ${f0(ceiling.writesPerSec)} writes/s (${ceilingWho}); client CPU ${f0(r.summary.node.clientCpuMs)} vs ${f0(ceiling.clientCpuMs)} ms`,
		ratio: `${pct(share)} (at least 80%)`,
		met: share >= 0.8,
		quick: o.quick,
	});
	results.writes = { ...r, ceilingClient: ceilingWho, shareOfCeiling: share };
}

interface ValidateResult {
	records: number;
	keysRead: number;
	validateMedianMs: number;
	requests: number;
	bytesUp: number;
	bytesDown: number;
	bytesPerKeyRead: number;
	recordJsonBytes: number;
	fingerprintOnlyBytes: number;
	runs: Array<{ validateMs: number }>;
}

async function validate(o: Options) {
	const args = { records: o.quick ? 2000 : 10_000, rounds: o.quick ? 1 : 3 };
	out(
		`\n## 4. Sync Validate read-back today (${args.records} keys equal on 3 demo systems; bytes counted on the wire by a proxy)`,
	);
	const { result: r } = await child<ValidateResult>('validate', args, { timeoutMs: 600_000 });
	table(
		['measure', 'value'],
		[
			[
				'Sync Validate node time (median ms)',
				`${f0(r.validateMedianMs)}  (${r.runs.map((x) => f0(x.validateMs)).join(' / ')})`,
			],
			['keys read back (keys x systems)', r.keysRead],
			['HTTP requests', r.requests],
			['bytes sent (requests)', kb(r.bytesUp)],
			['bytes received (responses)', kb(r.bytesDown)],
			['bytes per key read', f0(r.bytesPerKeyRead)],
			['the records themselves as JSON', kb(r.recordJsonBytes)],
			['one 22-char fingerprint per key read (lower bound)', kb(r.fingerprintOnlyBytes)],
			['  received / fingerprint-only', ratio(r.bytesDown / r.fingerprintOnlyBytes)],
		],
	);
	results.validate = r;
	await bisection(o);
}

interface BisectRun {
	label: string;
	planted?: number;
	status: string;
	differencesFound: number;
	nodeMs: number;
	requests: number;
	levels: number | null;
	rangesCompared: number | null;
	recordsRead: number;
	bytes: number;
	shareOfRecordBytes: number;
}

interface BisectResult {
	records: number;
	recordBytes: number;
	runs: BisectRun[];
	fullRead?: BisectRun;
	maxRssMb: number;
}

/** Validation of every record by range checksums at two sizes, 0/10/1000 planted differences. */
async function bisection(o: Options) {
	const sizes = o.quick ? [20_000, 100_000] : [100_000, 1_000_000];
	out(
		`\n## 4b. Sync Validate, Every Record on Every System: range checksums + bisection (3 demo systems; bytes on the wire, headers included)`,
	);
	const all: BisectResult[] = [];
	for (const records of sizes) {
		const { result, maxRssMb } = await child<BisectResult>(
			'bisect',
			{ records, fullRead: records <= 100_000 },
			{ timeoutMs: 1_800_000 },
		);
		all.push({ ...result, maxRssMb });
	}
	const rows: Array<Array<string | number>> = [];
	for (const r of all) {
		for (const run of [...r.runs, ...(r.fullRead ? [r.fullRead] : [])]) {
			rows.push([
				r.records.toLocaleString('en-US'),
				run.label,
				run.differencesFound,
				f0(run.nodeMs),
				run.requests,
				run.levels ?? '-',
				run.recordsRead,
				kb(run.bytes),
				pct(run.shareOfRecordBytes),
			]);
		}
	}
	table(
		[
			'keys/system',
			'run',
			'found',
			'node ms',
			'requests',
			'levels',
			'records read',
			'bytes',
			'of record bytes',
		],
		rows,
	);
	out(
		`   record bytes = the three systems' records as JSON (${all.map((r) => `${r.records}: ${kb(r.recordBytes)}`).join(', ')}); every run found exactly the planted keys; peak RSS ${all.map((r) => `${f0(r.maxRssMb)} MB`).join(', ')}.`,
	);
	const big = all[all.length - 1];
	const equal = big.runs.find((x) => x.planted === 0)!;
	goals.push({
		part: 'validate',
		goal: `every record of ${big.records.toLocaleString('en-US')} equal keys x 3 validated with < 1% of the record bytes`,
		measured: `${kb(equal.bytes)} of ${kb(big.recordBytes)}, ${f0(equal.nodeMs)} ms`,
		ratio: `${pct(equal.shareOfRecordBytes)} (under 1%)`,
		met: equal.shareOfRecordBytes < 0.01,
		quick: o.quick,
		earlier: true,
	});
	results.bisection = all;
}

interface E2eResult {
	records: number;
	requestBytes: number;
	timedOut?: boolean;
	maxSyncMs?: number;
	httpStatus: number;
	roundTripMs: number;
	executionMs: number;
	perNode: Array<{ node: string; type: string; ours: boolean; ms: number; start: number }>;
	packageNodesMs: number;
	otherNodesMs: number;
	betweenNodesMs: number;
	packageShareOfExecution: number;
	report: Record<string, unknown>;
	n8nProfile?: ProfileSummary;
	setupMs: Record<string, number>;
	distStale: boolean;
	ioFloor?: IoFloor;
}

interface IoFloor {
	requests: number;
	requestsCountedBySystems: number;
	kinds: Record<string, { requests: number; bytesUp: number; bytesDown: number }>;
	phases: Array<{ requests: number; concurrency: number; kinds: string[] }>;
	recordedSpanMs: number;
	statusesNotOk: number;
	runs: Array<{
		round: number;
		via: string;
		ms: number;
		cpuMs: number;
		statusMismatches: number;
		sameEndState: boolean;
	}>;
	directMedianMs: number;
	directMedianCpuMs: number;
	recorderMedianMs: number;
	recorderMedianCpuMs: number;
	seededDiffers: boolean;
	allSameEndState: boolean;
	allSameStatuses: boolean;
}

/** Goal 4: the n8n round trip against a bare client doing the same requests (the I/O floor). */
function ioFloorGoal(r: E2eResult, f: IoFloor, o: Options) {
	out(
		`\n   The I/O floor: the ${f.requests} HTTP requests n8n's nodes made to the demo systems during the sync ` +
			`(recorded by a proxy in front of each system; the systems counted ${f.requestsCountedBySystems}), ` +
			'replayed by a bare fetch client on the systems reseeded as before the sync:',
	);
	table(
		['requests (system, method, path)', 'count', 'KiB sent', 'KiB received'],
		Object.entries(f.kinds).map(([k, v]) => [
			k,
			v.requests,
			f0(v.bytesUp / 1024),
			f0(v.bytesDown / 1024),
		]),
	);
	out(
		`   ${f.phases.length} phases (a phase ends where nothing was in flight; replayed in order, each with its recorded concurrency): ` +
			f.phases
				.map((p) => `${p.requests}@${p.concurrency}`)
				.slice(0, 12)
				.join(', ') +
			(f.phases.length > 12 ? ', ...' : ''),
	);
	const rows: Array<Array<string | number>> = [
		['n8n round trip (through the recorders)', f0(r.roundTripMs), '', '', ''],
		[
			'  of which n8n busy on the systems (first request to last answer)',
			f0(f.recordedSpanMs),
			'',
			'',
			'',
		],
	];
	for (const run of f.runs)
		rows.push([
			`bare fetch client, round ${run.round}, ${run.via === 'direct' ? 'direct' : 'through the recorders'}`,
			f0(run.ms),
			f0(run.cpuMs),
			run.statusMismatches,
			run.sameEndState ? 'yes' : 'NO',
		]);
	rows.push(
		[
			'bare client median, through the recorders',
			f0(f.recorderMedianMs),
			f0(f.recorderMedianCpuMs),
			'',
			'',
		],
		['bare client median, direct', f0(f.directMedianMs), f0(f.directMedianCpuMs), '', ''],
		[
			'  n8n / bare (both through the recorders)',
			ratio(r.roundTripMs / f.recorderMedianMs),
			'',
			'',
			'',
		],
		['  n8n / bare direct', ratio(r.roundTripMs / f.directMedianMs), '', '', ''],
	);
	table(['run', 'ms', 'client CPU ms', 'status differs', 'same end state as n8n'], rows);
	out(
		"   n8n ran once (its base is in the workflow's static data: a second sync would not be a first sync); the bare",
	);
	out(
		'   rounds come after it, alternating direct / through the recorders; the recorder hop is what separates the two.',
	);
	out(
		`   end state = every system's records without version/updated_at/deleted_at; the reseeded systems ${f.seededDiffers ? 'differ from it (the check can fail)' : 'ALREADY EQUAL it (the check cannot fail)'}.`,
	);
	const x = r.roundTripMs / f.recorderMedianMs;
	const valid = f.allSameEndState && f.allSameStatuses && f.requests === f.requestsCountedBySystems;
	goals.push({
		part: 'e2e',
		goal: `a ${r.records}-record sync through the Day 66 webhook within 2x of the I/O floor${o.quick ? ' (goal: 10k)' : ''}`,
		measured:
			`${f0(r.roundTripMs)} vs ${f0(f.recorderMedianMs)} ms (bare direct ${f0(f.directMedianMs)} ms: ${ratio(r.roundTripMs / f.directMedianMs)}); ` +
			`${f.requests} requests, same end state ${f.allSameEndState ? 'yes' : 'NO'}, statuses ${f.allSameStatuses ? 'same' : 'DIFFER'}`,
		ratio: `${ratio(x)} (limit 2x)`,
		met: x <= 2 && valid,
		quick: o.quick,
	});
}

/** Shares of the profiled process's busy (non-idle) CPU: this package's own code, and all that runs under it. */
function busyShare(p: ProfileSummary): { self: number; under: number } {
	const busy = p.totalMs - p.idleMs;
	const own = p.byArea.find((a) => a.area === 'this package (nodes/)')?.ms ?? 0;
	return { self: own / busy, under: p.oursInclusiveMs / busy };
}

async function e2e(o: Options) {
	const args = {
		records: o.quick ? 2000 : 10_000,
		maxSyncMs: o.e2eTimeoutS * 1000,
		bareRounds: o.quick ? 2 : 3,
	};
	out(
		`\n## 5. A real n8n 2.41.1: one ${args.records}-record sync through the Day 66 webhook (time per node from n8n's saved execution)`,
	);
	out(
		`   data: system_a's records are the payload; of those keys ${pct(TRIPLE_SHARES.changed)} changed on one system, ` +
			`${pct(TRIPLE_SHARES.conflicting)} on two, ${pct(TRIPLE_SHARES.deleted)} deleted on one, ${pct(TRIPLE_SHARES.created)} only in system_a; no base (a first sync)`,
	);
	const { result: r } = await child<E2eResult>('e2e', args, {
		timeoutMs: args.maxSyncMs + 600_000,
	});
	if (r.distStale)
		out('   WARNING: dist/ is older than nodes/: n8n ran the last build, not the current sources.');
	if (r.n8nProfile) profiles.push(r.n8nProfile);
	if (r.timedOut) {
		out(
			`   payload ${kb(r.requestBytes)}: NO ANSWER within ${f0(r.maxSyncMs! / 1000)} s; n8n was stopped. Where n8n spent its CPU meanwhile:`,
		);
		if (r.n8nProfile) {
			table(
				['area (self time)', 'ms', 'share'],
				r.n8nProfile.byArea.slice(0, 6).map((a) => [a.area, f0(a.ms), pct(a.share)]),
			);
			out('   this package on the stack (inclusive):');
			for (const f of r.n8nProfile.topInclusiveOurs.slice(0, 4))
				out(`     ${f0(f.ms)} ms ${pct(f.share)}  ${f.fn}  ${f.where}`);
		}
		goals.push({
			part: 'e2e',
			goal: `package nodes < 20% of the ${args.records}-record sync's execution time`,
			measured: `no answer within ${f0(r.maxSyncMs! / 1000)} s (see the n8n profile)`,
			ratio: '-',
			met: false,
			earlier: true,
		});
		goals.push({
			part: 'e2e',
			goal: `a ${args.records}-record sync through the Day 66 webhook within 2x of the I/O floor`,
			measured: `no answer within ${f0(r.maxSyncMs! / 1000)} s: no floor measured`,
			ratio: '-',
			met: false,
			quick: o.quick,
		});
		results.e2e = r;
		return;
	}
	const rep = r.report as Record<string, unknown>;
	out(
		`   payload ${kb(r.requestBytes)}, HTTP ${r.httpStatus}, round trip ${f0(r.roundTripMs)} ms, execution ${f0(r.executionMs)} ms; report: ` +
			[
				'validation_status',
				'records_processed',
				'conflicts_detected',
				'records_written',
				'failed_writes',
			]
				.map((k) => `${k} ${String(rep[k])}`)
				.join(', ') +
			((rep.reasons as string[] | undefined)?.length
				? `; reasons: ${(rep.reasons as string[]).join('; ')}`
				: ''),
	);
	const rows: Array<Array<string | number>> = r.perNode
		.filter((n) => n.ms > 0 || n.ours)
		.map((n) => [
			`${n.ours ? '* ' : '  '}${n.node}`,
			n.type.replace(/^n8n-nodes-/, ''),
			f0(n.start),
			f0(n.ms),
			pct(n.ms / r.executionMs),
		]);
	rows.push(
		['= package nodes (*)', '', '', f0(r.packageNodesMs), pct(r.packageShareOfExecution)],
		['= other nodes', '', '', f0(r.otherNodesMs), pct(r.otherNodesMs / r.executionMs)],
		[
			'= between nodes (engine)',
			'',
			'',
			f0(r.betweenNodesMs),
			pct(r.betweenNodesMs / r.executionMs),
		],
	);
	table(['node', 'type', 'starts at ms', 'ms', 'share of execution'], rows);
	const cpu = r.n8nProfile ? busyShare(r.n8nProfile) : undefined;
	if (r.n8nProfile) {
		out(
			`   n8n's own CPU during the sync (V8 sampling profile of the server process; ${f0(r.n8nProfile.totalMs)} ms sampled), self time by area:`,
		);
		for (const a of r.n8nProfile.byArea.slice(0, 8))
			out(`     ${f0(a.ms).padStart(7)} ms ${pct(a.share).padStart(6)}  ${a.area}`);
		out(
			`   of n8n's busy CPU: ${pct(cpu!.under)} under this package's nodes (their code and the n8n helpers they call, ` +
				`such as parameter expressions), ${pct(cpu!.self)} in the package's own functions.`,
		);
	}
	if (r.ioFloor) ioFloorGoal(r, r.ioFloor, o);
	goals.push({
		part: 'e2e',
		goal: `package nodes < 20% of the ${args.records}-record sync's execution time`,
		measured:
			`${f0(r.packageNodesMs)} of ${f0(r.executionMs)} ms execution` +
			(cpu !== undefined
				? `; CPU: ${pct(cpu.under)} under its nodes, ${pct(cpu.self)} in its own code`
				: ''),
		ratio: `${pct(r.packageShareOfExecution)} (under 20%)`,
		met: r.packageShareOfExecution < 0.2,
		quick: o.quick,
		earlier: true,
	});
	results.e2e = r;
}

// ---------------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<void> {
	const o = parseArgs(argv);
	if (o.profile) profileDir = path.join(BENCH, 'profiles');
	const started = Date.now();
	const machine = {
		cpus: os.cpus().length,
		cpuModel: os.cpus()[0]?.model,
		totalMemMb: Math.round(os.totalmem() / 1024 / 1024),
		node: process.version,
		loadAvgAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
	};
	out(`# n8n-nodes-data-sync benchmarks (${new Date(started).toISOString()})`);
	out(
		`  ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.totalMemMb} MB, Node ${machine.node}, load average ${machine.loadAvgAtStart.join(' ')}; parts: ${o.only.join(', ')}${o.quick ? ' (quick)' : ''}`,
	);
	const failures: string[] = [];
	const parts: Record<Part, (o: Options) => Promise<void>> = {
		compare,
		scale,
		writes,
		validate,
		e2e,
	};
	try {
		for (const part of PARTS) {
			if (!o.only.includes(part)) continue;
			const t0 = Date.now();
			try {
				await parts[part](o);
			} catch (error) {
				failures.push(`${part}: ${(error as Error).message}`);
				out(`\n!! ${part} failed: ${(error as Error).message}`);
			}
			out(`   (${part}: ${f0((Date.now() - t0) / 1000)} s)`);
		}
	} finally {
		rmSync(userFolder, { recursive: true, force: true });
	}
	if (goals.length) {
		out('\n## Goals');
		const ordered = [...goals.filter((g) => !g.earlier), ...goals.filter((g) => g.earlier)];
		table(
			['part', 'goal', 'figure', 'ratio', 'met'],
			ordered.map((g) => [
				g.part,
				`${g.earlier ? '(earlier) ' : ''}${g.goal}`,
				g.measured,
				g.ratio,
				`${g.met ? 'met' : 'MISSED'}${g.quick ? '*' : ''}`,
			]),
		);
		if (goals.some((g) => g.quick))
			out('   * measured at --quick sizes, not the sizes the goal names: indicative only.');
		out('   (earlier) = a goal from before issue 14, kept so its figure stays in view.');
	}
	for (const p of profiles) {
		out('');
		printSummary(p, out);
	}
	const durationMs = Date.now() - started;
	out(
		`\n(total ${f0(durationMs / 1000)} s, load average at end ${os
			.loadavg()
			.map((x) => x.toFixed(2))
			.join(' ')})`,
	);
	writeFileSync(
		o.out,
		`${JSON.stringify(
			{
				startedAt: new Date(started).toISOString(),
				durationMs,
				machine: { ...machine, loadAvgAtEnd: os.loadavg() },
				options: o,
				goals,
				failures,
				parts: results,
				profiles,
				table: lines,
			},
			null,
			1,
		)}\n`,
	);
	console.log(
		`results: ${path.relative(process.cwd(), o.out)}${o.profile ? `, profiles: ${path.relative(process.cwd(), profileDir!)}/` : ''}`,
	);
	if (failures.length) process.exitCode = 1;
}
