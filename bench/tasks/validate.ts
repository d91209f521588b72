/**
 * Part 4: what Sync Validate's read-back costs today on 10k keys that are already equal on all
 * three demo systems: Multi Target Sync (nothing to write: every key `unchanged`) -> Sync
 * Validate, which reads every system back for the synced keys. Each credential points at a
 * byte-counting proxy in front of its system, so the bytes are the bytes on the wire.
 */
import type { INode } from 'n8n-workflow';

import { canonicalRecord, ignoredFields } from '../../nodes/shared/engine/index.ts';
import { runWorkflow } from '../../test/harness/index.ts';
import { connect, node } from '../../test/harness/build.ts';
import { startSystems } from '../../test/systems/helpers.ts';
import { baseRecord, mulberry32 } from '../lib/data.ts';
import { gc, log, median, now } from '../lib/measure.ts';
import {
	credentialFor,
	credentialTypes,
	nodeTime,
	nodeTypes,
	provide,
	RECORDS_TYPE,
	slotRefs,
	SLOTS,
	SYNC_TYPE,
	TEST_TRIGGER_TYPE,
	VALIDATE_TYPE,
} from '../lib/nodes.ts';
import { countingProxy } from '../lib/proxy.ts';
import { readAll, reseed, resolvedItems, SPEC, stats } from '../lib/sync.ts';

const NAMES = ['system_a', 'system_b', 'system_c'];

export async function run(args: { records?: number; rounds?: number }) {
	const total = args.records ?? 10_000;
	const rounds = args.rounds ?? 3;
	const started = await startSystems();
	const proxies = await Promise.all(NAMES.map((n) => countingProxy(started.systems[n].url)));
	try {
		const rnd = mulberry32(20_066);
		const original = Array.from({ length: total }, (_, i) => baseRecord(i, rnd));
		await Promise.all(NAMES.map((n) => reseed(started.systems[n], original)));
		const current = Object.fromEntries(
			await Promise.all(NAMES.map(async (n) => [n, await readAll(started.systems[n])] as const)),
		);
		// The resolved items of a sync whose writes all landed: every system holds the resolution.
		const items = resolvedItems(current, undefined);
		provide('resolved', items);
		const refs = slotRefs(NAMES);
		const nodes: INode[] = [
			node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
			node('Resolved', RECORDS_TYPE, { dataset: 'resolved' }),
			node(
				'Multi Target Sync',
				SYNC_TYPE,
				{
					writeMode: 'write',
					syncType: 'bidirectional',
					targetSystems: 'system_b, system_c',
					connectedSystems: 3,
				},
				{ credentials: refs },
			),
			node(
				'Sync Validate',
				VALIDATE_TYPE,
				{ connectedSystems: 3, baseTarget: 'output' },
				{ credentials: refs },
			),
		];
		const workflow = {
			nodes,
			connections: connect(
				['Trigger', 'Resolved'],
				['Resolved', 'Multi Target Sync'],
				['Multi Target Sync', 'Sync Validate'],
			),
		};
		const credentials = Object.fromEntries(
			NAMES.map((n, i) => [SLOTS[i], credentialFor(started.systems[n], proxies[i].url)]),
		);
		// What the data is worth: the records' JSON as the systems hold them, and their fingerprints.
		const recordBytes = NAMES.reduce(
			(sum, n) => sum + current[n].reduce((s, r) => s + Buffer.byteLength(JSON.stringify(r)), 0),
			0,
		);
		const ignored = ignoredFields(SPEC);
		const canonicalBytes = current.system_a.reduce(
			(s, r) => s + Buffer.byteLength(canonicalRecord(r, ignored)),
			0,
		);

		const once = async () => {
			for (const p of proxies) p.reset();
			const before = await Promise.all(NAMES.map((n) => stats(started.systems[n])));
			gc();
			const t0 = now();
			const result = await runWorkflow({
				workflow,
				nodeTypes: nodeTypes(),
				credentials,
				credentialTypes,
				mode: 'webhook',
			});
			const wallMs = now() - t0;
			if (result.status !== 'success') throw result.error ?? new Error('run failed');
			const report = result.output('Sync Validate', 0)[0].json as {
				status: string;
				counts: { validate: { passed: number }; sync: { written: number } };
				transport: { validate: { requests: number } };
			};
			if (report.counts.sync.written !== 0 || report.counts.validate.passed !== total)
				throw new Error(`unexpected report: ${JSON.stringify(report.counts)}`);
			const after = await Promise.all(NAMES.map((n) => stats(started.systems[n])));
			const counts = proxies.map((p) => p.counts());
			return {
				validateMs: nodeTime(result.runData, 'Sync Validate'),
				syncMs: nodeTime(result.runData, 'Multi Target Sync'),
				wallMs,
				status: report.status,
				requests: after.reduce((s, a, i) => s + a.requests - before[i].requests, 0),
				bytesUp: counts.reduce((s, c) => s + c.up, 0),
				bytesDown: counts.reduce((s, c) => s + c.down, 0),
			};
		};
		await once(); // warm-up, not counted
		const runs = [];
		for (let r = 0; r < rounds; r++) {
			runs.push(await once());
			log(`validate round ${r + 1}: ${runs.at(-1)!.validateMs} ms`);
		}
		const last = runs.at(-1)!;
		const keysRead = total * NAMES.length;
		return {
			records: total,
			systems: NAMES.length,
			keysRead,
			runs,
			validateMedianMs: median(runs.map((r) => r.validateMs)),
			requests: last.requests,
			bytesUp: last.bytesUp,
			bytesDown: last.bytesDown,
			bytesPerKeyRead: (last.bytesUp + last.bytesDown) / keysRead,
			recordJsonBytes: recordBytes,
			canonicalBytesPerSystem: canonicalBytes,
			/** A read-back that exchanged one 22-character fingerprint per key and system instead. */
			fingerprintOnlyBytes: keysRead * (22 + 3),
		};
	} finally {
		await Promise.all(proxies.map((p) => p.close()));
		await started.stop();
	}
}
