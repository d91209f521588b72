/**
 * Part 3: Multi Target Sync writing 10k changed records to one demo system (no faults), inside
 * n8n's execution engine, against a bare HTTP client sending the very same batch requests
 * (POST /records/batch, same batch size, same concurrency, same bodies and idempotency keys).
 * The two alternate in rounds (node, bare / bare, node / ...) on the same freshly seeded data.
 */
import { createHash } from 'node:crypto';

import axios from 'axios';
import type { INode } from 'n8n-workflow';

import { planKey, type PlannedWrite, type ResolvedKey } from '../../nodes/shared/engine/index.ts';
import { runWorkflow } from '../../test/harness/index.ts';
import { connect, node } from '../../test/harness/build.ts';
import { startSystems, type RunningSystem } from '../../test/systems/helpers.ts';
import { baseRecord, mulberry32, WATERMARK_MS, type Rec } from '../lib/data.ts';
import { gc, log, median, now, profiled } from '../lib/measure.ts';
import {
	credentialFor,
	credentialTypes,
	nodeTime,
	nodeTypes,
	provide,
	RECORDS_TYPE,
	slotRefs,
	SYNC_TYPE,
	TEST_TRIGGER_TYPE,
} from '../lib/nodes.ts';
import { mapLimit, readAll, reseed, resolvedItems, stats } from '../lib/sync.ts';

interface Args {
	records?: number;
	batchSize?: number;
	concurrency?: number;
	rounds?: number;
	clients?: Array<'fetch' | 'axios'>;
}

/** The source's version of each record: one compared field changed, updated after the watermark. */
function changed(current: Rec[], seed = 3): Rec[] {
	const rnd = mulberry32(seed);
	return current.map((r) => ({
		id: r.id,
		name: r.name,
		email: r.email,
		tier: `${String(r.tier)}-plus`,
		balance: r.balance,
		city: r.city,
		active: r.active,
		phone: r.phone,
		updated_at: new Date(WATERMARK_MS + 1000 + Math.floor(rnd() * 86_400_000)).toISOString(),
		version: 7,
	}));
}

/** The batch request writeRecords (nodes/shared/transport/records.ts) sends for a chunk. */
function batchRequest(chunk: PlannedWrite[]) {
	const operations = chunk.map((w) => ({
		op: w.op === 'delete' ? 'delete' : 'upsert',
		id: w.key,
		...(w.record ? { record: w.record } : {}),
		...(w.ifMatch !== undefined ? { if_match: w.ifMatch } : {}),
		...(w.ifNoneMatch ? { if_none_match: true } : {}),
		idempotency_key: w.idempotencyKey,
	}));
	const batchKey = createHash('sha256')
		.update(chunk.map((w) => w.idempotencyKey).join(','))
		.digest('base64url')
		.slice(0, 32);
	return { body: { operations }, batchKey };
}

async function bare(
	client: 'fetch' | 'axios',
	system: RunningSystem,
	writes: PlannedWrite[],
	batchSize: number,
	concurrency: number,
): Promise<{ ms: number; cpuMs: number; written: number }> {
	const chunks: PlannedWrite[][] = [];
	for (let i = 0; i < writes.length; i += batchSize) chunks.push(writes.slice(i, i + batchSize));
	const url = `${system.url}/records/batch`;
	const cpu0 = process.cpuUsage();
	const t0 = now();
	const answers = await mapLimit(chunks, concurrency, async (chunk) => {
		const { body, batchKey } = batchRequest(chunk);
		const headers = {
			...system.headers,
			accept: 'application/json',
			'content-type': 'application/json',
			'Idempotency-Key': batchKey,
		};
		if (client === 'axios') {
			const res = await axios.post(url, body, { headers, validateStatus: () => true });
			return res.data as { results: Array<{ status: number }> };
		}
		const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
		return (await res.json()) as { results: Array<{ status: number }> };
	});
	const ms = now() - t0;
	const cpu = process.cpuUsage(cpu0);
	const written = answers
		.flatMap((a) => a.results)
		.filter((r) => r.status >= 200 && r.status < 300).length;
	return { ms, cpuMs: (cpu.user + cpu.system) / 1000, written };
}

export async function run(args: Args) {
	const total = args.records ?? 10_000;
	const batchSize = args.batchSize ?? 100;
	const concurrency = args.concurrency ?? 4;
	const rounds = args.rounds ?? 3;
	const clients = args.clients ?? ['fetch'];
	const started = await startSystems({ names: ['system_b'] });
	try {
		const system = started.systems.system_b;
		const rnd = mulberry32(10_066);
		const original = Array.from({ length: total }, (_, i) => baseRecord(i, rnd));
		await reseed(system, original);
		const current = await readAll(system);
		const source = changed(current);
		// Conflict Resolve's output: every key a clean change from system_a (watermark basis).
		const items = resolvedItems({ system_a: source, system_b: current }, WATERMARK_MS);
		provide('resolved', items);
		const writes = items.flatMap(
			(json) =>
				planKey(json as unknown as ResolvedKey, {
					mode: 'oneWay',
					targets: ['system_b'],
					propagateDeletes: true,
					optimistic: true,
				}).writes,
		);
		if (writes.length !== total)
			throw new Error(`planned ${writes.length} writes, expected ${total}`);
		const nodes: INode[] = [
			node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] }),
			node('Resolved', RECORDS_TYPE, { dataset: 'resolved' }),
			node(
				'Multi Target Sync',
				SYNC_TYPE,
				{
					writeMode: 'write',
					syncType: 'one_way',
					targetSystems: 'system_b',
					connectedSystems: 1,
					options: { batchSize, concurrency },
				},
				{ credentials: slotRefs(['system_b']) },
			),
		];
		const workflow = {
			nodes,
			connections: connect(['Trigger', 'Resolved'], ['Resolved', 'Multi Target Sync']),
		};
		const credentials = { dataSyncSystemApi: credentialFor(system) };

		const viaNode = async (profile = false) => {
			await reseed(system, original);
			gc();
			const cpu0 = process.cpuUsage();
			const t0 = now();
			const go = () =>
				runWorkflow({
					workflow,
					nodeTypes: nodeTypes(),
					credentials,
					credentialTypes,
					mode: 'webhook',
				});
			const { value: result, profile: summary } = profile
				? await profiled(`writes-multiTargetSync-${total}`, go)
				: { value: await go(), profile: undefined };
			if (summary) profileSummary = summary;
			const wallMs = now() - t0;
			const cpu = process.cpuUsage(cpu0);
			if (result.status !== 'success') throw result.error ?? new Error('run failed');
			const outcomes = result.output('Multi Target Sync', 0).map((i) => i.json.outcome);
			const written = outcomes.filter((o) => o === 'written').length;
			const applied = (await stats(system)).applied_writes;
			if (written !== total || applied !== total)
				throw new Error(`node wrote ${written} (system applied ${applied}) of ${total}`);
			return {
				ms: nodeTime(result.runData, 'Multi Target Sync'),
				wallMs,
				cpuMs: (cpu.user + cpu.system) / 1000,
			};
		};
		const viaBare = async (client: 'fetch' | 'axios') => {
			await reseed(system, original);
			gc();
			const r = await bare(client, system, writes, batchSize, concurrency);
			const applied = (await stats(system)).applied_writes;
			if (r.written !== total || applied !== total)
				throw new Error(`${client} wrote ${r.written} (system applied ${applied}) of ${total}`);
			return r;
		};

		let profileSummary: Awaited<ReturnType<typeof profiled>>['profile'];
		// Warm both paths once on the whole set (JIT, sockets, SQLite pages), not counted.
		await viaNode();
		for (const c of clients) await viaBare(c);

		const runs: Array<{ round: number; who: string; ms: number; cpuMs: number }> = [];
		for (let round = 1; round <= rounds; round++) {
			const order: string[] =
				round % 2 ? ['node', ...clients] : [...clients.slice().reverse(), 'node'];
			for (const who of order) {
				const r = who === 'node' ? await viaNode() : await viaBare(who as 'fetch' | 'axios');
				runs.push({ round, who, ms: r.ms, cpuMs: r.cpuMs });
				log(
					`writes round ${round} ${who}: ${r.ms.toFixed(0)} ms (${((total / r.ms) * 1000).toFixed(0)} writes/s)`,
				);
			}
		}
		// Under BENCH_PROFILE_DIR: one more node run, CPU-profiled, after the measured rounds.
		if (process.env.BENCH_PROFILE_DIR) await viaNode(true);
		const of = (who: string) => runs.filter((r) => r.who === who);
		const rate = (ms: number) => (total / ms) * 1000;
		const summary = Object.fromEntries(
			['node', ...clients].map((who) => {
				const ms = median(of(who).map((r) => r.ms));
				return [
					who,
					{
						medianMs: ms,
						writesPerSec: rate(ms),
						clientCpuMs: median(of(who).map((r) => r.cpuMs)),
					},
				];
			}),
		);
		const ceiling = clients.includes('fetch') ? 'fetch' : clients[0];
		// Per round: node time against the ceiling's time in the same round.
		const perRound = Array.from({ length: rounds }, (_, i) => {
			const n = runs.find((r) => r.round === i + 1 && r.who === 'node')!;
			const c = runs.find((r) => r.round === i + 1 && r.who === ceiling)!;
			return c.ms / n.ms;
		});
		return {
			records: total,
			batchSize,
			concurrency,
			rounds,
			requestsPerRun: Math.ceil(total / batchSize),
			runs,
			summary,
			ceilingClient: ceiling,
			ratio: summary[ceiling].medianMs / summary.node.medianMs,
			ratioPerRound: perRound,
			...(profileSummary ? { profile: profileSummary } : {}),
		};
	} finally {
		await started.stop();
	}
}
