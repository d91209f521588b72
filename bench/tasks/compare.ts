/**
 * Part 1, one measurement (one fresh process each): ConflictCheck or n8n's Compare Datasets on
 * the same two datasets, inside n8n's execution engine (test/harness -> n8n-core WorkflowExecute).
 *
 *   Trigger -> Records A ─┐
 *           -> Records B ─┴-> node under test
 *
 * ConflictCheck: composed inputs (system_a, system_b), Keys to Check = every key on any system,
 * Base = none, Emit In-Sync Keys on. Its per-key kind/states map onto Compare Datasets' outputs:
 *   in_sync -> Same; conflict -> Different; change with system_a created / system_b missing ->
 *   In A only; change with system_a missing -> In B only.
 * Compare Datasets 2.3 (the newest version): Fields to Match id = id, When There Are
 * Differences = Include Both Versions (the default), Fields to Skip Comparing = updated_at,
 * version (each system stamps its own; ConflictCheck ignores them by default too).
 */
import type { IDataObject, INode, INodeExecutionData } from 'n8n-workflow';

import { ignoredFields } from '../../nodes/shared/engine/index.ts';

import { runWorkflow } from '../../test/harness/index.ts';
import { connect, node } from '../../test/harness/build.ts';
import { pairDataset, type Rec } from '../lib/data.ts';
import { digest, gc, heapMb, log, maxRssMb, median, now, profiled, rssMb } from '../lib/measure.ts';
import {
	CHECK_TYPE,
	COMPARE_TYPE,
	compareDatasetsType,
	nodeTime,
	nodeTypes,
	provide,
	RECORDS_TYPE,
	TEST_TRIGGER_TYPE,
} from '../lib/nodes.ts';

export type Tool = 'conflictCheck' | 'compareDatasets';
type Groups = { same: string[]; different: string[]; onlyA: string[]; onlyB: string[] };

const UNDER_TEST = 'Under Test';

/** What ConflictCheck ignores with the settings below (the key, updated-at, version, tombstone). */
const IGNORED = ignoredFields({
	keyFields: ['id'],
	updatedAtField: 'updated_at',
	versionField: 'version',
	tombstoneField: '_deleted',
});

/** A record's compared fields as JSON with sorted keys (the records are flat). */
function canonical(r: Rec): string {
	const keys = Object.keys(r)
		.filter((k) => !IGNORED.has(k))
		.sort();
	return JSON.stringify(r, keys);
}

/**
 * The floor for Conflict Check: a bare hash join of both sides, no n8n, no engine. Each side
 * indexed by key in a Map, each key classified by its compared fields' sorted-key JSON.
 */
export function bareJoin(a: Rec[], b: Rec[]): Groups {
	const byKeyA = new Map<string, Rec>();
	for (const r of a) byKeyA.set(String(r.id), r);
	const byKeyB = new Map<string, Rec>();
	for (const r of b) byKeyB.set(String(r.id), r);
	const g: Groups = { same: [], different: [], onlyA: [], onlyB: [] };
	for (const [key, ra] of byKeyA) {
		const rb = byKeyB.get(key);
		if (rb === undefined) g.onlyA.push(key);
		else if (canonical(ra) === canonical(rb)) g.same.push(key);
		else g.different.push(key);
	}
	for (const key of byKeyB.keys()) if (!byKeyA.has(key)) g.onlyB.push(key);
	return g;
}

function timedJoin(a: Rec[], b: Rec[]) {
	gc();
	const cpu0 = process.cpuUsage();
	const t0 = now();
	const groups = bareJoin(a, b);
	const ms = now() - t0;
	const cpu = process.cpuUsage(cpu0);
	return { groups, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function workflow(tool: Tool, tag: string) {
	const nodes: INode[] = [
		node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
		node('Records A', RECORDS_TYPE, { dataset: `${tag}:a` }),
		node('Records B', RECORDS_TYPE, { dataset: `${tag}:b` }),
		tool === 'conflictCheck'
			? node(UNDER_TEST, CHECK_TYPE, {
					sourceSystem: 'system_a',
					systemsFrom: 'inputs',
					otherSystems: 'system_b',
					keyFields: 'id',
					updatedAtField: 'updated_at',
					versionField: 'version',
					tombstoneField: '_deleted',
					scope: 'all',
					baseSource: 'none',
					options: { includeInSync: true, syncId: 'bench' },
				})
			: node(
					UNDER_TEST,
					COMPARE_TYPE,
					{
						mergeByFields: { values: [{ field1: 'id', field2: 'id' }] },
						resolve: 'includeBoth',
						fuzzyCompare: false,
						options: { skipFields: 'updated_at,version' },
					},
					{ typeVersion: 2.3 },
				),
	];
	return {
		nodes,
		connections: connect(
			['Trigger', 'Records A'],
			['Trigger', 'Records B'],
			['Records A', UNDER_TEST, 0, 0],
			['Records B', UNDER_TEST, 0, 1],
		),
	};
}

function groupsOf(tool: Tool, output: (i: number) => INodeExecutionData[]): Groups {
	const ids = (items: INodeExecutionData[], pick: (j: IDataObject) => unknown) =>
		items.map((i) => String(pick(i.json)));
	if (tool === 'compareDatasets') {
		return {
			onlyA: ids(output(0), (j) => j.id),
			same: ids(output(1), (j) => j.id),
			different: ids(output(2), (j) => (j.keys as IDataObject).id),
			onlyB: ids(output(3), (j) => j.id),
		};
	}
	const g: Groups = { same: [], different: [], onlyA: [], onlyB: [] };
	for (const item of [...output(0), ...output(1)]) {
		const j = item.json as { key: string; kind: string; states: Record<string, string> };
		if (j.kind === 'in_sync') g.same.push(j.key);
		else if (j.kind === 'conflict') g.different.push(j.key);
		else if (j.states.system_b === 'missing') g.onlyA.push(j.key);
		else if (j.states.system_a === 'missing') g.onlyB.push(j.key);
		else throw new Error(`unexpected ConflictCheck item: ${JSON.stringify(j).slice(0, 300)}`);
	}
	return g;
}

async function once(tool: Tool, size: number, tag: string, measured: boolean) {
	const data = pairDataset(size);
	provide(`${tag}:a`, data.a as IDataObject[]);
	provide(`${tag}:b`, data.b as IDataObject[]);
	const types = nodeTypes({ [COMPARE_TYPE]: compareDatasetsType() });
	gc();
	const rssBefore = rssMb();
	const t0 = now();
	const cpu0 = process.cpuUsage();
	const go = () => runWorkflow({ workflow: workflow(tool, tag), nodeTypes: types });
	const { value: result, profile } = measured
		? await profiled(`compare-${tool}-${size}`, go)
		: { value: await go(), profile: undefined };
	const wallMs = now() - t0;
	const cpu = process.cpuUsage(cpu0);
	const cpuMs = (cpu.user + cpu.system) / 1000;
	if (result.status !== 'success') throw result.error ?? new Error('run failed');
	const groups = groupsOf(tool, (i) => result.output(UNDER_TEST, i));
	return { data, result, groups, wallMs, cpuMs, rssBefore, profile };
}

export async function run(args: {
	tool: Tool;
	size: number;
	warmup?: number;
	/** ConflictCheck only: after the measured run, this many bare joins interleaved with runs. */
	joinRounds?: number;
}) {
	// Warm the JIT and n8n's lazy paths on a small dataset first, as a long-running n8n is.
	if (args.warmup) {
		await once(args.tool, args.warmup, 'warmup', false);
		if (args.joinRounds) {
			const w = pairDataset(args.warmup);
			bareJoin(w.a, w.b);
		}
	}
	gc();
	const { data, result, groups, wallMs, cpuMs, rssBefore, profile } = await once(
		args.tool,
		args.size,
		'main',
		true,
	);
	const peak = maxRssMb();
	const nodeMs = nodeTime(result.runData, UNDER_TEST);
	const check = (name: keyof Groups) => ({
		count: groups[name].length,
		digest: digest(groups[name]),
		asGenerated: digest(groups[name]) === digest(data.expected[name]),
	});
	// After the peak RSS above is read: the extra rounds must not count in it.
	const joined = args.joinRounds
		? await interleavedJoin(args.joinRounds, data, groups, nodeMs, cpuMs)
		: undefined;
	const out = {
		tool: args.tool,
		size: args.size,
		inputs: { a: data.a.length, b: data.b.length },
		nodeMs,
		wallMs,
		cpuMs,
		rssBeforeMb: rssBefore,
		peakRssMb: peak,
		peakOverBeforeMb: peak - rssBefore,
		heapAfterMb: heapMb(),
		groups: {
			same: check('same'),
			different: check('different'),
			onlyA: check('onlyA'),
			onlyB: check('onlyB'),
		},
		...(profile ? { profile } : {}),
		...(joined ? { bareJoin: joined } : {}),
	};
	log(
		`${args.tool} ${args.size}: node ${nodeMs} ms, wall ${wallMs.toFixed(0)} ms, peak RSS ${peak.toFixed(0)} MB`,
	);
	return out;
}

/**
 * In this process, on the same records: bare join, ConflictCheck, bare join, ... (the measured
 * ConflictCheck run above counts as the first node run). Groups of every join must equal
 * ConflictCheck's.
 */
async function interleavedJoin(
	rounds: number,
	data: ReturnType<typeof pairDataset>,
	checkGroups: Groups,
	firstNodeMs: number,
	firstCpuMs: number,
) {
	const joins: Array<{ ms: number; cpuMs: number }> = [];
	const checks = [{ nodeMs: firstNodeMs, cpuMs: firstCpuMs }];
	let identical = true;
	const same = (g: Groups) =>
		(Object.keys(g) as Array<keyof Groups>).every((k) => digest(g[k]) === digest(checkGroups[k]));
	for (let i = 0; i < rounds; i++) {
		const j = timedJoin(data.a, data.b);
		identical &&= same(j.groups);
		joins.push({ ms: j.ms, cpuMs: j.cpuMs });
		if (i === rounds - 1) break;
		gc();
		const c = await once('conflictCheck', data.a.length, 'main', false);
		identical &&= same(c.groups);
		checks.push({ nodeMs: nodeTime(c.result.runData, UNDER_TEST), cpuMs: c.cpuMs });
	}
	return {
		joins,
		checks,
		identical,
		joinMedianMs: median(joins.map((x) => x.ms)),
		joinMedianCpuMs: median(joins.map((x) => x.cpuMs)),
		checkMedianMs: median(checks.map((x) => x.nodeMs)),
		checkMedianCpuMs: median(checks.map((x) => x.cpuMs)),
	};
}
