/**
 * The write plan: what Multi Target Sync sends where for one resolved key. Only what differs is
 * written; one-way never touches the source; every write is guarded by the version seen at the
 * check and carries an idempotency key that a retry or a re-run repeats exactly.
 */
import {
	checkConflicts,
	ignoredFields,
	planKey,
	PlanError,
	resolveKey,
	toCheckedKey,
	type PlanOptions,
	type RecordSpec,
	type ResolvedKey,
} from '../../nodes/shared/engine';
import { baseOf, sys, T0, T1, T2, T3 } from './helpers';

const SPEC: RecordSpec = {
	keyFields: ['id'],
	updatedAtField: 'updated_at',
	versionField: 'version',
	tombstoneField: 'deleted',
};
const NAMES = ['A', 'B', 'C'];

/**
 * Checks one key across A (source), B and C (no base unless given), and resolves it by last
 * writer wins.
 */
function resolved(
	a: unknown[],
	b: unknown[],
	c: unknown[],
	base?: Parameters<typeof checkConflicts>[0]['base'],
): ResolvedKey {
	const ignored = ignoredFields(SPEC);
	const result = checkConflicts({
		systems: [sys('A', a, SPEC), sys('B', b, SPEC), sys('C', c, SPEC)],
		scope: 'all',
		ignored,
		base,
	});
	expect(result.keys).toHaveLength(1);
	const checked = toCheckedKey(result.keys[0], NAMES, [...ignored], SPEC);
	const r = resolveKey(checked, {
		strategy: 'lastWriterWins',
		secondary: 'lastWriterWins',
		priority: [],
		fieldRules: {},
	});
	if (r.review) throw new Error('expected a resolution');
	return { ...checked, resolved: r.record, resolvedDeleted: r.deleted, audit: r.audit };
}

const options = (o: Partial<PlanOptions> = {}): PlanOptions => ({
	mode: 'bidirectional',
	targets: ['B', 'C'],
	propagateDeletes: true,
	optimistic: true,
	...o,
});

const ada = (email: string, version: number, updated_at: string) => ({
	id: 'k1',
	name: 'Ada',
	email,
	version,
	updated_at,
});

describe('planKey', () => {
	test('bidirectional: the source that lost is updated under If-Match, the winner is left alone, a missing target is created under If-None-Match', () => {
		const input = resolved([ada('a@x', 4, T1)], [ada('b@x', 7, T2)], []);
		const { writes, skips } = planKey(input, options());
		expect(
			writes.map(({ system, op, ifMatch, ifNoneMatch }) => ({ system, op, ifMatch, ifNoneMatch })),
		).toEqual([
			{ system: 'A', op: 'update', ifMatch: 4, ifNoneMatch: undefined },
			{ system: 'C', op: 'create', ifMatch: undefined, ifNoneMatch: true },
		]);
		for (const w of writes) expect(w.record).toEqual(ada('b@x', 7, T2));
		expect(skips).toEqual([
			expect.objectContaining({
				system: 'B',
				action: 'unchanged',
				reason: 'already holds the resolved data',
			}),
		]);
		// Every write and skip says what the system must hold afterwards: the same fingerprint.
		expect(new Set([...writes, ...skips].map((p) => p.expectedFingerprint)).size).toBe(1);
	});

	test('one-way never writes the source, even where it differs from the resolution', () => {
		const input = resolved([ada('a@x', 4, T1)], [ada('b@x', 7, T2)], [ada('a@x', 2, T1)]);
		const { writes } = planKey(input, options({ mode: 'oneWay' }));
		expect(writes.map((w) => [w.system, w.op])).toEqual([['C', 'update']]);
	});

	test('a key every system already holds plans nothing', () => {
		const same = (v: number) => ada('same@x', v, T1);
		const input = resolved([same(1)], [same(5)], [same(9)]);
		const { writes, skips } = planKey(input, options());
		expect(writes).toEqual([]);
		expect(skips.map((s) => [s.system, s.action])).toEqual([
			['A', 'unchanged'],
			['B', 'unchanged'],
			['C', 'unchanged'],
		]);
	});

	test('a resolved delete is written as a delete where the record lives, and only reported when deletes are not propagated', () => {
		const input = resolved(
			[{ id: 'k1', deleted: true, version: 5, updated_at: T3 }],
			[ada('b@x', 7, T2)],
			[],
		);
		expect(input.resolvedDeleted).toBe(true);
		const { writes, skips } = planKey(input, options());
		expect(
			writes.map(({ system, op, ifMatch, record }) => ({ system, op, ifMatch, record })),
		).toEqual([{ system: 'B', op: 'delete', ifMatch: 7, record: undefined }]);
		expect(skips.map((s) => [s.system, s.reason])).toEqual([
			['A', 'already deleted or absent'],
			['C', 'already deleted or absent'],
		]);
		const kept = planKey(input, options({ propagateDeletes: false }));
		expect(kept.writes).toEqual([]);
		expect(kept.skips.find((s) => s.system === 'B')).toMatchObject({
			action: 'skipped',
			reason: 'deletes are not propagated',
		});
	});

	test('without optimistic concurrency no write carries If-Match or If-None-Match', () => {
		const input = resolved([ada('a@x', 4, T1)], [ada('b@x', 7, T2)], []);
		for (const w of planKey(input, options({ optimistic: false })).writes) {
			expect(w).not.toHaveProperty('ifMatch');
			expect(w).not.toHaveProperty('ifNoneMatch');
		}
	});

	test('idempotency keys repeat for the same write and change when the guarded version does', () => {
		const plan = (version: number) =>
			planKey(resolved([ada('a@x', version, T1)], [ada('b@x', 7, T2)], []), options()).writes;
		const first = plan(4).map((w) => w.idempotencyKey);
		expect(plan(4).map((w) => w.idempotencyKey)).toEqual(first);
		expect(new Set(first).size).toBe(first.length);
		const moved = plan(5);
		expect(moved.find((w) => w.system === 'A')!.idempotencyKey).not.toBe(first[0]);
		// C's create does not depend on A's version.
		expect(moved.find((w) => w.system === 'C')!.idempotencyKey).toBe(first[1]);
	});

	test('a target the check did not read is a PlanError naming target_systems: its state is unknown', () => {
		const input = resolved([ada('a@x', 4, T1)], [ada('b@x', 7, T2)], []);
		const error = (() => {
			try {
				planKey(input, options({ targets: ['B', 'crm'] }));
			} catch (e) {
				return e as PlanError;
			}
			throw new Error('no error');
		})();
		expect(error).toBeInstanceOf(PlanError);
		expect(error.field).toBe('target_systems');
		expect(error.message).toBe(
			'target "crm" was not part of the conflict check (checked: A, B, C), so its current state is unknown',
		);
	});
});

describe('a merged change (edits to different fields)', () => {
	const at0 = {
		id: 'k1',
		name: 'Ada',
		email: 'ada@x.io',
		tier: 'silver',
		version: 1,
		updated_at: T0,
	};
	// A renamed, B changed the email; C lacks the record.
	const key = () =>
		resolved(
			[{ ...at0, name: 'Ada L.', version: 2, updated_at: T1 }],
			[{ ...at0, email: 'b@x.io', version: 5, updated_at: T2 }],
			[],
			baseOf([at0], { spec: SPEC }),
		);

	test('bidirectional: the merged record goes to every system, the source included', () => {
		const k = key();
		expect(k).toMatchObject({ kind: 'change', proposedFrom: 'merged' });
		expect(k.resolved).toEqual({
			...at0,
			name: 'Ada L.',
			email: 'b@x.io',
			version: 5,
			updated_at: T2,
		});
		const { writes, skips } = planKey(k, options());
		expect(writes.map((w) => [w.system, w.op, w.ifMatch, w.record])).toEqual([
			['A', 'update', 2, k.resolved],
			['B', 'update', 5, k.resolved],
			['C', 'create', undefined, k.resolved],
		]);
		expect(skips).toEqual([]);
	});

	test('one-way: never the source, even when it lacks the other side’s edit', () => {
		const { writes } = planKey(key(), options({ mode: 'oneWay' }));
		expect(writes.map((w) => w.system)).toEqual(['B', 'C']);
	});

	test('a system already holding the merged data gets nothing', () => {
		const k = key();
		const held = { ...k, records: { ...k.records, C: { ...k.resolved!, version: 9 } } };
		const { writes, skips } = planKey(held, options());
		expect(writes.map((w) => w.system)).toEqual(['A', 'B']);
		expect(skips).toMatchObject([{ system: 'C', action: 'unchanged' }]);
	});
});
