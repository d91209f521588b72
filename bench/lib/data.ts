/**
 * Deterministic benchmark data: a seeded PRNG (mulberry32) and customer-like records, so every
 * run (and every child process) builds exactly the same datasets for a given size and seed.
 *
 * Record shape (7 compared fields + 3 managed):
 *   { id, name, email, tier, balance, city, active, phone, updated_at, version }
 * `updated_at`/`version` are managed by each system and differ between systems for the same data
 * (each system stamps its own writes); both tools under test are told to ignore them.
 */

import { mulberry32 } from '../../demo/systems/prng.ts';

export { mulberry32 };

export type Rec = Record<string, unknown>;

const TIERS = ['bronze', 'silver', 'gold', 'platinum'];
const CITIES = ['Berlin', 'Lisbon', 'Oslo', 'Austin', 'Osaka', 'Lagos', 'Lima', 'Perth'];
/** Every "old" record was last written before this instant; changes come after it. */
export const WATERMARK_MS = Date.UTC(2025, 5, 1);
const DAY = 86_400_000;

export const keyOf = (i: number) => `c${String(i).padStart(7, '0')}`;

function iso(ms: number): string {
	return new Date(ms).toISOString();
}

/** The original record of key i (what every system held at the last sync). */
export function baseRecord(i: number, rnd: () => number): Rec {
	return {
		id: keyOf(i),
		name: `Customer ${i}`,
		email: `customer${i}@example.com`,
		tier: TIERS[Math.floor(rnd() * TIERS.length)],
		balance: Math.round(rnd() * 1_000_000) / 100,
		city: CITIES[Math.floor(rnd() * CITIES.length)],
		active: rnd() < 0.9,
		phone: `+1-555-${String(Math.floor(rnd() * 10_000_000)).padStart(7, '0')}`,
		updated_at: iso(WATERMARK_MS - Math.floor(rnd() * 300) * DAY - 1000),
		version: 1 + Math.floor(rnd() * 5),
	};
}

/** A system's own stamp for the same data: another updated-at and version. */
function restamp(r: Rec, rnd: () => number, after = false): Rec {
	return {
		...r,
		updated_at: iso(
			after
				? WATERMARK_MS + 1000 + Math.floor(rnd() * 30 * DAY)
				: WATERMARK_MS - 1000 - Math.floor(rnd() * 300 * DAY),
		),
		version: (r.version as number) + 1 + Math.floor(rnd() * 3),
	};
}

/** One compared field changed to another value (tag makes two systems' edits differ). */
function edit(r: Rec, rnd: () => number, tag: string, field?: string): Rec {
	const f = field ?? ['tier', 'balance', 'city', 'email', 'phone'][Math.floor(rnd() * 5)];
	const v = r[f];
	const next =
		f === 'balance'
			? Math.round(((v as number) + 1 + rnd() * 100) * 100) / 100 + (tag === 'b' ? 0.5 : 0)
			: f === 'tier'
				? `${tag}-${TIERS[Math.floor(rnd() * TIERS.length)]}`
				: `${String(v)}-${tag}${Math.floor(rnd() * 1000)}`;
	return { ...r, [f]: next };
}

function shuffle<T>(list: T[], rnd: () => number): T[] {
	for (let i = list.length - 1; i > 0; i--) {
		const j = Math.floor(rnd() * (i + 1));
		[list[i], list[j]] = [list[j], list[i]];
	}
	return list;
}

// ---------------------------------------------------------------------------------------------
// Two datasets (ConflictCheck vs Compare Datasets)
// ---------------------------------------------------------------------------------------------

/** Shares of the two-dataset comparison, per side's size N. */
export const PAIR_SHARES = { same: 0.7, changed: 0.2, onlyA: 0.05, onlyB: 0.05 };

export interface PairDataset {
	a: Rec[];
	b: Rec[];
	/** The true grouping, from the generator. */
	expected: { same: string[]; different: string[]; onlyA: string[]; onlyB: string[] };
}

/**
 * Two systems with N records each: 70 % same data (each system with its own updated_at and
 * version), 20 % changed (one compared field differs), 5 % only in A (created in A), 5 % only
 * in B (deleted from A, without a tombstone). B comes in another order than A.
 */
export function pairDataset(n: number, seed = 66): PairDataset {
	const rnd = mulberry32(seed * 1_000_003 + n);
	const onlyA = Math.round(n * PAIR_SHARES.onlyA);
	const onlyB = Math.round(n * PAIR_SHARES.onlyB);
	const common = n - onlyA;
	const changed = Math.round(n * PAIR_SHARES.changed);
	const a: Rec[] = [];
	const b: Rec[] = [];
	const expected: PairDataset['expected'] = { same: [], different: [], onlyA: [], onlyB: [] };
	// Keys 0..common-1 are on both sides, the next onlyA only in A, the next onlyB only in B.
	// Which common keys changed: a seeded shuffle of their indexes.
	const changedSet = new Set(
		shuffle(
			Array.from({ length: common }, (_, i) => i),
			rnd,
		).slice(0, changed),
	);
	for (let i = 0; i < common; i++) {
		const r = baseRecord(i, rnd);
		a.push(restamp(r, rnd));
		if (changedSet.has(i)) {
			b.push(restamp(edit(r, rnd, 'b'), rnd, true));
			expected.different.push(keyOf(i));
		} else {
			b.push(restamp(r, rnd));
			expected.same.push(keyOf(i));
		}
	}
	for (let i = common; i < common + onlyA; i++) {
		a.push(restamp(baseRecord(i, rnd), rnd, true));
		expected.onlyA.push(keyOf(i));
	}
	for (let i = common + onlyA; i < common + onlyA + onlyB; i++) {
		b.push(restamp(baseRecord(i, rnd), rnd));
		expected.onlyB.push(keyOf(i));
	}
	// B has N - onlyA + onlyB = N records when the two only-shares are equal.
	shuffle(b, rnd);
	return { a, b, expected };
}

// ---------------------------------------------------------------------------------------------
// Three systems and a base (engine scale)
// ---------------------------------------------------------------------------------------------

/** Shares of the three-system sync, of the N base keys (created keys come on top). */
export const TRIPLE_SHARES = {
	/** One system (a, b or c in turn) changed the key since the base: a clean change. */
	changed: 0.1,
	/** Two systems changed it to different values: a real conflict (half on the same field). */
	conflicting: 0.02,
	/** New in system_a (not in the base, updated after the watermark): N * 0.02 extra keys. */
	created: 0.02,
	/** Deleted (tombstone) in one system, the others unchanged. */
	deleted: 0.01,
};

export interface TripleDataset {
	systems: { system_a: Rec[]; system_b: Rec[]; system_c: Rec[] };
	/** The base as records (what every system held at the last validated sync). */
	baseRecords: Rec[];
	counts: {
		keys: number;
		changed: number;
		conflicting: number;
		/** Of the conflicting keys, those both systems changed on the same field. */
		conflictingSameField: number;
		created: number;
		deleted: number;
	};
}

/**
 * N keys known to the base and held by all three systems, with the shares of TRIPLE_SHARES;
 * each system lists its records in its own order (b reversed, c rotated).
 */
export function tripleDataset(n: number, seed = 66): TripleDataset {
	const rnd = mulberry32(seed * 7_919 + n);
	const a: Rec[] = [];
	const b: Rec[] = [];
	const c: Rec[] = [];
	const baseRecords: Rec[] = [];
	const counts = {
		keys: n,
		changed: 0,
		conflicting: 0,
		conflictingSameField: 0,
		created: 0,
		deleted: 0,
	};
	const changedEnd = TRIPLE_SHARES.changed;
	const conflictEnd = changedEnd + TRIPLE_SHARES.conflicting;
	const deletedEnd = conflictEnd + TRIPLE_SHARES.deleted;
	for (let i = 0; i < n; i++) {
		const r = baseRecord(i, rnd);
		baseRecords.push(r);
		// Deterministic class by position in a low-discrepancy sequence: shares are exact.
		const u = (i * 0.6180339887498949) % 1;
		// Each system holds its own objects, as records read from three places do.
		let ra: Rec = { ...r };
		let rb: Rec = { ...r };
		let rc: Rec = { ...r };
		if (u < changedEnd) {
			const who = i % 3;
			const changed = restamp(edit(r, rnd, 'x'), rnd, true);
			if (who === 0) ra = changed;
			else if (who === 1) rb = changed;
			else rc = changed;
			counts.changed++;
		} else if (u < conflictEnd) {
			const sameField = i % 2 === 0;
			ra = restamp(edit(r, rnd, 'a', sameField ? 'city' : 'email'), rnd, true);
			rb = restamp(edit(r, rnd, 'b', sameField ? 'city' : 'phone'), rnd, true);
			counts.conflicting++;
			if (sameField) counts.conflictingSameField++;
		} else if (u < deletedEnd) {
			const tomb = {
				...restamp(r, rnd, true),
				_deleted: true,
				deleted_at: iso(WATERMARK_MS + DAY),
			};
			if (i % 3 === 0) ra = tomb;
			else if (i % 3 === 1) rb = tomb;
			else rc = tomb;
			counts.deleted++;
		}
		a.push(ra);
		b.push(rb);
		c.push(rc);
	}
	const created = Math.round(n * TRIPLE_SHARES.created);
	for (let i = n; i < n + created; i++) a.push(restamp(baseRecord(i, rnd), rnd, true));
	counts.created = created;
	b.reverse();
	const cut = Math.floor(c.length / 3);
	return {
		systems: { system_a: a, system_b: b, system_c: [...c.slice(cut), ...c.slice(0, cut)] },
		baseRecords,
		counts,
	};
}
