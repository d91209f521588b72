import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import {
	bisectRanges,
	planPartitions,
	type BisectStats,
	type DifferingRange,
	type KeyRange,
	type PartitionPlan,
	type RangeSource,
	type RangeSum,
	type RecordData,
} from '../engine';
import type { SystemConnection } from './systems';
import {
	chunks,
	expectSuccess,
	mapLimit,
	systemRequest,
	TransportError,
	type RetryPolicy,
	type TransportStats,
} from './request';

/**
 * Range checksums over HTTP, for the engine's bisection (engine/bisect.ts).
 *
 * A system's checksum endpoint (credential: Range Checksum Path) takes
 * `{ranges: [{from, to}], segments?, records?}` and answers `{ranges: [{from, to, count, hash,
 * range, records?}]}` over its live records (`from` inclusive, `to` exclusive, null = open).
 */

export interface RangeDiffOptions {
	/** Pieces a differing range is cut into at each level. */
	segments: number;
	/** A differing range with at most this many records on every system is read, not cut. */
	leafSize: number;
	concurrency: number;
}

export interface RangeDiffStats extends BisectStats {
	checksumRequests: number;
	/** Response body bytes, from Content-Length. */
	bytesReceived: number;
}

export interface PlanOptions {
	/** Pieces a range too big to plan is cut into at each level. */
	segments: number;
	/** The most live records any one system may hold in a planned range. */
	maxKeys: number;
	concurrency: number;
}

/** Checksum traffic. */
interface ChecksumCounters {
	checksumRequests: number;
	/** Response body bytes, from Content-Length. */
	bytesReceived: number;
}

export interface PartitionResult {
	/** In key order, disjoint, together holding every differing key. */
	ranges: DifferingRange[];
	stats: PartitionPlan['stats'] & ChecksumCounters;
}

export interface RangeDiffResult {
	/** Each system's live records in the ranges that differ: compare these key by key. */
	records: Map<string, RecordData[]>;
	stats: RangeDiffStats;
}

/** Most ranges per request, and most (ranges x segments): the demo systems' limits. */
const MAX_RANGES = 1000;
const MAX_PIECES = 10000;
/** Most records asked for in one read request (the demo systems refuse more than 5000). */
const MAX_RECORDS_PER_READ = 4000;

/** The system has no checksum endpoint (none configured, or it answered 404/405/501). */
export class NoChecksumsError extends Error {}

function sumOf(raw: IDataObject, system: string): RangeSum & KeyRange {
	const count = Number(raw.count);
	const bound = (v: unknown) => (v === null || v === undefined ? null : String(v));
	if (!Number.isInteger(count) || count < 0 || typeof raw.hash !== 'string') {
		throw new TransportError(`${system}: checksum answer without count and hash`, system, 1);
	}
	return { from: bound(raw.from), to: bound(raw.to), count, hash: raw.hash };
}

const bounds = (ranges: KeyRange[]) => ranges.map(({ from, to }) => ({ from, to }));

/** Reads in as few requests as the limits allow: at most MAX_RANGES ranges, MAX_RECORDS_PER_READ records. */
function readBatches<T extends { count: number }>(ranges: T[]): T[][] {
	const batches: T[][] = [];
	let inBatch = 0;
	for (const range of ranges) {
		const last = batches[batches.length - 1];
		if (!last || inBatch + range.count > MAX_RECORDS_PER_READ || last.length >= MAX_RANGES) {
			batches.push([range]);
			inBatch = range.count;
		} else {
			last.push(range);
			inBatch += range.count;
		}
	}
	return batches;
}

/** The checksum endpoints of these systems, as the engine's RangeSource; counts go into `counters`. */
export function httpRangeSource(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: { concurrency: number },
	policy: RetryPolicy,
	transport: TransportStats,
	counters: ChecksumCounters,
): RangeSource {
	const byName = new Map(systems.map((s) => [s.name, s]));

	async function post(name: string, body: IDataObject): Promise<IDataObject[]> {
		const system = byName.get(name)!;
		const path = system.shape.checksumPath;
		counters.checksumRequests++;
		const r = await systemRequest(ctx, system, { method: 'POST', path, body }, policy, transport);
		counters.bytesReceived += Number(r.headers['content-length'] ?? 0);
		if (r.status === 404 || r.status === 405 || r.status === 501) {
			throw new NoChecksumsError(`${system.name}: POST ${path} answered HTTP ${r.status}`);
		}
		expectSuccess(system, `POST ${path}`, r);
		if (!Array.isArray(r.body.ranges)) {
			throw new TransportError(
				`${system.name}: POST ${path} answered without "ranges"`,
				system.name,
				r.attempts,
				r.status,
			);
		}
		return r.body.ranges as IDataObject[];
	}

	const inParts = async <T, R>(list: T[], size: number, task: (part: T[]) => Promise<R[]>) =>
		(await mapLimit(chunks(list, size), options.concurrency, task)).flat();

	return {
		sums: async (system, ranges) =>
			await inParts(ranges, MAX_RANGES, async (part) => {
				const answer = await post(system, { ranges: bounds(part) });
				if (answer.length !== part.length) {
					throw new TransportError(
						`${system}: asked for ${part.length} range checksums, got ${answer.length}`,
						system,
						1,
					);
				}
				return answer.map((a) => sumOf(a, system));
			}),
		split: async (system, ranges, segments) =>
			await inParts(
				ranges,
				Math.max(1, Math.min(MAX_RANGES, Math.floor(MAX_PIECES / segments))),
				async (part) => {
					const answer = await post(system, { ranges: bounds(part), segments });
					return answer.map((a) => sumOf(a, system));
				},
			),
		records: async (system, ranges) =>
			(
				await mapLimit(readBatches(ranges), options.concurrency, async (batch) => {
					const answer = await post(system, { ranges: bounds(batch), records: true });
					return answer.flatMap((a) =>
						Array.isArray(a.records) ? (a.records as RecordData[]) : [],
					);
				})
			).flat(),
	};
}

/** The checksum endpoints of these systems, or NoChecksumsError naming one that has none. */
function checksumSource(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: { concurrency: number },
	policy: RetryPolicy,
	transport: TransportStats,
): { source: RangeSource; counters: ChecksumCounters } {
	for (const s of systems) {
		if (!s.shape.checksumPath) throw new NoChecksumsError(`${s.name} has no Range Checksum Path`);
	}
	const counters = { checksumRequests: 0, bytesReceived: 0 };
	return { source: httpRangeSource(ctx, systems, options, policy, transport, counters), counters };
}

/**
 * Where these systems differ, by range checksums (engine bisectRanges over their checksum
 * endpoints). Throws NoChecksumsError when a system has none.
 */
export async function diffByRanges(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: RangeDiffOptions,
	policy: RetryPolicy,
	transport: TransportStats,
): Promise<RangeDiffResult> {
	const { source, counters } = checksumSource(ctx, systems, options, policy, transport);
	const { records, stats } = await bisectRanges(
		systems.map((s) => s.name),
		source,
		options,
	);
	return { records, stats: { ...stats, ...counters } };
}

/**
 * The key ranges to reconcile, from these systems' range checksums alone (engine planPartitions):
 * no record is read. Throws NoChecksumsError when a system has none.
 */
export async function planByRanges(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: PlanOptions,
	policy: RetryPolicy,
	transport: TransportStats,
): Promise<PartitionResult> {
	const { source, counters } = checksumSource(ctx, systems, options, policy, transport);
	const { ranges, stats } = await planPartitions(
		source,
		systems.map((s) => s.name),
		options,
	);
	return { ranges, stats: { ...stats, ...counters } };
}
