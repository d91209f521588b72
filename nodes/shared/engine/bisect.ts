import type { RecordData } from './canonical';

/**
 * Finds where systems differ without reading every record, the way data-diff does: compare the
 * count and content hash of each key range on every system, cut the ranges that differ into
 * segments, and read records only in the small ranges that still differ.
 *
 * The systems are reached through a `RangeSource` (over HTTP: transport/checksums.ts; in tests: in
 * memory). Equal checksums mean equal content; a range whose checksums differ only by formatting
 * is read and compared record by record, so it costs bytes, never a wrong answer.
 */

/** Keys from `from` (inclusive) to `to` (exclusive); null = open. */
export interface KeyRange {
	from: string | null;
	to: string | null;
}

/** A range's live records on one system: how many, and a hash of their content. */
export interface RangeSum {
	count: number;
	hash: string;
}

/** What bisection asks of the systems. */
export interface RangeSource {
	/** Checksums of these ranges on one system, in order. */
	sums(system: string, ranges: KeyRange[]): Promise<RangeSum[]>;
	/** This system's cut of each range into about `segments` pieces, each with its checksum there. */
	split(system: string, ranges: KeyRange[], segments: number): Promise<Array<KeyRange & RangeSum>>;
	/** This system's live records in these ranges (`count`: how many it holds in each). */
	records(system: string, ranges: Array<KeyRange & { count: number }>): Promise<RecordData[]>;
}

export interface BisectOptions {
	/** Pieces a differing range is cut into at each level. */
	segments: number;
	/** A differing range with at most this many records on every system is read, not cut. */
	leafSize: number;
	/** Levels before giving up (default 40). */
	maxLevels?: number;
}

export interface BisectStats {
	levels: number;
	rangesCompared: number;
	rangesRead: number;
	recordsRead: number;
	/** Live records per system, in the systems' order. */
	recordsPerSystem: Record<string, number>;
}

export interface BisectResult {
	/** Each system's live records in the ranges that differ (systems' order): compare these key by key. */
	records: Map<string, RecordData[]>;
	stats: BisectStats;
}

/** The checksums did not narrow the differences down within the levels allowed. */
export class BisectError extends Error {}

export const MAX_BISECT_LEVELS = 40;

/** A range, with its checksum on each system. */
interface Pending extends KeyRange {
	sums: Map<string, RangeSum>;
}

const sumOn = (p: Pending, system: string) => p.sums.get(system)!;

function equalEverywhere(p: Pending, systems: string[]): boolean {
	const [first, ...rest] = systems.map((s) => sumOn(p, s));
	return rest.every((x) => x.count === first.count && x.hash === first.hash);
}

/** The system holding the most records in the range (the first on ties): its cut always makes progress. */
function splitterOf(p: Pending, systems: string[]): string {
	return systems.reduce((a, b) => (sumOn(p, b).count > sumOn(p, a).count ? b : a));
}

/** Level 0: the range to look in (the whole key space by default) on every system. */
async function startRange(
	systems: string[],
	source: RangeSource,
	within: KeyRange = { from: null, to: null },
): Promise<Pending> {
	const start: Pending = { from: within.from, to: within.to, sums: new Map() };
	const sums = await Promise.all(systems.map(async (s) => (await source.sums(s, [start]))[0]));
	systems.forEach((s, i) => start.sums.set(s, sums[i]));
	return start;
}

/** The next level: each range cut by its splitter, every piece summed on the other systems. */
async function cut(
	toSplit: Pending[],
	systems: string[],
	source: RangeSource,
	segments: number,
): Promise<Pending[]> {
	const bySplitter = new Map<string, Pending[]>();
	for (const p of toSplit) {
		const splitter = splitterOf(p, systems);
		const list = bySplitter.get(splitter);
		if (list) list.push(p);
		else bySplitter.set(splitter, [p]);
	}
	const next: Pending[] = [];
	for (const [splitter, ranges] of bySplitter) {
		const pieces: Pending[] = (await source.split(splitter, ranges, segments)).map(
			({ from, to, count, hash }) => ({ from, to, sums: new Map([[splitter, { count, hash }]]) }),
		);
		await Promise.all(
			systems
				.filter((s) => s !== splitter)
				.map(async (s) => {
					(await source.sums(s, pieces)).forEach((sum, i) => pieces[i].sums.set(s, sum));
				}),
		);
		next.push(...pieces);
	}
	return next;
}

/** The differing ranges small enough to read, level by level. */
async function narrow(
	start: Pending,
	systems: string[],
	source: RangeSource,
	options: BisectOptions,
	stats: BisectStats,
): Promise<Pending[]> {
	const maxLevels = options.maxLevels ?? MAX_BISECT_LEVELS;
	const leaves: Pending[] = [];
	let pending = [start];
	while (pending.length > 0) {
		stats.levels++;
		stats.rangesCompared += pending.length;
		const toSplit: Pending[] = [];
		for (const p of pending) {
			if (equalEverywhere(p, systems)) continue;
			const most = Math.max(...systems.map((s) => sumOn(p, s).count));
			if (most <= options.leafSize) leaves.push(p);
			else toSplit.push(p);
		}
		if (toSplit.length === 0) break;
		if (stats.levels >= maxLevels) {
			throw new BisectError(
				`range checksums did not narrow the differences down in ${maxLevels} levels`,
			);
		}
		pending = await cut(toSplit, systems, source, options.segments);
	}
	return leaves;
}

/** A range whose checksums differ, with its checksum on each system. */
export interface DifferingLeaf extends KeyRange {
	sums: Map<string, RangeSum>;
}

/**
 * The ranges within `within` (default: the whole key space) whose checksums differ, each cut until
 * no system holds more than leafSize records in it; in no particular order. Together they hold
 * every differing key once: the pieces of a cut cover their range exactly, and only ranges equal
 * on every system are dropped. `recordsPerSystem` counts what each system holds within `within`.
 */
export async function differingLeaves(
	systems: string[],
	source: RangeSource,
	options: BisectOptions & { within?: KeyRange },
): Promise<{ leaves: DifferingLeaf[]; stats: BisectStats }> {
	const stats: BisectStats = {
		levels: 0,
		rangesCompared: 0,
		rangesRead: 0,
		recordsRead: 0,
		recordsPerSystem: {},
	};
	const start = await startRange(systems, source, options.within);
	for (const s of systems) stats.recordsPerSystem[s] = sumOn(start, s).count;
	const leaves = await narrow(start, systems, source, options, stats);
	return { leaves, stats };
}

/** Which ranges differ between the systems, and every system's records in them. */
export async function bisectRanges(
	systems: string[],
	source: RangeSource,
	options: BisectOptions,
): Promise<BisectResult> {
	const { leaves, stats } = await differingLeaves(systems, source, options);

	stats.rangesRead = leaves.length;
	const read = await Promise.all(
		systems.map(async (s) => {
			const held = leaves
				.map(({ from, to, sums }) => ({ from, to, count: sums.get(s)!.count }))
				.filter((r) => r.count > 0);
			return held.length ? await source.records(s, held) : [];
		}),
	);
	const records = new Map<string, RecordData[]>();
	systems.forEach((s, i) => {
		records.set(s, read[i]);
		stats.recordsRead += read[i].length;
	});
	return { records, stats };
}
