import { bisectRanges, BisectError, type RangeSource } from '../../nodes/shared/engine';
import { memorySource } from './memoryRanges';

const id = (i: number) => `k${String(i).padStart(4, '0')}`;
const records = (n: number, from = 0) =>
	Array.from({ length: n }, (_, i) => ({ id: id(from + i), v: from + i }));

describe('bisectRanges', () => {
	test('equal systems: one level, one checksum per system, no record read', async () => {
		const { source, calls } = memorySource({ a: records(1000), b: records(1000) });
		const result = await bisectRanges(['a', 'b'], source, { segments: 16, leafSize: 64 });
		expect(result.stats).toEqual({
			levels: 1,
			rangesCompared: 1,
			rangesRead: 0,
			recordsRead: 0,
			recordsPerSystem: { a: 1000, b: 1000 },
		});
		expect(calls.sums).toEqual([
			{ system: 'a', ranges: 1 },
			{ system: 'b', ranges: 1 },
		]);
		expect(calls.split).toEqual([]);
		expect(calls.records).toEqual([]);
		expect([...result.records]).toEqual([
			['a', []],
			['b', []],
		]);
	});

	test('one differing key is found, and only its small range is read on each system', async () => {
		const b = records(1000).map((r) => (r.id === id(500) ? { ...r, v: -1 } : r));
		const { source, calls } = memorySource({ a: records(1000), b, c: records(1000) });
		const result = await bisectRanges(['a', 'b', 'c'], source, { segments: 10, leafSize: 20 });
		expect(result.stats.levels).toBe(3);
		expect(result.stats.rangesRead).toBe(1);
		for (const system of ['a', 'b', 'c']) {
			const read = result.records.get(system)!;
			expect(read.map((r) => r.id)).toContain(id(500));
			expect(read.length).toBeLessThanOrEqual(20);
		}
		expect(result.records.get('b')!.find((r) => r.id === id(500))).toEqual({ id: id(500), v: -1 });
		expect(result.stats.recordsRead).toBe(3 * result.records.get('a')!.length);
		// Each system is asked for its records once, for that one range.
		expect(calls.records.map((c) => [c.system, c.ranges.length])).toEqual([
			['a', 1],
			['b', 1],
			['c', 1],
		]);
	});

	test('a key missing on one system is found in the range read on the others', async () => {
		const b = records(300).filter((r) => r.id !== id(123));
		const { source } = memorySource({ a: records(300), b });
		const result = await bisectRanges(['a', 'b'], source, { segments: 4, leafSize: 10 });
		expect(result.stats.recordsPerSystem).toEqual({ a: 300, b: 299 });
		expect(result.records.get('a')!.map((r) => r.id)).toContain(id(123));
		expect(result.records.get('b')!.map((r) => r.id)).not.toContain(id(123));
	});

	test('leafSize: a differing range is read once no system holds more than leafSize records in it', async () => {
		const b = records(50).map((r) => (r.id === id(7) ? { ...r, v: 0.5 } : r));
		const small = memorySource({ a: records(50), b });
		// 50 records, leafSize 64: read at level 1, never cut.
		const direct = await bisectRanges(['a', 'b'], small.source, { segments: 4, leafSize: 64 });
		expect(direct.stats).toMatchObject({ levels: 1, rangesRead: 1, recordsRead: 100 });
		expect(small.calls.split).toEqual([]);

		const big = records(2000).map((r, i) => (i % 250 === 0 ? { ...r, v: -i } : r));
		const { source, calls } = memorySource({ a: records(2000), b: big });
		await bisectRanges(['a', 'b'], source, { segments: 4, leafSize: 30 });
		const counts = calls.records.flatMap((c) => c.ranges.map((r) => r.count));
		expect(counts.length).toBeGreaterThan(0);
		expect(Math.max(...counts)).toBeLessThanOrEqual(30);
	});

	test('a system with no records in a differing range is not asked for them', async () => {
		const { source, calls } = memorySource({ a: records(100), b: [] });
		const result = await bisectRanges(['a', 'b'], source, { segments: 4, leafSize: 30 });
		expect(result.records.get('a')).toHaveLength(100);
		expect(result.records.get('b')).toEqual([]);
		expect(calls.records.map((c) => c.system)).toEqual(['a']);
		expect(calls.split.map((c) => c.system)).toEqual(['a']);
	});

	test('each range is cut by the system holding the most records in it (the first on ties)', async () => {
		const b = [...records(200), ...records(100, 5000)];
		const more = memorySource({ a: records(200), b });
		await bisectRanges(['a', 'b'], more.source, { segments: 4, leafSize: 10 });
		expect(more.calls.split[0].system).toBe('b');

		const tie = memorySource({
			a: records(200),
			b: records(200).map((r) => (r.v === 3 ? { ...r, v: 4 } : r)),
		});
		await bisectRanges(['a', 'b'], tie.source, { segments: 4, leafSize: 10 });
		expect(tie.calls.split[0].system).toBe('a');
	});

	test('checksums that never narrow the difference down stop after maxLevels, with the reason', async () => {
		const { source } = memorySource({ a: records(100), b: records(100, 1) });
		// A splitter that answers every range with itself, whole.
		const stuck: RangeSource = {
			...source,
			split: async (system, ranges) =>
				await source
					.sums(system, ranges)
					.then((sums) => ranges.map((r, i) => ({ ...r, ...sums[i] }))),
		};
		const run = bisectRanges(['a', 'b'], stuck, { segments: 4, leafSize: 10, maxLevels: 5 });
		await expect(run).rejects.toThrow(BisectError);
		await expect(run).rejects.toThrow(
			'range checksums did not narrow the differences down in 5 levels',
		);
		await expect(bisectRanges(['a', 'b'], stuck, { segments: 4, leafSize: 10 })).rejects.toThrow(
			'in 40 levels',
		);
	});
});
