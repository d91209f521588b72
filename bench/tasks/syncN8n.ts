/**
 * Growth of a whole sync (one fresh process per size): the Day 66 workflow's four package nodes
 * (Conflict Check -> Conflict Resolve -> Multi Target Sync -> Sync Validate, with the parameters
 * and connections of workflows/day66-data-sync.json) inside n8n's execution engine
 * (test/harness), against the three demo systems as processes. The webhook trigger is replaced
 * by a feeder named "Data Sync Trigger" that emits the item the trigger would emit (built with
 * the engine's readInbound, as the trigger does), so the workflow's expressions resolve
 * unchanged. No base (a first sync), the data as in the e2e part.
 *
 * Timed: the workflow run (wall and this process's CPU; the demo systems' CPU is not in it);
 * peak RSS of this process.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { IConnections, IDataObject, INode } from 'n8n-workflow';

import { newSyncId, readInbound } from '../../nodes/shared/engine/index.ts';
import { runWorkflow } from '../../test/harness/index.ts';
import { node } from '../../test/harness/build.ts';
import { startSystems, type StartedSystems } from '../../test/systems/helpers.ts';
import { tripleDataset, TRIPLE_SHARES, type Rec } from '../lib/data.ts';
import { gc, log, maxRssMb, now, rssMb } from '../lib/measure.ts';
import {
	credentialFor,
	credentialTypes,
	nodeTime,
	nodeTypes,
	provide,
	RECORDS_TYPE,
	ROOT,
	SLOTS,
	slotRefs,
	TEST_TRIGGER_TYPE,
} from '../lib/nodes.ts';
import { readAll, reseed } from '../lib/sync.ts';

const SYSTEMS = ['system_a', 'system_b', 'system_c'] as const;
const PACKAGE_NODES = ['Conflict Check', 'Conflict Resolve', 'Multi Target Sync', 'Sync Validate'];
/** The nodes that read or commit the base in static data. */
const BASE_NODES = ['Conflict Check', 'Sync Validate'];

interface WorkflowJson {
	nodes: INode[];
	connections: IConnections;
}

/**
 * Day 66's package nodes and the connections among them, fed by "Data Sync Trigger". Their base
 * lives in workflow static data, bounded by Max Base Keys (10,000 by default): past that size the
 * bound is raised to the sync's size, as a user syncing that many keys this way would.
 */
function day66Pipeline(maxBaseKeys: number) {
	const day66 = JSON.parse(
		readFileSync(path.join(ROOT, 'workflows/day66-data-sync.json'), 'utf8'),
	) as WorkflowJson;
	const kept = new Set(['Data Sync Trigger', ...PACKAGE_NODES]);
	const nodes: INode[] = [
		node('Start', TEST_TRIGGER_TYPE, { items: [{}] }),
		node('Data Sync Trigger', RECORDS_TYPE, { dataset: 'request' }),
		...day66.nodes
			.filter((n) => PACKAGE_NODES.includes(n.name))
			.map((n) => ({
				...n,
				...(n.credentials ? { credentials: slotRefs([...SYSTEMS]) } : {}),
				...(BASE_NODES.includes(n.name)
					? {
							parameters: {
								...n.parameters,
								options: { ...(n.parameters.options as IDataObject), maxBaseKeys },
							},
						}
					: {}),
			})),
	];
	const connections: WorkflowJson['connections'] = {
		Start: { main: [[{ node: 'Data Sync Trigger', type: 'main', index: 0 }]] },
	};
	for (const [from, c] of Object.entries(day66.connections)) {
		if (!kept.has(from)) continue;
		connections[from] = {
			main: c.main.map((outs) => (outs ?? []).filter((t) => kept.has(t.node))),
		};
	}
	return { nodes, connections };
}

/** The item the Data Sync Trigger emits for this body (its own parsing, engine/syncRequest). */
function triggerItem(body: IDataObject): IDataObject {
	const verdict = readInbound(
		body,
		{
			sourceSystem: 'system_a',
			targetSystems: ['system_b', 'system_c'],
			syncType: 'bidirectional',
			strategy: 'lastWriterWins',
			scope: 'source',
			keyFields: ['id'],
			maxRecords: Number.MAX_SAFE_INTEGER,
		},
		{ syncId: newSyncId(), receivedAt: new Date().toISOString() },
	);
	if (verdict.kind !== 'sync') throw new Error(`not a sync request: ${JSON.stringify(verdict)}`);
	return verdict.request as unknown as IDataObject;
}

async function seedAll(started: StartedSystems, records: number) {
	const n = Math.round(records / (1 + TRIPLE_SHARES.created));
	const data = tripleDataset(n, 5);
	for (const name of SYSTEMS) await reseed(started.systems[name], data.systems[name] as Rec[]);
	const payload = await readAll(started.systems.system_a);
	provide('request', [
		triggerItem({
			source_system: 'system_a',
			target_systems: ['system_b', 'system_c'],
			sync_type: 'bidirectional',
			sync_data: payload as IDataObject[],
		}),
	]);
	return payload.length;
}

export async function run(args: { records: number }) {
	const started = await startSystems();
	try {
		const workflow = day66Pipeline(Math.max(10_000, args.records));
		const credentials = Object.fromEntries(
			SYSTEMS.map((name, i) => [SLOTS[i], credentialFor(started.systems[name])]),
		);
		const go = () =>
			runWorkflow({
				workflow: { ...workflow, staticData: {} },
				nodeTypes: nodeTypes(),
				credentials,
				credentialTypes,
				mode: 'webhook',
			});
		// Warm-up on 200 records (JIT, sockets, n8n's lazy paths), not counted.
		await seedAll(started, 200);
		const warm = await go();
		if (warm.status !== 'success') throw warm.error ?? new Error('warm-up failed');

		const records = await seedAll(started, args.records);
		gc();
		const rssBefore = rssMb();
		const cpu0 = process.cpuUsage();
		const t0 = now();
		const result = await go();
		const wallMs = now() - t0;
		const cpu = process.cpuUsage(cpu0);
		if (result.status !== 'success') throw result.error ?? new Error('run failed');
		const peak = maxRssMb();
		const report = result.output('Sync Validate', 0)[0]?.json ?? {};
		const perNode = Object.fromEntries(
			PACKAGE_NODES.map((name) => [name, nodeTime(result.runData, name)]),
		);
		log(
			`sync ${records}: ${wallMs.toFixed(0)} ms, ${String(report.validation_status)}, peak RSS ${peak.toFixed(0)} MB`,
		);
		return {
			records,
			wallMs,
			cpuMs: (cpu.user + cpu.system) / 1000,
			rssBeforeMb: rssBefore,
			peakRssMb: peak,
			peakOverBeforeMb: peak - rssBefore,
			perNode,
			report: {
				validation_status: report.validation_status,
				records_processed: report.records_processed,
				conflicts_detected: report.conflicts_detected,
				records_written: report.records_written,
				failed_writes: report.failed_writes,
			},
		};
	} finally {
		await started.stop();
	}
}
