import {
	differingLeaves,
	MAX_BISECT_LEVELS,
	type BisectStats,
	type DifferingLeaf,
	type KeyRange,
	type RangeSource,
} from './bisect';

/**
 * The plan of a partitioned sync: which key ranges to reconcile, each in its own execution, found
 * from range checksums alone (no record is read). Only ranges that differ are planned; on a first
 * sync (a system empty, or very different) that is every range, cut so that no system holds more
 * than `maxKeys` records in any of them.
 */

/** A range to reconcile, with the live records each system holds in it. */
export interface DifferingRange extends KeyRange {
	counts: Record<string, number>;
}

export interface PartitionOptions {
	/** Pieces a range too big to reconcile at once is cut into at each level. */
	segments: number;
	/** The most records any system may hold in one planned range (at least 1). */
	maxKeys: number;
	/** Levels before giving up (default 40). */
	maxLevels?: number;
	/** Plan within this range only (default: the whole key space). */
	within?: KeyRange;
}

export interface PartitionPlan {
	/** In key order, disjoint, together holding every differing key. */
	ranges: DifferingRange[];
	stats: Omit<BisectStats, 'rangesRead' | 'recordsRead'>;
}

/** Key order as the systems sort keys: UTF-8 bytes (a null `from` is the start of the key space). */
function compareFrom(a: KeyRange, b: KeyRange): number {
	if (a.from === null || b.from === null) return a.from === b.from ? 0 : a.from === null ? -1 : 1;
	return Buffer.compare(Buffer.from(a.from, 'utf8'), Buffer.from(b.from, 'utf8'));
}

const countsOf = (leaf: DifferingLeaf, systems: string[]) =>
	Object.fromEntries(systems.map((s) => [s, leaf.sums.get(s)!.count]));

/**
 * Adjacent differing ranges joined while the join holds at most maxKeys records on all systems
 * together: a cut makes pieces of about a segment each, so a first sync would otherwise plan many
 * small ranges (executions) where a few full ones do. Counting every system's records (not only
 * the largest count) keeps a joined range's distinct keys within maxKeys too, whatever keys only
 * some systems hold.
 */
function packAdjacent(ranges: DifferingRange[], systems: string[], maxKeys: number) {
	const packed: DifferingRange[] = [];
	for (const range of ranges) {
		const last = packed[packed.length - 1];
		const joinable =
			last !== undefined &&
			last.to !== null &&
			last.to === range.from &&
			systems.reduce((n, s) => n + last.counts[s] + range.counts[s], 0) <= maxKeys;
		if (!joinable) packed.push({ ...range, counts: { ...range.counts } });
		else {
			last.to = range.to;
			for (const s of systems) last.counts[s] += range.counts[s];
		}
	}
	return packed;
}

/** The ranges to reconcile, in key order, with the figures of the search. */
export async function planPartitions(
	source: RangeSource,
	systems: string[],
	options: PartitionOptions,
): Promise<PartitionPlan> {
	if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1)
		throw new RangeError(`maxKeys must be a whole number of at least 1, not ${options.maxKeys}`);
	if (systems.length < 2) throw new RangeError('planning ranges needs at least two systems');
	const { leaves, stats } = await differingLeaves(systems, source, {
		segments: options.segments,
		leafSize: options.maxKeys,
		maxLevels: options.maxLevels ?? MAX_BISECT_LEVELS,
		within: options.within,
	});
	const ranges = leaves
		.map((leaf) => ({ from: leaf.from, to: leaf.to, counts: countsOf(leaf, systems) }))
		.sort(compareFrom);
	const { levels, rangesCompared, recordsPerSystem } = stats;
	return {
		ranges: packAdjacent(ranges, systems, options.maxKeys),
		stats: { levels, rangesCompared, recordsPerSystem },
	};
}

/**
 * The key ranges whose checksums differ between the systems, in key order, none holding more than
 * maxKeys records on any system: every differing key in exactly one of them.
 */
export async function differingRanges(
	source: RangeSource,
	systems: string[],
	options: PartitionOptions,
): Promise<DifferingRange[]> {
	return (await planPartitions(source, systems, options)).ranges;
}
