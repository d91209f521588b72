import {
	hashText,
	type KeyRange,
	type RangeSource,
	type RangeSum,
	type RecordData,
} from '../../nodes/shared/engine';

/**
 * Range bisection against systems held in memory: each answers checksums, cuts ranges into
 * segments of its own records (as the demo systems do) and returns the records of ranges.
 */
export type Store = Record<string, RecordData[]>;

const inRange = (id: string, r: KeyRange) =>
	(r.from === null || id >= r.from) && (r.to === null || id < r.to);

export function memorySource(stores: Store) {
	const calls = {
		sums: [] as Array<{ system: string; ranges: number }>,
		split: [] as Array<{ system: string; ranges: KeyRange[] }>,
		records: [] as Array<{ system: string; ranges: Array<KeyRange & { count: number }> }>,
	};
	const held = (system: string, r: KeyRange) =>
		stores[system]
			.filter((x) => inRange(String(x.id), r))
			.sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
	const sum = (list: RecordData[]): RangeSum => ({
		count: list.length,
		hash: hashText(list.map((x) => JSON.stringify(x)).join('\n')),
	});
	const source: RangeSource = {
		async sums(system, ranges) {
			calls.sums.push({ system, ranges: ranges.length });
			return ranges.map((r) => sum(held(system, r)));
		},
		async split(system, ranges, segments) {
			calls.split.push({ system, ranges });
			return ranges.flatMap((r) => {
				const list = held(system, r);
				if (list.length === 0) return [{ ...r, ...sum([]) }];
				const pieces: RecordData[][] = [];
				list.forEach((x, i) => {
					const seg = Math.floor((i * segments) / list.length);
					(pieces[seg] ??= []).push(x);
				});
				const cut = pieces.filter(Boolean);
				return cut.map((piece, i) => ({
					from: i === 0 ? r.from : String(piece[0].id),
					to: i + 1 < cut.length ? String(cut[i + 1][0].id) : r.to,
					...sum(piece),
				}));
			});
		},
		async records(system, ranges) {
			calls.records.push({ system, ranges });
			return ranges.flatMap((r) => held(system, r));
		},
	};
	return { source, calls };
}
