import {
	BisectError,
	differingRanges,
	planPartitions,
	type DifferingRange,
	type KeyRange,
	type RangeSource,
} from '../../nodes/shared/engine';
import { memorySource, type Store } from './memoryRanges';

const id = (i: number) => `k${String(i).padStart(5, '0')}`;
const records = (n: number, from = 0) =>
	Array.from({ length: n }, (_, i) => ({ id: id(from + i), v: from + i }));

const inRange = (key: string, r: KeyRange) =>
	(r.from === null || key >= r.from) && (r.to === null || key < r.to);

/** Keys whose record is not the same on every system (absent on some, or other values). */
function differingKeys(stores: Store): string[] {
	const texts = Object.values(stores).map(
		(list) => new Map(list.map((r) => [String(r.id), JSON.stringify(r)])),
	);
	const all = new Set(texts.flatMap((byKey) => [...byKey.keys()]));
	return [...all].filter((key) => texts.some((byKey) => byKey.get(key) !== texts[0].get(key)));
}

/** In key order, no two overlapping, each differing key in exactly one, counts as held. */
function expectAPlan(ranges: DifferingRange[], stores: Store, maxKeys: number) {
	for (let i = 1; i < ranges.length; i++) {
		expect(ranges[i - 1].to).not.toBeNull();
		expect(ranges[i].from).not.toBeNull();
		expect(ranges[i - 1].to! <= ranges[i].from!).toBe(true);
	}
	const notOnce = differingKeys(stores).filter(
		(key) => ranges.filter((r) => inRange(key, r)).length !== 1,
	);
	expect(notOnce).toEqual([]);
	for (const r of ranges) {
		const held = Object.fromEntries(
			Object.entries(stores).map(([s, list]) => [
				s,
				list.filter((x) => inRange(String(x.id), r)).length,
			]),
		);
		expect(r.counts).toEqual(held);
		expect(Math.max(...Object.values(r.counts))).toBeLessThanOrEqual(maxKeys);
	}
}

describe('differingRanges: the ranges a partitioned sync reconciles', () => {
	test('equal systems: no range, after one checksum per system', async () => {
		const { source, calls } = memorySource({ a: records(5000), b: records(5000) });
		const plan = await planPartitions(source, ['a', 'b'], { segments: 16, maxKeys: 100 });
		expect(plan.ranges).toEqual([]);
		expect(plan.stats).toEqual({
			levels: 1,
			rangesCompared: 1,
			recordsPerSystem: { a: 5000, b: 5000 },
		});
		expect(calls.sums).toHaveLength(2);
		expect(calls.split).toEqual([]);
		expect(calls.records).toEqual([]);
	});

	test('first sync (one system empty): every key planned, in ranges of at most maxKeys', async () => {
		const stores = { a: records(10_000), b: [] };
		const { source, calls } = memorySource(stores);
		const ranges = await differingRanges(source, ['a', 'b'], { segments: 16, maxKeys: 1000 });
		expectAPlan(ranges, stores, 1000);
		expect(ranges.reduce((n, r) => n + r.counts.a, 0)).toBe(10_000);
		expect(ranges.every((r) => r.counts.b === 0)).toBe(true);
		// The whole key space, open at both ends, with no gap.
		expect(ranges[0].from).toBeNull();
		expect(ranges[ranges.length - 1].to).toBeNull();
		for (let i = 1; i < ranges.length; i++) expect(ranges[i].from).toBe(ranges[i - 1].to);
		expect(ranges.length).toBeGreaterThanOrEqual(10);
		// Cut by the system that holds the records; no record read.
		expect(calls.split.map((c) => c.system)).toEqual(['a']);
		expect(calls.records).toEqual([]);
	});

	test('adjacent differing pieces are joined up to maxKeys: fewer, fuller ranges', async () => {
		const stores = { a: records(1001), b: [] };
		const { source } = memorySource(stores);
		// 1001 records cut in 16 pieces of about 63: joined back into two ranges.
		const ranges = await differingRanges(source, ['a', 'b'], { segments: 16, maxKeys: 1000 });
		expectAPlan(ranges, stores, 1000);
		expect(ranges).toHaveLength(2);
		expect(ranges[0].counts.a).toBeGreaterThan(900);
	});

	test('a join never holds more than maxKeys records on all systems together', async () => {
		// Keys 0-199 on a, the same on b up to 59, and 15 keys only c holds, after a's last key.
		const a = records(200);
		const stores = { a, b: a.slice(0, 60), c: records(15, 300) };
		const { source } = memorySource(stores);
		const ranges = await differingRanges(source, ['a', 'b', 'c'], { segments: 16, maxKeys: 40 });
		expectAPlan(ranges, stores, 40);
		const keysIn = (r: DifferingRange) =>
			new Set(
				Object.values(stores).flatMap((list) =>
					list.filter((x) => inRange(String(x.id), r)).map((x) => x.id),
				),
			).size;
		for (const r of ranges) expect(keysIn(r)).toBeLessThanOrEqual(40);
		// Where a alone holds the keys, pieces of 12 or 13 are joined three by three.
		expect(ranges.length).toBeLessThan(16);
	});

	test('a few scattered differences: a few small ranges, each holding one of them', async () => {
		const edited = [id(42), id(2500), id(4999)];
		const b = records(5000).map((r) => (edited.includes(r.id) ? { ...r, v: -1 } : r));
		const c = records(5000).filter((r) => r.id !== id(2500));
		const stores = { a: records(5000), b, c };
		const { source } = memorySource(stores);
		const ranges = await differingRanges(source, ['a', 'b', 'c'], { segments: 8, maxKeys: 50 });
		expectAPlan(ranges, stores, 50);
		expect(ranges).toHaveLength(3);
		for (const [i, key] of edited.entries()) expect(inRange(key, ranges[i])).toBe(true);
	});

	test('within: only the differences inside the range are planned, inside its bounds', async () => {
		const b = records(2000).map((r, i) => (i % 100 === 0 ? { ...r, v: -1 } : r));
		const { source } = memorySource({ a: records(2000), b });
		const within = { from: id(500), to: id(1000) };
		const plan = await planPartitions(source, ['a', 'b'], { segments: 4, maxKeys: 20, within });
		expect(plan.stats.recordsPerSystem).toEqual({ a: 500, b: 500 });
		const keys = [500, 600, 700, 800, 900].map(id);
		expect(plan.ranges).toHaveLength(keys.length);
		plan.ranges.forEach((r, i) => {
			expect(inRange(keys[i], r)).toBe(true);
			expect(r.from! >= within.from && r.to! <= within.to).toBe(true);
		});
	});

	test('checksums that never narrow a range down stop after maxLevels, with the reason', async () => {
		const { source } = memorySource({ a: records(100), b: records(100, 1) });
		const stuck: RangeSource = {
			...source,
			split: async (system, ranges) =>
				await source
					.sums(system, ranges)
					.then((sums) => ranges.map((r, i) => ({ ...r, ...sums[i] }))),
		};
		const run = differingRanges(stuck, ['a', 'b'], { segments: 4, maxKeys: 10, maxLevels: 6 });
		await expect(run).rejects.toThrow(BisectError);
		await expect(run).rejects.toThrow('did not narrow the differences down in 6 levels');
	});

	test.each([0, -1, 2.5])('maxKeys %p is refused', async (maxKeys) => {
		const { source } = memorySource({ a: records(3), b: [] });
		await expect(differingRanges(source, ['a', 'b'], { segments: 4, maxKeys })).rejects.toThrow(
			/maxKeys must be a whole number of at least 1/,
		);
	});

	test('random systems: every differing key in exactly one range, none overlapping or too big', async () => {
		const random = seeded(66);
		for (let trial = 0; trial < 40; trial++) {
			const universe = records(1 + Math.floor(random() * 600));
			const copy = () =>
				universe
					.filter(() => random() > 0.05)
					.map((r) => (random() < 0.03 ? { ...r, v: Math.floor(random() * 1e6) } : r));
			// Now and then a system nearly empty, or holding a block of its own.
			const stores: Store = {
				a: copy(),
				b: random() < 0.2 ? copy().slice(0, 3) : copy(),
				c: [...copy(), ...(random() < 0.3 ? records(50, 90_000) : [])],
			};
			const segments = 2 + Math.floor(random() * 15);
			const maxKeys = 1 + Math.floor(random() * 60);
			const { source } = memorySource(stores);
			const ranges = await differingRanges(source, ['a', 'b', 'c'], { segments, maxKeys });
			expectAPlan(ranges, stores, maxKeys);
			if (differingKeys(stores).length === 0) expect(ranges).toEqual([]);
		}
	});
});

/** A small deterministic random source (mulberry32). */
function seeded(seed: number): () => number {
	let t = seed;
	return () => {
		t = (t + 0x6d2b79f5) | 0;
		let x = Math.imul(t ^ (t >>> 15), 1 | t);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}
