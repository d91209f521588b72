import {
	type CheckedKey,
	type Json,
	resolveKey,
	ResolveError,
	type Resolution,
	type ResolveOptions,
	sameValue,
	type Strategy,
	STRATEGIES,
} from '../../nodes/shared/engine';
import { baseOf, checkedOne, deepFreeze, ms, type Systems, T0, T1, T2, T3 } from './helpers';

const B0 = {
	id: 1,
	name: 'Ada',
	email: 'ada@x.io',
	phone: '111',
	qty: 10,
	score: 3,
	tags: ['a', 'b'],
	note: 'n0',
	updated_at: T0,
};
const base = () => baseOf([B0]);
const edit = (changes: Record<string, unknown>, at: string | number | null = T1) => {
	const r: Record<string, unknown> = { ...B0, ...changes, updated_at: at };
	for (const [k, v] of Object.entries(changes)) if (v === undefined) delete r[k];
	return r;
};
const opts = (strategy: Strategy, more: Partial<ResolveOptions> = {}): ResolveOptions => ({
	strategy,
	secondary: 'lastWriterWins',
	priority: [],
	fieldRules: {},
	...more,
});
const resolved = (r: Resolution) => {
	if (r.review) throw new Error(`expected a resolution, got review: ${r.reason}`);
	return r;
};
/** A conflict checked against the base B0. */
const conflict = (systems: Systems, extra: Parameters<typeof checkedOne>[1] = {}) => {
	const input = checkedOne(systems, { base: base(), ...extra });
	expect(input.kind).toBe('conflict');
	return input;
};

/**
 * Nothing is silently overwritten: every compared value a live system holds that differs from
 * the resolved record is in audit.losingValues, with the value the system held.
 */
function expectEveryLossAudited(input: CheckedKey, res: Resolution) {
	const r = resolved(res);
	const ignored = new Set(input.ignoredFields);
	for (const s of input.systems) {
		const held = input.records[s];
		if (held === null || input.states[s] === 'deleted') continue;
		const fields = new Set([...Object.keys(held), ...Object.keys(r.record ?? {})]);
		for (const f of fields) {
			if (ignored.has(f)) continue;
			if (r.record !== null && sameValue(held[f], r.record[f])) continue;
			expect([s, f, r.audit.losingValues[s]?.[f]]).toEqual([s, f, (held[f] ?? null) as Json]);
		}
	}
}

describe('clean changes and in-sync keys', () => {
	test('a change resolves to the proposing record under any strategy, audited as cleanChange', () => {
		const input = checkedOne(
			[
				['A', [B0]],
				['B', [edit({ email: 'b@x.io' })]],
				['C', [B0]],
			],
			{ base: base() },
		);
		expect(input).toMatchObject({ kind: 'change', proposedFrom: 'B' });
		for (const strategy of STRATEGIES) {
			expect(resolveKey(input, opts(strategy))).toEqual({
				review: false,
				record: edit({ email: 'b@x.io' }),
				deleted: false,
				audit: {
					strategy: 'cleanChange',
					winner: 'B',
					fieldWinners: {},
					losingValues: { A: { email: 'ada@x.io' }, C: { email: 'ada@x.io' } },
					notes: ['clean change: only B changed it since the last validated sync'],
				},
			});
		}
	});

	test('a one-sided delete (tombstone) resolves to a delete, the live values recorded as losing', () => {
		const input = checkedOne(
			[
				['A', [B0]],
				['B', [{ id: 1, deleted: true, updated_at: T1 }]],
			],
			{ base: base() },
		);
		expect(input).toMatchObject({ kind: 'change', proposedFrom: 'B' });
		const r = resolved(resolveKey(input, opts('lastWriterWins')));
		expect(r.record).toBeNull();
		expect(r.deleted).toBe(true);
		expect(r.audit.winner).toBe('B');
		const { id: _i, updated_at: _u, ...compared } = B0;
		void _i;
		void _u;
		expect(r.audit.losingValues).toEqual({ A: compared });
	});

	test('a delete by absence (missingMeansDeleted) resolves to a delete', () => {
		const input = checkedOne(
			[
				['A', [B0]],
				['B', []],
			],
			{ base: base(), missingMeansDeleted: true },
		);
		expect(input).toMatchObject({ kind: 'change', proposedFrom: 'B', states: { B: 'deleted' } });
		const r = resolved(resolveKey(input, opts('sourceWins')));
		expect(r).toMatchObject({
			record: null,
			deleted: true,
			audit: { strategy: 'cleanChange', winner: 'B' },
		});
		expect(Object.keys(r.audit.losingValues)).toEqual(['A']);
	});

	test('an in-sync key resolves to the source record with nothing lost', () => {
		const input = checkedOne(
			[
				['A', [B0]],
				['B', [B0]],
			],
			{ base: base() },
		);
		const r = resolved(resolveKey(input, opts('manualReview')));
		expect(r).toEqual({
			review: false,
			record: B0,
			deleted: false,
			audit: {
				strategy: 'cleanChange',
				winner: 'A',
				fieldWinners: {},
				losingValues: {},
				notes: ['clean change: every system already holds the same data'],
			},
		});
	});
});

describe('disjoint edits merge (edits to different fields are not a conflict)', () => {
	/** name changed on A (T1), email on B (T2), C unchanged: the case, with a third system. */
	const disjoint = () =>
		checkedOne(
			[
				['A', [edit({ name: 'Ada A' }, T1)]],
				['B', [edit({ email: 'b@x.io' }, T2)]],
				['C', [B0]],
			],
			{ base: base() },
		);

	test('every strategy keeps both edits: a clean change, audited field by field', () => {
		const input = disjoint();
		expect(input).toMatchObject({ kind: 'change', proposedFrom: 'merged' });
		for (const strategy of STRATEGIES) {
			const res = resolveKey(input, opts(strategy, { priority: ['C', 'A'] }));
			expect(res).toEqual({
				review: false,
				// key, updated-at and version from the latest contributor (B)
				record: { ...B0, name: 'Ada A', email: 'b@x.io', updated_at: T2 },
				deleted: false,
				audit: {
					strategy: 'cleanChange',
					winner: 'merged',
					fieldWinners: {
						email: { from: ['B'], rule: 'one_sided' },
						name: { from: ['A'], rule: 'one_sided' },
					},
					losingValues: {
						A: { email: 'ada@x.io' },
						B: { name: 'Ada' },
						C: { email: 'ada@x.io', name: 'Ada' },
					},
					notes: [
						'clean change: A, B changed different fields since the last validated sync (email: B; name: A): merged field by field',
						'field "email": only B changed it, kept',
						'field "name": only A changed it, kept',
					],
				},
			});
			expectEveryLossAudited(input, res);
		}
	});

	test('field rules and the priority list do not change a clean merge', () => {
		const input = disjoint();
		const plain = resolveKey(input, opts('lastWriterWins'));
		for (const more of [
			{ fieldRules: { name: 'min' as const, email: 'sourceWins' as const } },
			{ priority: ['C', 'B', 'A'], secondary: 'sourceWins' as const },
		])
			expect(resolveKey(input, opts('fieldMerge', more))).toEqual(plain);
	});

	test('a removed field and a changed field merge; a same change on both counts once', () => {
		const input = checkedOne(
			[
				['A', [edit({ note: undefined, qty: 12 }, T2)]],
				['B', [edit({ phone: '222', qty: 12 }, T1)]],
			],
			{ base: base() },
		);
		expect(input).toMatchObject({ kind: 'change', proposedFrom: 'merged' });
		const res = resolveKey(input, opts('sourceWins'));
		const r = resolved(res);
		expect(r.record).toEqual({ ...edit({ note: undefined, qty: 12, phone: '222' }, T2) });
		expect(r.audit.fieldWinners).toEqual({
			note: { from: ['A'], rule: 'one_sided' },
			phone: { from: ['B'], rule: 'one_sided' },
			qty: { from: ['A', 'B'], rule: 'same_change' },
		});
		expect(r.audit.losingValues).toEqual({ A: { phone: '111' }, B: { note: 'n0' } });
		expectEveryLossAudited(input, res);
	});

	test('a merged change without base values (a hand-made item) is a ResolveError naming the base', () => {
		const input = { ...disjoint(), base: null };
		expect(() => resolveKey(input, opts('lastWriterWins'))).toThrow(
			expect.objectContaining({
				field: 'base',
				message: expect.stringContaining('base values'),
			}),
		);
	});

	describe('some fields conflict, others changed on one side only', () => {
		// email conflicts (A at T1, B at T2); name changed on A only, phone on B only.
		const partial = () =>
			conflict([
				['A', [edit({ email: 'a@x.io', name: 'Ada A' }, T1)]],
				['B', [edit({ email: 'b@x.io', phone: '222' }, T2)]],
				['C', [B0]],
			]);

		test('lastWriterWins decides the conflicting field; every one-sided change is kept', () => {
			const input = partial();
			const res = resolveKey(input, opts('lastWriterWins'));
			expect(res).toEqual({
				review: false,
				record: { ...B0, email: 'b@x.io', name: 'Ada A', phone: '222', updated_at: T2 },
				deleted: false,
				audit: {
					strategy: 'lastWriterWins',
					winner: 'merged',
					fieldWinners: {
						email: { from: ['B'], rule: 'lastWriterWins' },
						name: { from: ['A'], rule: 'one_sided' },
						phone: { from: ['B'], rule: 'one_sided' },
					},
					losingValues: {
						A: { email: 'a@x.io', phone: '111' },
						B: { name: 'Ada' },
						C: { email: 'ada@x.io', name: 'Ada', phone: '111' },
					},
					notes: [
						`lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`,
						`field "email": A and B changed it differently; lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`,
						'field "name": only A changed it, kept',
						'field "phone": only B changed it, kept',
					],
				},
			});
			expectEveryLossAudited(input, res);
		});

		test('sourceWins decides the conflicting field; the other side’s one-sided change is kept', () => {
			const r = resolved(resolveKey(partial(), opts('sourceWins')));
			expect(r.record).toEqual({
				...B0,
				email: 'a@x.io',
				name: 'Ada A',
				phone: '222',
				updated_at: T1,
			});
			expect(r.audit).toMatchObject({
				strategy: 'sourceWins',
				winner: 'merged',
				fieldWinners: {
					email: { from: ['A'], rule: 'sourceWins' },
					name: { from: ['A'], rule: 'one_sided' },
					phone: { from: ['B'], rule: 'one_sided' },
				},
			});
			expect(r.audit.notes[0]).toBe('sourceWins: A is the source system');
		});

		test('systemPriority decides the conflicting field; one-sided changes are kept', () => {
			const r = resolved(resolveKey(partial(), opts('systemPriority', { priority: ['A', 'B'] })));
			expect(r.record).toEqual({
				...B0,
				email: 'a@x.io',
				name: 'Ada A',
				phone: '222',
				updated_at: T1,
			});
			expect(r.audit.fieldWinners.email).toEqual({ from: ['A'], rule: 'systemPriority' });
			expect(r.audit.winner).toBe('merged');
		});

		test('fieldMerge gives the same record, decided by its secondary rule', () => {
			const lww = resolved(resolveKey(partial(), opts('lastWriterWins')));
			const merged = resolved(resolveKey(partial(), opts('fieldMerge')));
			expect(merged.record).toEqual(lww.record);
			expect(merged.audit.fieldWinners).toEqual(lww.audit.fieldWinners);
			expect(merged.audit.strategy).toBe('fieldMerge');
		});

		test('manualReview still routes it to review, untouched', () => {
			expect(resolveKey(partial(), opts('manualReview'))).toEqual({
				review: true,
				reason: 'strategy is manual review',
			});
		});

		test('the record-level winner did not touch the conflicting field: the latest of those that did decides it', () => {
			// A and B changed email differently; C (latest overall) changed phone only.
			const input = conflict([
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [edit({ email: 'b@x.io' }, T2)]],
				['C', [edit({ phone: '222' }, T3)]],
			]);
			const res = resolveKey(input, opts('lastWriterWins'));
			const r = resolved(res);
			expect(r.record).toEqual({ ...B0, email: 'b@x.io', phone: '222', updated_at: T3 });
			expect(r.audit.fieldWinners).toEqual({
				email: { from: ['B'], rule: 'lastWriterWins' },
				phone: { from: ['C'], rule: 'one_sided' },
			});
			expectEveryLossAudited(input, res);
		});

		test('an unchanged source under sourceWins keeps its value for the conflicting field, and the one-sided change', () => {
			const input = conflict([
				['A', [B0]],
				['B', [edit({ email: 'b@x.io' }, T1)]],
				['C', [edit({ email: 'c@x.io', phone: '222' }, T2)]],
			]);
			const r = resolved(resolveKey(input, opts('sourceWins')));
			expect(r.record).toEqual({ ...B0, phone: '222' });
			expect(r.audit.fieldWinners).toEqual({
				email: { from: ['A'], rule: 'sourceWins' },
				phone: { from: ['C'], rule: 'one_sided' },
			});
			expect(r.audit.losingValues).toEqual({
				A: { phone: '111' },
				B: { email: 'b@x.io', phone: '111' },
				C: { email: 'c@x.io' },
			});
		});

		test('the winner made every one-sided change itself: its whole record, as before', () => {
			const input = conflict([
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [edit({ email: 'b@x.io', phone: '222' }, T2)]],
			]);
			const r = resolved(resolveKey(input, opts('lastWriterWins')));
			expect(r.record).toEqual(edit({ email: 'b@x.io', phone: '222' }, T2));
			expect(r.audit).toMatchObject({ winner: 'B', fieldWinners: {} });
		});

		test('field rules still apply to their fields', () => {
			const input = conflict([
				['A', [edit({ qty: 13, name: 'N' }, T1)]],
				['B', [edit({ qty: 15, email: 'b@x.io' }, T2)]],
			]);
			const r = resolved(resolveKey(input, opts('sourceWins', { fieldRules: { qty: 'counter' } })));
			expect(r.record).toEqual({ ...B0, qty: 18, name: 'N', email: 'b@x.io', updated_at: T1 });
			expect(r.audit.fieldWinners).toEqual({
				email: { from: ['B'], rule: 'one_sided' },
				name: { from: ['A'], rule: 'one_sided' },
				qty: { from: ['A', 'B'], rule: 'counter' },
			});
		});
	});

	describe('without base values: decided for the whole record, and the audit says why', () => {
		const NOTE =
			'no base values: field-level merge needs the values of the last validated sync; decided for the whole record';

		test('a base kept without values', () => {
			const input = conflict(
				[
					['A', [edit({ name: 'Ada A' }, T1)]],
					['B', [edit({ email: 'b@x.io' }, T2)]],
				],
				{ base: baseOf([B0], { keepValues: false }) },
			);
			for (const strategy of ['lastWriterWins', 'sourceWins', 'systemPriority'] as const) {
				const r = resolved(resolveKey(input, opts(strategy, { priority: ['B'] })));
				expect(r.audit.notes[0]).toBe(NOTE);
				expect(r.audit.fieldWinners).toEqual({});
			}
			expect(resolved(resolveKey(input, opts('lastWriterWins'))).record).toEqual(
				edit({ email: 'b@x.io' }, T2),
			);
		});

		test('watermark basis and no basis at all', () => {
			const watermark = checkedOne(
				[
					['A', [{ id: 1, name: 'Ann', email: 'e', updated_at: T2 }]],
					['B', [{ id: 1, name: 'Ada', email: 'b', updated_at: T3 }]],
				],
				{ watermark: ms(T1) },
			);
			const none = checkedOne([
				['A', [{ id: 1, v: 'a', updated_at: T2 }]],
				['B', [{ id: 1, v: 'b', updated_at: T1 }]],
			]);
			for (const input of [watermark, none]) {
				expect(input.kind).toBe('conflict');
				const r = resolved(resolveKey(input, opts('lastWriterWins')));
				expect(r.audit.notes).toContain(NOTE);
			}
		});

		test('an update against a delete is decided for the whole record without that note', () => {
			const input = conflict([
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [{ id: 1, deleted: true, updated_at: T2 }]],
			]);
			expect(resolved(resolveKey(input, opts('lastWriterWins'))).audit.notes).not.toContain(NOTE);
		});
	});
});

describe('lastWriterWins', () => {
	test('the later updated-at wins; the loser and the unchanged system are audited', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ email: 'b@x.io' }, T2)]],
			['C', [B0]],
		]);
		const res = resolveKey(input, opts('lastWriterWins'));
		expect(res).toEqual({
			review: false,
			record: edit({ email: 'b@x.io' }, T2),
			deleted: false,
			audit: {
				strategy: 'lastWriterWins',
				winner: 'B',
				fieldWinners: {},
				losingValues: { A: { email: 'a@x.io' }, C: { email: 'ada@x.io' } },
				notes: [
					'lastWriterWins: B has the latest updated-at (2024-01-03T00:00:00.000Z; A 2024-01-02T00:00:00.000Z)',
				],
			},
		});
		expectEveryLossAudited(input, res);
	});

	test('the source wins when it is later', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T3)]],
			['B', [edit({ email: 'b@x.io' }, T2)]],
		]);
		const r = resolved(resolveKey(input, opts('lastWriterWins')));
		expect(r.audit.winner).toBe('A');
		expect(r.record).toEqual(edit({ email: 'a@x.io' }, T3));
		expect(r.audit.losingValues).toEqual({ B: { email: 'b@x.io' } });
	});

	test('updated-at in different notations is compared as instants', () => {
		// A: epoch seconds for T2; B: T1 written with a +02:00 offset (same instant as T1).
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, ms(T2) / 1000)]],
			['B', [edit({ email: 'b@x.io' }, '2024-01-02T02:00:00+02:00')]],
		]);
		expect(input.updatedAt).toEqual({ A: T2, B: T1 });
		expect(resolved(resolveKey(input, opts('lastWriterWins'))).audit.winner).toBe('A');
		const later = conflict([
			['A', [edit({ email: 'a@x.io' }, ms(T1))]],
			['B', [edit({ email: 'b@x.io' }, '2024-01-03T03:00:00+02:00')]],
		]);
		expect(resolved(resolveKey(later, opts('lastWriterWins'))).audit.winner).toBe('B');
	});

	describe('equal timestamps: a deterministic tie-break, recorded', () => {
		const tie = () =>
			conflict([
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [edit({ email: 'b@x.io' }, T1)]],
			]);

		test('the priority list first', () => {
			const r = resolved(resolveKey(tie(), opts('lastWriterWins', { priority: ['B', 'A'] })));
			expect(r.audit).toMatchObject({ winner: 'B', tieBreak: 'priority' });
			expect(r.record).toEqual(edit({ email: 'b@x.io' }, T1));
		});

		test('else the source', () => {
			const r = resolved(resolveKey(tie(), opts('lastWriterWins')));
			expect(r.audit).toMatchObject({ winner: 'A', tieBreak: 'source' });
			// A priority list naming neither contender does not change that.
			const r2 = resolved(resolveKey(tie(), opts('lastWriterWins', { priority: ['Z'] })));
			expect(r2.audit).toMatchObject({ winner: 'A', tieBreak: 'source' });
		});

		test('else the system name', () => {
			const input = conflict([
				['A', [B0]],
				['C', [edit({ email: 'c@x.io' }, T1)]],
				['B', [edit({ email: 'b@x.io' }, T1)]],
			]);
			const r = resolved(resolveKey(input, opts('lastWriterWins')));
			expect(r.audit).toMatchObject({ winner: 'B', tieBreak: 'name' });
			const r2 = resolved(resolveKey(input, opts('lastWriterWins', { priority: ['C'] })));
			expect(r2.audit).toMatchObject({ winner: 'C', tieBreak: 'priority' });
		});

		test('a later third system is not a tie', () => {
			const input = conflict([
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [edit({ email: 'b@x.io' }, T1)]],
				['C', [edit({ email: 'c@x.io' }, T2)]],
			]);
			const r = resolved(resolveKey(input, opts('lastWriterWins')));
			expect(r.audit.winner).toBe('C');
			expect(r.audit).not.toHaveProperty('tieBreak');
		});

		test('no updated-at at all: the tie-break order decides, with a note', () => {
			const input = conflict([
				['A', [edit({ email: 'a@x.io' }, null)]],
				['B', [edit({ email: 'b@x.io' }, null)]],
			]);
			expect(input.updatedAt).toEqual({ A: null, B: null });
			const r = resolved(resolveKey(input, opts('lastWriterWins')));
			expect(r.audit).toMatchObject({ winner: 'A', tieBreak: 'source' });
			expect(r.audit.notes).toContain(
				'no updated-at on the contenders: the tie-break order decided',
			);
		});

		test('a contender with an updated-at beats one without', () => {
			const input = conflict([
				['A', [edit({ email: 'a@x.io' }, null)]],
				['B', [edit({ email: 'b@x.io' }, T1)]],
			]);
			expect(resolved(resolveKey(input, opts('lastWriterWins'))).audit.winner).toBe('B');
		});
	});
});

describe('sourceWins', () => {
	test('the source wins even when older', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ email: 'b@x.io' }, T3)]],
		]);
		const res = resolveKey(input, opts('sourceWins'));
		expect(res).toEqual({
			review: false,
			record: edit({ email: 'a@x.io' }, T1),
			deleted: false,
			audit: {
				strategy: 'sourceWins',
				winner: 'A',
				fieldWinners: {},
				losingValues: { B: { email: 'b@x.io' } },
				notes: ['sourceWins: A is the source system'],
			},
		});
	});

	test('a source that did not change the key still wins: it is the system of record', () => {
		const input = conflict([
			['A', [B0]],
			['B', [edit({ email: 'b@x.io' }, T1)]],
			['C', [edit({ email: 'c@x.io' }, T2)]],
		]);
		expect(input.states).toEqual({ A: 'unchanged', B: 'changed', C: 'changed' });
		const r = resolved(resolveKey(input, opts('sourceWins')));
		expect(r.audit.winner).toBe('A');
		expect(r.record).toEqual(B0);
		expect(r.audit.losingValues).toEqual({ B: { email: 'b@x.io' }, C: { email: 'c@x.io' } });
	});

	test('a source with no record falls back to lastWriterWins, with a note', () => {
		const input = conflict(
			[
				['A', []],
				['B', [edit({ email: 'b@x.io' }, T1)]],
				['C', [edit({ email: 'c@x.io' }, T2)]],
			],
			{ scope: 'all' },
		);
		expect(input.states.A).toBe('missing');
		const r = resolved(resolveKey(input, opts('sourceWins')));
		expect(r.audit.winner).toBe('C');
		expect(r.audit.notes).toEqual([
			'source A has no record: fell back to lastWriterWins',
			`lastWriterWins: C has the latest updated-at (${T2}; B ${T1})`,
		]);
	});

	test('a source that deleted the record wins with the delete', () => {
		const input = conflict([
			['A', [{ id: 1, deleted: true, updated_at: T1 }]],
			['B', [edit({ email: 'b@x.io' }, T3)]],
		]);
		const r = resolved(resolveKey(input, opts('sourceWins')));
		expect(r).toMatchObject({ record: null, deleted: true, audit: { winner: 'A' } });
	});
});

describe('systemPriority', () => {
	test('the first listed contender wins', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T3)]],
			['B', [edit({ email: 'b@x.io' }, T1)]],
			['C', [B0]],
		]);
		const r = resolved(resolveKey(input, opts('systemPriority', { priority: ['C', 'B', 'A'] })));
		// C is listed first but did not change the key: the first listed *contender* is B.
		expect(r.audit).toMatchObject({
			strategy: 'systemPriority',
			winner: 'B',
			notes: ['systemPriority: B comes first in the priority list (C, B, A) among B, A'],
		});
		expect(r.record).toEqual(edit({ email: 'b@x.io' }, T1));
		expect(r.audit).not.toHaveProperty('tieBreak');
	});

	test('no contender listed: falls back to lastWriterWins, with a note', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ email: 'b@x.io' }, T2)]],
		]);
		const r = resolved(resolveKey(input, opts('systemPriority', { priority: ['X', 'Y'] })));
		expect(r.audit.winner).toBe('B');
		expect(r.audit.notes).toEqual([
			'none of A, B is in the priority list: fell back to lastWriterWins',
			`lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`,
		]);
	});
});

describe('fieldMerge', () => {
	test('one-sided changes merged, the conflicting field by the secondary rule, winners recorded', () => {
		const input = conflict([
			['A', [edit({ name: 'Ada A', email: 'a@x.io' }, T1)]],
			['B', [edit({ phone: '222', email: 'b@x.io' }, T2)]],
			['C', [B0]],
		]);
		expect(input.conflictFields).toEqual(['email']);
		const res = resolveKey(input, opts('fieldMerge'));
		expect(res).toEqual({
			review: false,
			// key and updated-at from the record the secondary rule prefers (B, the later one)
			record: { ...B0, name: 'Ada A', phone: '222', email: 'b@x.io', updated_at: T2 },
			deleted: false,
			audit: {
				strategy: 'fieldMerge',
				winner: 'merged',
				fieldWinners: {
					name: { from: ['A'], rule: 'one_sided' },
					phone: { from: ['B'], rule: 'one_sided' },
					email: { from: ['B'], rule: 'lastWriterWins' },
				},
				losingValues: {
					A: { email: 'a@x.io', phone: '111' },
					B: { name: 'Ada' },
					C: { email: 'ada@x.io', name: 'Ada', phone: '111' },
				},
				notes: [
					`field "email": A and B changed it differently; lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`,
					'field "name": only A changed it, kept',
					'field "phone": only B changed it, kept',
				],
			},
		});
		expectEveryLossAudited(input, res);
	});

	test('the secondary rule decides conflicting fields: sourceWins', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ phone: '222', email: 'b@x.io' }, T2)]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge', { secondary: 'sourceWins' })));
		expect(r.record).toEqual({ ...B0, email: 'a@x.io', phone: '222', updated_at: T1 });
		expect(r.audit.fieldWinners).toEqual({
			email: { from: ['A'], rule: 'sourceWins' },
			phone: { from: ['B'], rule: 'one_sided' },
		});
	});

	test('the secondary rule decides conflicting fields: systemPriority', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io', name: 'N' }, T2)]],
			['B', [edit({ email: 'b@x.io' }, T1)]],
		]);
		const r = resolved(
			resolveKey(input, opts('fieldMerge', { secondary: 'systemPriority', priority: ['B', 'A'] })),
		);
		expect(r.record).toMatchObject({ email: 'b@x.io', name: 'N', updated_at: T1 });
		expect(r.audit.fieldWinners.email).toEqual({ from: ['B'], rule: 'systemPriority' });
		expect(r.audit.fieldWinners.name).toEqual({ from: ['A'], rule: 'one_sided' });
	});

	// Changed: without the email conflict this key is no longer a conflict at all (A holds every
	// change: a clean change from A), so the conflict now carries one conflicting field.
	test('the same change on two systems is one change', () => {
		const input = conflict([
			['A', [edit({ qty: 12, name: 'N', email: 'a@x.io' })]],
			['B', [edit({ qty: 12, email: 'b@x.io' })]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge')));
		expect(r.record).toMatchObject({ qty: 12, name: 'N', email: 'a@x.io' });
		expect(r.audit.fieldWinners).toEqual({
			email: { from: ['A'], rule: 'lastWriterWins' },
			qty: { from: ['A', 'B'], rule: 'same_change' },
			name: { from: ['A'], rule: 'one_sided' },
		});
		expect(r.audit.winner).toBe('merged');
	});

	test("fields nobody changed keep the spelling the systems hold (not the base's canonical form)", () => {
		const held = { since: '2024-01-01 10:00:00+02' };
		const input = checkedOne(
			[
				['A', [edit({ ...held, email: 'a@x.io' }, T1)]],
				['B', [edit({ ...held, phone: '222' }, T2)]],
			],
			{ base: baseOf([{ ...B0, ...held }]) },
		);
		// Changed: edits to different fields are a clean change now, merged the same way.
		expect(input).toMatchObject({ kind: 'change', proposedFrom: 'merged' });
		const r = resolved(resolveKey(input, opts('fieldMerge')));
		expect(r.record).toMatchObject({ email: 'a@x.io', phone: '222' });
		expect(r.record!.since).toBe('2024-01-01 10:00:00+02');
	});

	// Changed: the email conflict keeps it a conflict (alone, the two edits are a clean merge).
	test('a field removed on one side is removed in the merge', () => {
		const input = conflict([
			['A', [edit({ note: undefined, email: 'a@x.io' })]],
			['B', [edit({ phone: '222', email: 'b@x.io' })]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge')));
		expect(r.record).not.toHaveProperty('note');
		expect(r.record).toMatchObject({ phone: '222', email: 'a@x.io' });
		expect(r.audit.losingValues.B).toEqual({ note: 'n0', email: 'b@x.io' });
	});

	test('without base values it falls back to the secondary rule, with a note', () => {
		const input = conflict(
			[
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [edit({ phone: '222' }, T2)]],
			],
			{ base: baseOf([B0], { keepValues: false }) },
		);
		const r = resolved(resolveKey(input, opts('fieldMerge')));
		expect(r.record).toEqual(edit({ phone: '222' }, T2));
		expect(r.audit).toMatchObject({ strategy: 'fieldMerge', winner: 'B' });
		expect(r.audit.notes).toEqual([
			'no base values to merge against: resolved by lastWriterWins',
			`lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`,
		]);
	});

	test('with no base at all it falls back too', () => {
		const input = checkedOne([
			['A', [{ id: 1, v: 'a', updated_at: T2 }]],
			['B', [{ id: 1, v: 'b', updated_at: T1 }]],
		]);
		expect(input).toMatchObject({ kind: 'conflict', basis: 'none' });
		const r = resolved(resolveKey(input, opts('fieldMerge', { secondary: 'sourceWins' })));
		expect(r.audit).toMatchObject({
			winner: 'A',
			notes: [
				'no base values to merge against: resolved by sourceWins',
				'sourceWins: A is the source system',
			],
		});
	});

	test('a delete cannot be merged: resolved by the secondary rule, with a note', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [{ id: 1, deleted: true, updated_at: T2 }]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge')));
		expect(r).toMatchObject({ record: null, deleted: true, audit: { winner: 'B' } });
		expect(r.audit.notes).toEqual([
			'a delete cannot be merged field by field: resolved by lastWriterWins',
			`lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`,
		]);
	});
});

describe('per-field rules', () => {
	test('counter: base + every delta (base 10, A=13, B=15 -> 18)', () => {
		const input = conflict([
			['A', [edit({ qty: 13 }, T1)]],
			['B', [edit({ qty: 15 }, T2)]],
		]);
		const res = resolveKey(input, opts('fieldMerge', { fieldRules: { qty: 'counter' } }));
		const r = resolved(res);
		expect(r.record).toEqual({ ...B0, qty: 18, updated_at: T2 });
		expect(r.audit.fieldWinners).toEqual({ qty: { from: ['A', 'B'], rule: 'counter' } });
		expect(r.audit.losingValues).toEqual({ A: { qty: 13 }, B: { qty: 15 } });
		expectEveryLossAudited(input, res);
	});

	test('counter: three systems, one decrement, one unchanged', () => {
		const input = conflict([
			['A', [edit({ qty: 8 })]],
			['B', [edit({ qty: 15 })]],
			['C', [B0]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { qty: 'counter' } })));
		expect(r.record!.qty).toBe(13);
		expect(r.audit.fieldWinners.qty).toEqual({ from: ['A', 'B'], rule: 'counter' });
	});

	// Changed: before, A's one-sided name change was lost to B's record (only in the audit).
	test('counter also applies on top of a record-level strategy', () => {
		const input = conflict([
			['A', [edit({ qty: 13, name: 'N' }, T1)]],
			['B', [edit({ qty: 15 }, T2)]],
		]);
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { qty: 'counter' } })),
		);
		expect(r.audit.winner).toBe('merged');
		expect(r.record).toEqual({ ...B0, qty: 18, name: 'N', updated_at: T2 });
		expect(r.audit.fieldWinners).toEqual({
			name: { from: ['A'], rule: 'one_sided' },
			qty: { from: ['A', 'B'], rule: 'counter' },
		});
		expect(r.audit.losingValues).toEqual({ A: { qty: 13 }, B: { qty: 15, name: 'Ada' } });
	});

	test('counter without a numeric base value takes the max, with a note', () => {
		const input = checkedOne([
			['A', [{ id: 1, qty: 13 }]],
			['B', [{ id: 1, qty: 15 }]],
		]);
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { qty: 'counter' } })),
		);
		expect(r.record!.qty).toBe(15);
		expect(r.audit.fieldWinners.qty).toEqual({ from: ['B'], rule: 'counter' });
		expect(r.audit.notes).toContain(
			'field "qty": counter merge needs a numeric base value; took the max instead',
		);
	});

	test('counter with a non-number is a ResolveError naming the field', () => {
		const input = conflict([
			['A', [edit({ qty: 13 })]],
			['B', [edit({ qty: 'many' })]],
		]);
		expect(() => resolveKey(input, opts('fieldMerge', { fieldRules: { qty: 'counter' } }))).toThrow(
			ResolveError,
		);
		try {
			resolveKey(input, opts('fieldMerge', { fieldRules: { qty: 'counter' } }));
		} catch (e) {
			expect((e as ResolveError).field).toBe('qty');
		}
	});

	test('max and min over numbers', () => {
		const input = conflict([
			['A', [edit({ score: 5 }, T2)]],
			['B', [edit({ score: 7 }, T1)]],
		]);
		const max = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { score: 'max' } })));
		expect(max.record!.score).toBe(7);
		expect(max.audit.fieldWinners.score).toEqual({ from: ['B'], rule: 'max' });
		expect(max.audit.losingValues).toEqual({ A: { score: 5 } });
		const min = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { score: 'min' } })));
		expect(min.record!.score).toBe(5);
		expect(min.audit.fieldWinners.score).toEqual({ from: ['A'], rule: 'min' });
	});

	test('max and min run over every live system, unchanged ones included', () => {
		const input = conflict([
			['A', [edit({ score: 5 })]],
			['B', [edit({ score: 7 })]],
			['C', [B0]],
		]);
		const min = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { score: 'min' } })));
		expect(min.record!.score).toBe(3);
		expect(min.audit.fieldWinners.score).toEqual({ from: ['C'], rule: 'min' });
	});

	test('max over timestamps compares instants, not text', () => {
		const input = conflict([
			['A', [edit({ seen: '2024-03-01T00:00:00+02:00' })]],
			['B', [edit({ seen: '2024-02-29T23:30:00Z' })]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { seen: 'max' } })));
		expect(r.record!.seen).toBe('2024-02-29T23:30:00Z');
		expect(r.audit.fieldWinners.seen).toEqual({ from: ['B'], rule: 'max' });
	});

	test('max over plain strings compares text', () => {
		const input = conflict([
			['A', [edit({ name: 'beta' })]],
			['B', [edit({ name: 'alpha' })]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { name: 'max' } })));
		expect(r.record!.name).toBe('beta');
	});

	test('max over strings that only a lenient date parser reads as dates compares text', () => {
		// Date.parse('Gold 1') is a valid date in V8, parseTimestamp('Gold 1') is not.
		const input = conflict([
			['A', [edit({ name: 'Gold 1' })]],
			['B', [edit({ name: 'Gold 2' })]],
		]);
		const r = resolved(resolveKey(input, opts('fieldMerge', { fieldRules: { name: 'max' } })));
		expect(r.record!.name).toBe('Gold 2');
	});

	test('max over mixed types is a ResolveError naming the field', () => {
		const input = conflict([
			['A', [edit({ score: 5 })]],
			['B', [edit({ score: 'high' })]],
		]);
		expect(() => resolveKey(input, opts('fieldMerge', { fieldRules: { score: 'max' } }))).toThrow(
			expect.objectContaining({
				field: 'score',
				message: expect.stringContaining('field "score"'),
			}),
		);
	});

	test('arrayUnion: base order first, then new items in order, deduplicated', () => {
		const input = conflict([
			['A', [edit({ tags: ['a', 'b', 'c'] })]],
			['B', [edit({ tags: ['b', 'd', 'a', 'c'] })]],
		]);
		const res = resolveKey(input, opts('fieldMerge', { fieldRules: { tags: 'arrayUnion' } }));
		const r = resolved(res);
		expect(r.record!.tags).toEqual(['a', 'b', 'c', 'd']);
		expect(r.audit.fieldWinners.tags).toEqual({ from: ['A', 'B'], rule: 'arrayUnion' });
		expect(r.audit.losingValues).toEqual({
			A: { tags: ['a', 'b', 'c'] },
			B: { tags: ['b', 'd', 'a', 'c'] },
		});
		expectEveryLossAudited(input, res);
	});

	test('arrayUnion deduplicates objects by canonical form', () => {
		const input = conflict([
			['A', [edit({ tags: [{ x: 1, y: 2 }] })]],
			['B', [edit({ tags: [{ y: 2, x: 1 }, { x: 3 }] })]],
		]);
		const r = resolved(
			resolveKey(input, opts('fieldMerge', { fieldRules: { tags: 'arrayUnion' } })),
		);
		expect(r.record!.tags).toEqual(['a', 'b', { x: 1, y: 2 }, { x: 3 }]);
	});

	test('preferNonEmpty: the preferred record unless its value is empty', () => {
		const input = conflict([
			['A', [edit({ note: '' }, T2)]],
			['B', [edit({ note: 'hello' }, T1)]],
		]);
		const r = resolved(
			resolveKey(input, opts('fieldMerge', { fieldRules: { note: 'preferNonEmpty' } })),
		);
		expect(r.record!.note).toBe('hello');
		expect(r.record!.updated_at).toBe(T2);
		expect(r.audit.fieldWinners.note).toEqual({ from: ['B'], rule: 'preferNonEmpty' });
		const both = conflict([
			['A', [edit({ note: 'mine' }, T2)]],
			['B', [edit({ note: 'theirs' }, T1)]],
		]);
		const r2 = resolved(
			resolveKey(both, opts('fieldMerge', { fieldRules: { note: 'preferNonEmpty' } })),
		);
		expect(r2.record!.note).toBe('mine');
	});

	test('preferNonEmpty on top of a record-level winner with an empty value', () => {
		const input = conflict([
			['A', [edit({ note: null, email: 'a@x.io' }, T2)]],
			['B', [edit({ note: 'kept', email: 'b@x.io' }, T1)]],
		]);
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { note: 'preferNonEmpty' } })),
		);
		expect(r.audit.winner).toBe('A');
		expect(r.record).toMatchObject({ email: 'a@x.io', note: 'kept' });
	});

	test('a record-level rule per field (sourceWins on one field, LWW for the record)', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ email: 'b@x.io', phone: '222' }, T2)]],
		]);
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { email: 'sourceWins' } })),
		);
		expect(r.audit.winner).toBe('B');
		expect(r.record).toMatchObject({ email: 'a@x.io', phone: '222', updated_at: T2 });
		expect(r.audit.fieldWinners).toEqual({ email: { from: ['A'], rule: 'sourceWins' } });
		expect(r.audit.losingValues).toEqual({ A: { phone: '111' }, B: { email: 'b@x.io' } });
	});

	test('a rule on an ignored field is not applied', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ email: 'b@x.io' }, T2)]],
		]);
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { updated_at: 'min' } })),
		);
		expect(r.record!.updated_at).toBe(T2);
		expect(r.audit.fieldWinners).toEqual({});
	});

	test('a sourceWins field rule when the source deleted the record takes a live value, it does not crash', () => {
		// A (source) deleted the key by absence; B and C both changed it. LWW picks B for the
		// record; the email rule "sourceWins" has no source value to take.
		const input = conflict(
			[
				['A', []],
				['B', [edit({ email: 'b@x.io' }, T2)]],
				['C', [edit({ email: 'c@x.io' }, T1)]],
			],
			{ scope: 'all', missingMeansDeleted: true },
		);
		expect(input.states).toEqual({ A: 'deleted', B: 'changed', C: 'changed' });
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { email: 'sourceWins' } })),
		);
		expect(r.audit.winner).toBe('B');
		expect(r.record).toMatchObject({ email: 'b@x.io' });
	});

	test('a sourceWins field rule when the source holds a tombstone does not drop the field', () => {
		const input = conflict([
			['A', [{ id: 1, deleted: true, updated_at: T1 }]],
			['B', [edit({ email: 'b@x.io' }, T3)]],
			['C', [edit({ email: 'c@x.io' }, T2)]],
		]);
		const r = resolved(
			resolveKey(input, opts('lastWriterWins', { fieldRules: { email: 'sourceWins' } })),
		);
		expect(r.audit.winner).toBe('B');
		expect(r.record).toHaveProperty('email');
		expect(r.record!.email).toBe('b@x.io');
	});
});

describe('manualReview', () => {
	test('a conflict goes to review, untouched', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' })]],
			['B', [edit({ email: 'b@x.io' })]],
		]);
		expect(resolveKey(input, opts('manualReview'))).toEqual({
			review: true,
			reason: 'strategy is manual review',
		});
	});
});

describe('update against delete', () => {
	const { id: _i, updated_at: _u, ...compared } = B0;
	void _i;
	void _u;

	test('LWW, the delete is newer: the record is deleted, the live values are the losing values', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [{ id: 1, deleted: true, updated_at: T2 }]],
		]);
		expect(input.conflictType).toBe('update_delete');
		const res = resolveKey(input, opts('lastWriterWins'));
		expect(res).toEqual({
			review: false,
			record: null,
			deleted: true,
			audit: {
				strategy: 'lastWriterWins',
				winner: 'B',
				fieldWinners: {},
				losingValues: { A: { ...compared, email: 'a@x.io' } },
				notes: [`lastWriterWins: B has the latest updated-at (${T2}; A ${T1})`],
			},
		});
		expectEveryLossAudited(input, res);
	});

	test('LWW, the update is newer: the update wins and the delete is recorded as lost', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T3)]],
			['B', [{ id: 1, deleted: true, updated_at: T2 }]],
		]);
		const res = resolveKey(input, opts('lastWriterWins'));
		expect(res).toEqual({
			review: false,
			record: edit({ email: 'a@x.io' }, T3),
			deleted: false,
			audit: {
				strategy: 'lastWriterWins',
				winner: 'A',
				fieldWinners: {},
				losingValues: { B: { '(deleted)': true } },
				notes: [`lastWriterWins: A has the latest updated-at (${T3}; B ${T2})`],
			},
		});
	});

	test('LWW, the delete (tombstone) on the source is newer', () => {
		const input = conflict([
			['A', [{ id: 1, deleted: 'true', updated_at: T3 }]],
			['B', [edit({ email: 'b@x.io' }, T2)]],
		]);
		const r = resolved(resolveKey(input, opts('lastWriterWins')));
		expect(r).toMatchObject({ record: null, deleted: true, audit: { winner: 'A' } });
		expect(r.audit.losingValues).toEqual({ B: { ...compared, email: 'b@x.io' } });
	});

	test('a delete by absence that loses is recorded as lost too', () => {
		const input = conflict(
			[
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', []],
			],
			{ missingMeansDeleted: true },
		);
		expect(input.states).toEqual({ A: 'changed', B: 'deleted' });
		const r = resolved(resolveKey(input, opts('lastWriterWins')));
		expect(r.audit.winner).toBe('A');
		expect(r.record).toEqual(edit({ email: 'a@x.io' }, T1));
		expect(r.audit.losingValues).toEqual({ B: { '(deleted)': true } });
	});

	test('a tombstone the check calls unchanged is still a delete', () => {
		// Watermark basis: both records are older than the watermark, so both are "unchanged";
		// A holds a tombstone, B a live record: a divergent conflict. A is the later writer.
		const input = checkedOne(
			[
				['A', [{ id: 1, name: 'Ada', deleted: true, updated_at: T1 }]],
				['B', [{ id: 1, name: 'Ada', updated_at: T0 }]],
			],
			{ watermark: ms(T2) },
		);
		expect(input).toMatchObject({
			kind: 'conflict',
			conflictType: 'divergent',
			states: { A: 'unchanged', B: 'unchanged' },
		});
		const r = resolved(resolveKey(input, opts('lastWriterWins')));
		expect(r.audit.winner).toBe('A');
		expect(r.deleted).toBe(true);
		expect(r.record).toBeNull();
	});
});

describe('audit: nothing is overwritten unrecorded', () => {
	const scenarios: Array<[string, () => CheckedKey]> = [
		[
			'update_update',
			() =>
				conflict([
					['A', [edit({ email: 'a@x.io', tags: ['x'] }, T1)]],
					['B', [edit({ email: 'b@x.io', qty: 99 }, T2)]],
					['C', [B0]],
				]),
		],
		[
			'update_delete',
			() =>
				conflict([
					['A', [edit({ email: 'a@x.io' }, T1)]],
					['B', [{ id: 1, deleted: true, updated_at: T2 }]],
					['C', [B0]],
				]),
		],
		[
			'create_create',
			() =>
				checkedOne([
					['A', [{ id: 1, a: 1, b: [1] }]],
					['B', [{ id: 1, a: 2, c: { d: 1 } }]],
					['C', [{ id: 1, a: 3 }]],
				]),
		],
		[
			'fields added and removed, and a conflicting field',
			() =>
				conflict([
					['A', [edit({ phone: undefined, fax: '9', email: 'a@x.io' }, T2)]],
					['B', [edit({ note: undefined, email: 'b@x.io' }, T1)]],
				]),
		],
		[
			'one-sided changes on every side and a conflicting field',
			() =>
				conflict([
					['A', [edit({ name: 'N', tags: ['x'], email: 'a@x.io' }, T1)]],
					['B', [edit({ phone: '9', qty: 99, email: 'b@x.io' }, T2)]],
					['C', [edit({ note: 'c', score: 1 }, T3)]],
				]),
		],
		[
			'fields added and removed on different systems (a clean merge)',
			() =>
				checkedOne(
					[
						['A', [edit({ phone: undefined, fax: '9' }, T2)]],
						['B', [edit({ note: undefined, email: 'b@x.io' }, T1)]],
						['C', [B0]],
					],
					{ base: base() },
				),
		],
	];
	const rules: ResolveOptions['fieldRules'] = {
		qty: 'counter',
		tags: 'arrayUnion',
		score: 'max',
		note: 'preferNonEmpty',
	};

	for (const [name, make] of scenarios) {
		for (const strategy of STRATEGIES.filter((s) => s !== 'manualReview')) {
			for (const fieldRules of [{}, rules]) {
				test(`${name}, ${strategy}${Object.keys(fieldRules).length ? ' with field rules' : ''}`, () => {
					const input = make();
					expectEveryLossAudited(
						input,
						resolveKey(input, opts(strategy, { fieldRules, priority: ['C', 'B'] })),
					);
				});
			}
		}
	}
});

describe('determinism and purity', () => {
	const scenario = (order: 'ABC' | 'ACB') => {
		const rows: Record<string, [string, unknown[]]> = {
			A: ['A', [edit({ name: 'Ann', tags: ['a', 'b', 'x'], qty: 13 }, T1)]],
			B: ['B', [edit({ email: 'b@x.io', tags: ['a', 'b', 'y'], qty: 15, phone: '999' }, T2)]],
			C: ['C', [edit({ email: 'c@x.io', tags: ['a', 'b', 'z'], qty: 11, phone: '999' }, T2)]],
		};
		return conflict(order.split('').map((s) => rows[s]));
	};
	const cases: Array<[Strategy, Partial<ResolveOptions>]> = [
		['lastWriterWins', {}],
		['sourceWins', {}],
		['systemPriority', { priority: ['C', 'B'] }],
		['fieldMerge', {}],
		['fieldMerge', { secondary: 'systemPriority', priority: ['C'] }],
	];

	test.each(cases)('%s %p: the same input twice gives deep-equal results', (strategy, more) => {
		const a = resolveKey(scenario('ABC'), opts(strategy, more));
		const b = resolveKey(scenario('ABC'), opts(strategy, more));
		expect(a).toEqual(b);
		expect(JSON.stringify(a)).toBe(JSON.stringify(b));
	});

	test.each(cases)(
		'%s %p: systems listed in another order give the same result',
		(strategy, more) => {
			expect(resolveKey(scenario('ACB'), opts(strategy, more))).toEqual(
				resolveKey(scenario('ABC'), opts(strategy, more)),
			);
		},
	);

	test.each(cases)(
		'%s %p with per-field rules: systems listed in another order give the same result',
		(strategy, more) => {
			const fieldRules: ResolveOptions['fieldRules'] = {
				tags: 'arrayUnion',
				qty: 'counter',
				phone: 'max',
			};
			expect(resolveKey(scenario('ACB'), opts(strategy, { ...more, fieldRules }))).toEqual(
				resolveKey(scenario('ABC'), opts(strategy, { ...more, fieldRules })),
			);
		},
	);

	test('inputs are not mutated, and the result shares no objects with them', () => {
		const fieldRules: ResolveOptions['fieldRules'] = {
			tags: 'arrayUnion',
			qty: 'counter',
			score: 'max',
			note: 'preferNonEmpty',
		};
		const inputs = [
			scenario('ABC'),
			conflict([
				['A', [edit({ email: 'a@x.io' }, T1)]],
				['B', [{ id: 1, deleted: true, updated_at: T2 }]],
			]),
			checkedOne(
				[
					['A', [B0]],
					['B', [edit({ tags: ['q'] })]],
				],
				{ base: base() },
			),
		];
		for (const input of inputs) {
			const clone = structuredClone(input);
			deepFreeze(input);
			for (const strategy of STRATEGIES) {
				for (const rules of [{}, fieldRules]) {
					const options = deepFreeze(opts(strategy, { fieldRules: rules, priority: ['B'] }));
					const res = resolveKey(input, options);
					expect(input).toEqual(clone);
					if (!res.review && res.record) {
						// Writable: not one of the frozen input objects.
						expect(() => {
							res.record!.email = 'changed';
							(res.record!.tags as unknown[]).push('new');
						}).not.toThrow();
						for (const lost of Object.values(res.audit.losingValues)) {
							for (const v of Object.values(lost))
								if (v && typeof v === 'object') expect(Object.isFrozen(v)).toBe(false);
						}
					}
				}
			}
			expect(input).toEqual(clone);
		}
	});

	test('the result is plain JSON', () => {
		const res = resolveKey(
			scenario('ABC'),
			opts('fieldMerge', { fieldRules: { tags: 'arrayUnion', qty: 'counter' } }),
		);
		expect(JSON.parse(JSON.stringify(res))).toEqual(res);
	});
});

describe('bad options', () => {
	test('an unknown strategy or field rule is an error, not a silent fallback', () => {
		const input = conflict([
			['A', [edit({ email: 'a@x.io' }, T1)]],
			['B', [edit({ email: 'b@x.io' }, T2)]],
		]);
		expect(() => resolveKey(input, opts('newestWins' as Strategy))).toThrow(ResolveError);
		expect(() =>
			resolveKey(
				input,
				opts('lastWriterWins', {
					fieldRules: { email: 'sum' as ResolveOptions['fieldRules'][string] },
				}),
			),
		).toThrow(ResolveError);
	});
});
