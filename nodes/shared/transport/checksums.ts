import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { RecordData } from '../engine';
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
 * Finds where systems differ without reading every record, the way data-diff does: compare the
 * count and content-hash sum of each key range on every system, cut the ranges that differ
 * into segments, and read records only in the small ranges that still differ.
 *
 * A system's checksum endpoint (credential: Range Checksum Path) takes
 * `{ranges: [{from, to}], segments?, records?}` and answers `{ranges: [{from, to, count, hash,
 * range, records?}]}` over its live records (`from` inclusive, `to` exclusive, null = open).
 * Equal checksums mean equal content (id and fields, as the system stores them); a range whose
 * checksums differ only by formatting is read and compared record by record, so it costs bytes,
 * never a wrong answer.
 */

export interface KeyRange {
	from: string | null;
	to: string | null;
}

interface Sum {
	count: number;
	hash: string;
}

interface Pending extends KeyRange {
	sums: Map<string, Sum>;
}

export interface RangeDiffOptions {
	/** Pieces a differing range is cut into at each level. */
	segments: number;
	/** A differing range with at most this many records on every system is read, not cut. */
	leafSize: number;
	concurrency: number;
}

export interface RangeDiffStats {
	levels: number;
	checksumRequests: number;
	rangesCompared: number;
	rangesRead: number;
	recordsRead: number;
	/** Response body bytes, from Content-Length. */
	bytesReceived: number;
	recordsPerSystem: Record<string, number>;
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
const MAX_LEVELS = 40;

/** The system has no checksum endpoint (none configured, or it answered 404/405/501). */
export class NoChecksumsError extends Error {}

function sumOf(raw: IDataObject, system: string): Sum & KeyRange & { range: number } {
	const count = Number(raw.count);
	const bound = (v: unknown) => (v === null || v === undefined ? null : String(v));
	if (!Number.isInteger(count) || count < 0 || typeof raw.hash !== 'string') {
		throw new TransportError(`${system}: checksum answer without count and hash`, system, 1);
	}
	return {
		from: bound(raw.from),
		to: bound(raw.to),
		count,
		hash: raw.hash,
		range: Number(raw.range),
	};
}

export async function diffByRanges(
	ctx: IExecuteFunctions,
	systems: SystemConnection[],
	options: RangeDiffOptions,
	policy: RetryPolicy,
	transport: TransportStats,
): Promise<RangeDiffResult> {
	const stats: RangeDiffStats = {
		levels: 0,
		checksumRequests: 0,
		rangesCompared: 0,
		rangesRead: 0,
		recordsRead: 0,
		bytesReceived: 0,
		recordsPerSystem: {},
	};
	for (const s of systems) {
		if (!s.shape.checksumPath) throw new NoChecksumsError(`${s.name} has no Range Checksum Path`);
	}

	async function post(system: SystemConnection, body: IDataObject): Promise<IDataObject[]> {
		const path = system.shape.checksumPath;
		stats.checksumRequests++;
		const r = await systemRequest(ctx, system, { method: 'POST', path, body }, policy, transport);
		stats.bytesReceived += Number(r.headers['content-length'] ?? 0);
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

	/** Checksums of these ranges on one system, in order. */
	async function sums(system: SystemConnection, ranges: KeyRange[]): Promise<Sum[]> {
		const parts = await mapLimit(chunks(ranges, MAX_RANGES), options.concurrency, async (part) => {
			const answer = await post(system, {
				ranges: part.map(({ from, to }) => ({ from, to })),
			});
			if (answer.length !== part.length) {
				throw new TransportError(
					`${system.name}: asked for ${part.length} range checksums, got ${answer.length}`,
					system.name,
					1,
				);
			}
			return answer.map((a) => sumOf(a, system.name));
		});
		return parts.flat();
	}

	/** The splitter's pieces of these ranges, each with the splitter's checksum. */
	async function split(system: SystemConnection, ranges: KeyRange[]): Promise<Pending[]> {
		const perRequest = Math.max(1, Math.min(MAX_RANGES, Math.floor(MAX_PIECES / options.segments)));
		const parts = await mapLimit(chunks(ranges, perRequest), options.concurrency, async (part) => {
			const answer = await post(system, {
				ranges: part.map(({ from, to }) => ({ from, to })),
				segments: options.segments,
			});
			return answer.map((a) => {
				const { from, to, count, hash } = sumOf(a, system.name);
				return { from, to, sums: new Map([[system.name, { count, hash }]]) } as Pending;
			});
		});
		return parts.flat();
	}

	const equal = (p: Pending) => {
		const [first, ...rest] = systems.map((s) => p.sums.get(s.name)!);
		return rest.every((x) => x.count === first.count && x.hash === first.hash);
	};
	const most = (p: Pending) => Math.max(...systems.map((s) => p.sums.get(s.name)!.count));

	// Level 0: the whole key space on every system.
	const whole: KeyRange = { from: null, to: null };
	let pending: Pending[] = [{ ...whole, sums: new Map() }];
	await Promise.all(
		systems.map(async (s) => {
			const [sum] = await sums(s, [whole]);
			pending[0].sums.set(s.name, sum);
			stats.recordsPerSystem[s.name] = sum.count;
		}),
	);
	const leaves: Pending[] = [];
	while (pending.length > 0) {
		stats.levels++;
		stats.rangesCompared += pending.length;
		const toSplit: Pending[] = [];
		for (const p of pending) {
			if (equal(p)) continue;
			if (most(p) <= options.leafSize) leaves.push(p);
			else toSplit.push(p);
		}
		if (toSplit.length === 0) break;
		if (stats.levels >= MAX_LEVELS) {
			throw new TransportError(
				`range checksums did not narrow the differences down in ${MAX_LEVELS} levels`,
				systems[0].name,
				1,
			);
		}
		// Each range is cut by the system holding the most records in it, so every cut makes progress.
		const bySplitter = new Map<SystemConnection, Pending[]>();
		for (const p of toSplit) {
			const splitter = systems.reduce((a, b) =>
				p.sums.get(b.name)!.count > p.sums.get(a.name)!.count ? b : a,
			);
			const list = bySplitter.get(splitter);
			if (list) list.push(p);
			else bySplitter.set(splitter, [p]);
		}
		const next: Pending[] = [];
		for (const [splitter, ranges] of bySplitter) {
			const pieces = await split(splitter, ranges);
			await Promise.all(
				systems
					.filter((s) => s !== splitter)
					.map(async (s) => {
						(await sums(s, pieces)).forEach((sum, i) => pieces[i].sums.set(s.name, sum));
					}),
			);
			next.push(...pieces);
		}
		pending = next;
	}

	// Read the records of the ranges that still differ, on every system.
	stats.rangesRead = leaves.length;
	const records = new Map<string, RecordData[]>();
	await Promise.all(
		systems.map(async (s) => {
			const batches: Pending[][] = [[]];
			let inBatch = 0;
			for (const leaf of leaves) {
				const n = leaf.sums.get(s.name)!.count;
				if (n === 0) continue;
				const last = batches[batches.length - 1];
				if (last.length > 0 && (inBatch + n > MAX_RECORDS_PER_READ || last.length >= MAX_RANGES)) {
					batches.push([]);
					inBatch = 0;
				}
				batches[batches.length - 1].push(leaf);
				inBatch += n;
			}
			const read = await mapLimit(
				batches.filter((b) => b.length > 0),
				options.concurrency,
				async (batch) => {
					const answer = await post(s, {
						ranges: batch.map(({ from, to }) => ({ from, to })),
						records: true,
					});
					return answer.flatMap((a) =>
						Array.isArray(a.records) ? (a.records as RecordData[]) : [],
					);
				},
			);
			const list = read.flat();
			stats.recordsRead += list.length;
			records.set(s.name, list);
		}),
	);
	return { records, stats };
}
