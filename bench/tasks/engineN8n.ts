/**
 * Part 2b: the same three-system dataset as tasks/engine.ts, through ConflictCheck inside
 * n8n's execution engine (test/harness): records arrive as n8n items on three inputs and the
 * base as items on the Base input ({key, fingerprint, values}), as a large sync that keeps its
 * base in a real store would run it. Shows what the n8n item model adds over the bare engine.
 */
import type { IDataObject, INode } from 'n8n-workflow';

import { ignoredFields } from '../../nodes/shared/engine/index.ts';
import { runWorkflow } from '../../test/harness/index.ts';
import { connect, node } from '../../test/harness/build.ts';
import { tripleDataset } from '../lib/data.ts';
import { gc, log, maxRssMb, now, profiled, rssMb } from '../lib/measure.ts';
import {
	CHECK_TYPE,
	nodeTime,
	nodeTypes,
	provide,
	RECORDS_TYPE,
	TEST_TRIGGER_TYPE,
} from '../lib/nodes.ts';
import { buildBase, SPEC } from './engine.ts';

const SYSTEMS = ['system_a', 'system_b', 'system_c'];

export async function run(args: { size: number }) {
	const data = tripleDataset(args.size);
	const base = buildBase(data.baseRecords, ignoredFields(SPEC));
	(data as { baseRecords?: unknown }).baseRecords = undefined;
	for (const name of SYSTEMS)
		provide(name, data.systems[name as keyof typeof data.systems] as IDataObject[]);
	provide(
		'base',
		[...base.entries].map(([key, e]) => ({
			key,
			fingerprint: e.fingerprint,
			values: e.values as IDataObject,
		})),
	);
	base.entries.clear();
	const nodes: INode[] = [
		node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
		...SYSTEMS.map((s) => node(`Records ${s}`, RECORDS_TYPE, { dataset: s })),
		node('Base', RECORDS_TYPE, { dataset: 'base' }),
		node('Conflict Check', CHECK_TYPE, {
			sourceSystem: 'system_a',
			systemsFrom: 'inputs',
			otherSystems: 'system_b, system_c',
			keyFields: 'id',
			updatedAtField: 'updated_at',
			versionField: 'version',
			tombstoneField: '_deleted',
			scope: 'source',
			baseSource: 'input',
			options: { syncId: 'bench' },
		}),
	];
	const workflow = {
		nodes,
		connections: connect(
			...SYSTEMS.map((s, i): [string, string, number, number] => [
				`Records ${s}`,
				'Conflict Check',
				0,
				i,
			]),
			['Base', 'Conflict Check', 0, 3],
			...SYSTEMS.map((s): [string, string] => ['Trigger', `Records ${s}`]),
			['Trigger', 'Base'],
		),
	};
	gc();
	const rssBefore = rssMb();
	const t0 = now();
	const cpu0 = process.cpuUsage();
	const { value: result, profile } = await profiled(`n8n-check-${args.size}`, () =>
		runWorkflow({ workflow, nodeTypes: nodeTypes() }),
	);
	const cpu = process.cpuUsage(cpu0);
	const wallMs = now() - t0;
	if (result.status !== 'success') throw result.error ?? new Error('run failed');
	const peak = maxRssMb();
	const summary = result.output('Conflict Check', 2)[0]?.json as { counts: Record<string, number> };
	const nodeMs = nodeTime(result.runData, 'Conflict Check');
	log(
		`n8n ConflictCheck ${args.size}: node ${nodeMs} ms, wall ${wallMs.toFixed(0)} ms, peak RSS ${peak.toFixed(0)} MB`,
	);
	return {
		size: args.size,
		nodeMs,
		feedMs: SYSTEMS.map((s) => nodeTime(result.runData, `Records ${s}`)).reduce((a, b) => a + b, 0),
		wallMs,
		cpuMs: (cpu.user + cpu.system) / 1000,
		rssBeforeMb: rssBefore,
		peakRssMb: peak,
		peakOverBeforeMb: peak - rssBefore,
		outputs: {
			conflicts: result.output('Conflict Check', 0).length,
			changes: result.output('Conflict Check', 1).length,
		},
		counts: {
			keys: summary.counts.keys,
			conflicts: summary.counts.conflicts,
			changes: summary.counts.changes,
			inSync: summary.counts.inSync,
		},
		...(profile ? { profile } : {}),
	};
}
