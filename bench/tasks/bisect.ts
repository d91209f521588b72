/**
 * Part 4b: Sync Validate > Every Record on Every System, by range checksums (bisection, like
 * data-diff), on three demo systems holding `records` keys each, with 0, 10 and 1000 planted
 * differences. Each credential points at a byte-counting proxy in front of its system, so bytes
 * are bytes on the wire (headers included). The same node reading everything (no checksum
 * path) is measured once at sizes up to 100k, as the "read it all" baseline.
 */
import type { INode, INodeParameters } from 'n8n-workflow';

import { connect, node } from '../../test/harness/build.ts';
import { runWorkflow } from '../../test/harness/index.ts';
import { startSystems, type RunningSystem } from '../../test/systems/helpers.ts';
import { baseRecord, keyOf, mulberry32, type Rec } from '../lib/data.ts';
import { gc, log, now } from '../lib/measure.ts';
import {
	credentialFor,
	credentialTypes,
	nodeTime,
	nodeTypes,
	slotRefs,
	SLOTS,
	TEST_TRIGGER_TYPE,
	VALIDATE_TYPE,
} from '../lib/nodes.ts';
import { countingProxy } from '../lib/proxy.ts';
import { admin } from '../lib/sync.ts';

const NAMES = ['system_a', 'system_b', 'system_c'];
const SEED_CHUNK = 5000;

async function seed(system: RunningSystem, records: Rec[]) {
	for (let i = 0; i < records.length; i += SEED_CHUNK)
		await admin(system, '/_admin/seed', { records: records.slice(i, i + SEED_CHUNK) });
}

interface Planted {
	system: string;
	/** Seeded to make the difference, then to undo it. */
	make: Rec;
	undo: Rec;
	key: string;
}

/** `count` differences at seeded random keys: 70% a changed field, 15% missing, 15% extra. */
function plant(count: number, total: number, record: (i: number) => Rec): Planted[] {
	const rnd = mulberry32(count * 7919 + total);
	const used = new Set<number>();
	const out: Planted[] = [];
	while (out.length < count) {
		const i = Math.floor(rnd() * total);
		if (used.has(i)) continue;
		used.add(i);
		const system = rnd() < 0.5 ? 'system_b' : 'system_c';
		const original = record(i);
		const kind = rnd();
		if (kind < 0.7)
			out.push({ system, key: keyOf(i), make: { ...original, tier: 'changed' }, undo: original });
		else if (kind < 0.85)
			out.push({ system, key: keyOf(i), make: { ...original, _deleted: true }, undo: original });
		else {
			const extra = { id: `${keyOf(i)}x`, name: 'only here' };
			out.push({ system, key: extra.id, make: extra, undo: { ...extra, _deleted: true } });
		}
	}
	return out;
}

export async function run(args: { records?: number; diffs?: number[]; fullRead?: boolean }) {
	const total = args.records ?? 100_000;
	const diffCounts = args.diffs ?? [0, 10, 1000];
	const started = await startSystems();
	const proxies = await Promise.all(NAMES.map((n) => countingProxy(started.systems[n].url)));
	try {
		// One dataset, on every system; each system stamps its own versions.
		const rnd = mulberry32(66_066);
		const records = Array.from({ length: total }, (_, i) => baseRecord(i, rnd));
		const t0 = now();
		await Promise.all(NAMES.map((n) => seed(started.systems[n], records)));
		log(`seeded ${total} x 3 in ${Math.round(now() - t0)} ms`);
		// What reading everything would move: the records as the systems serve them (JSON).
		const recordBytes =
			NAMES.length * records.reduce((s, r) => s + Buffer.byteLength(JSON.stringify(r)) + 1, 0);

		const refs = slotRefs(NAMES);
		const measure = async (label: string, checksumPath?: string) => {
			const nodes: INode[] = [
				node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
				node(
					'Validate All',
					VALIDATE_TYPE,
					{
						scope: 'allRecords',
						connectedSystems: 3,
						options: { timeoutMs: 120_000 } as INodeParameters,
					},
					{ credentials: refs },
				),
			];
			const credentials = Object.fromEntries(
				NAMES.map((n, i) => [
					SLOTS[i],
					{
						...credentialFor(started.systems[n], proxies[i].url),
						...(checksumPath !== undefined ? { checksumPath } : {}),
					},
				]),
			);
			for (const p of proxies) p.reset();
			gc();
			const start = now();
			const result = await runWorkflow({
				workflow: { nodes, connections: connect(['Trigger', 'Validate All']) },
				nodeTypes: nodeTypes(),
				credentials,
				credentialTypes,
				mode: 'webhook',
			});
			const wallMs = now() - start;
			if (result.status !== 'success') throw result.error ?? new Error('run failed');
			const report = result.output('Validate All', 0)[0].json as {
				status: string;
				method: string;
				counts: { differences: number };
				differingKeys: string[];
				transfer: {
					levels?: number;
					checksumRequests?: number;
					rangesCompared?: number;
					recordsRead: number;
					requests: number;
				};
			};
			const counts = proxies.map((p) => p.counts());
			const bytes = counts.reduce((s, c) => s + c.up + c.down, 0);
			log(`${label}: ${report.status}, ${report.counts.differences} differences, ${bytes} bytes`);
			return {
				label,
				method: report.method,
				status: report.status,
				differencesFound: report.counts.differences,
				differingKeys: report.differingKeys,
				nodeMs: nodeTime(result.runData, 'Validate All'),
				wallMs,
				requests: report.transfer.requests,
				levels: report.transfer.levels ?? null,
				rangesCompared: report.transfer.rangesCompared ?? null,
				recordsRead: report.transfer.recordsRead,
				bytesUp: counts.reduce((s, c) => s + c.up, 0),
				bytesDown: counts.reduce((s, c) => s + c.down, 0),
				bytes,
				shareOfRecordBytes: bytes / recordBytes,
			};
		};

		const runs = [];
		for (const d of diffCounts) {
			const planted = plant(d, total, (i) => records[i]);
			for (const name of NAMES.slice(1)) {
				const mine = planted.filter((p) => p.system === name);
				if (mine.length)
					await seed(
						started.systems[name],
						mine.map((p) => p.make),
					);
			}
			const m = await measure(`bisection, ${d} differences`);
			const want = [...new Set(planted.map((p) => p.key))].sort();
			const got = [...m.differingKeys].sort();
			// A benchmark of a validator that misses differences would measure nothing.
			if (m.differencesFound !== want.length || (want.length <= 1000 && got.join() !== want.join()))
				throw new Error(`planted ${want.length} differences, found ${m.differencesFound}`);
			runs.push({ ...m, planted: d, differingKeys: undefined });
			for (const name of NAMES.slice(1)) {
				const mine = planted.filter((p) => p.system === name);
				if (mine.length)
					await seed(
						started.systems[name],
						mine.map((p) => p.undo),
					);
			}
		}
		let fullRead;
		if (args.fullRead) {
			const m = await measure('read everything, 0 differences', '');
			fullRead = { ...m, differingKeys: undefined };
		}
		return { records: total, systems: NAMES.length, recordBytes, runs, fullRead };
	} finally {
		await Promise.all(proxies.map((p) => p.close()));
		await started.stop();
	}
}
