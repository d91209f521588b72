import {
	baseUpdates,
	DELETED_FINGERPRINT,
	fingerprint,
	keyDifferences,
	liveRecordsByKey,
	readBackVerdict,
	recordKey,
	syncedSystems,
	tallySyncResults,
	validatedEntries,
	type RecordData,
	type SyncResult,
} from '../../nodes/shared/engine';

const IGNORED_FIELDS = ['id', 'updated_at', 'version', '_deleted'];
const IGNORED = new Set(IGNORED_FIELDS);
const customer = (id: string, fields: RecordData = {}): RecordData => ({
	id,
	name: `Customer ${id}`,
	tier: 'silver',
	...fields,
});

/** A Multi Target Sync result item; `expected: null` is a delete. */
function syncResult(
	key: string,
	system: string,
	outcome: SyncResult['outcome'],
	fields: Partial<SyncResult> = {},
): SyncResult {
	const expected = fields.expected === undefined ? customer(key) : fields.expected;
	return {
		syncId: 'sync-1',
		key,
		sourceSystem: 'a',
		syncType: 'bidirectional',
		targets: ['b', 'c'],
		systems: ['a', 'b', 'c'],
		strategy: 'lastWriterWins',
		audit: null,
		expected,
		ignoredFields: IGNORED_FIELDS,
		keyFields: ['id'],
		tombstoneField: '_deleted',
		system,
		outcome,
		action: null,
		expectedFingerprint: expected ? fingerprint(expected, IGNORED) : DELETED_FINGERPRINT,
		...fields,
	};
}

const items = (results: SyncResult[]) => results.map((result, item) => ({ item, result }));
const held = (system: Record<string, RecordData[]>) =>
	new Map(
		Object.entries(system).map(([name, list]) => [
			name,
			new Map(list.map((r) => [String(r.id), r])),
		]),
	);
const audit = {
	strategy: 'lastWriterWins' as const,
	winner: 'a',
	fieldWinners: {},
	losingValues: {},
	notes: [],
};

describe('tallySyncResults', () => {
	test('one entry per key, with each system’s outcome and the items it came from', () => {
		const tally = tallySyncResults(
			items([
				syncResult('k1', 'a', 'unchanged'),
				syncResult('k2', 'a', 'unchanged'),
				syncResult('k1', 'b', 'written'),
			]),
		);
		expect([...tally.keys.keys()]).toEqual(['k1', 'k2']);
		expect(tally.keys.get('k1')).toMatchObject({
			key: 'k1',
			keyFields: ['id'],
			tombstoneField: '_deleted',
			systems: ['a', 'b', 'c'],
			outcomes: { a: 'unchanged', b: 'written' },
			items: [0, 2],
		});
		expect(tally.keys.get('k1')!.ignored).toEqual(IGNORED);
		expect(tally.first!.key).toBe('k1');
	});

	test('counts every outcome; a dry run’s plan is not a write', () => {
		const tally = tallySyncResults(
			items([
				syncResult('k1', 'a', 'written'),
				syncResult('k1', 'b', 'unchanged'),
				syncResult('k1', 'c', 'skipped'),
				syncResult('k2', 'a', 'planned'),
				syncResult('k2', 'b', 'planned', { dryRun: true }),
				syncResult('k2', 'c', 'failed', { reason: 'HTTP 503 after 5 attempts' }),
				syncResult('k3', 'a', 'failed'),
				syncResult('k3', 'b', 'conflict'),
			]),
		);
		expect(tally.sync).toEqual({
			written: 1,
			unchanged: 1,
			skipped: 1,
			failed: 2,
			conflicts: 1,
			planned: 1,
		});
		expect(tally.failures).toEqual([
			{ key: 'k2', system: 'c', reason: 'HTTP 503 after 5 attempts' },
			{ key: 'k3', system: 'a', reason: 'failed' },
		]);
		expect(tally.requeued).toEqual([{ key: 'k3', system: 'b' }]);
	});

	test('strategies count keys, not items; the audits of conflicts and of merged changes are kept, single-system changes are not', () => {
		const merged = {
			...audit,
			strategy: 'cleanChange' as const,
			winner: 'merged',
			losingValues: { b: { name: 'Old' } },
		};
		const tally = tallySyncResults(
			items([
				syncResult('k1', 'a', 'unchanged', { audit }),
				syncResult('k1', 'b', 'written', { audit }),
				syncResult('k2', 'a', 'unchanged', {
					strategy: 'cleanChange',
					audit: { ...audit, strategy: 'cleanChange' },
				}),
				syncResult('k3', 'a', 'unchanged', { strategy: null }),
				syncResult('k4', 'a', 'written', { strategy: 'cleanChange', audit: merged }),
			]),
		);
		expect(tally.strategies).toEqual({ lastWriterWins: 1, cleanChange: 2, unknown: 1 });
		expect(tally.resolutions).toEqual([
			{ key: 'k1', ...audit },
			{ key: 'k4', ...merged },
		]);
	});

	test('hand-made results without key fields: the key field is "id"', () => {
		const tally = tallySyncResults(
			items([syncResult('k1', 'a', 'written', { keyFields: null, tombstoneField: null })]),
		);
		expect(tally.keys.get('k1')).toMatchObject({ keyFields: ['id'], tombstoneField: undefined });
	});

	test('no results: no keys, no first', () => {
		const tally = tallySyncResults([]);
		expect(tally.keys.size).toBe(0);
		expect(tally.first).toBeUndefined();
	});
});

describe('readBackVerdict', () => {
	const keysOf = (...results: SyncResult[]) => [...tallySyncResults(items(results)).keys.values()];

	test('a key passes when every system holds the resolved data; versions and timestamps aside', () => {
		const keys = keysOf(syncResult('k1', 'a', 'written'));
		const verdict = readBackVerdict(
			keys,
			held({
				a: [customer('k1', { version: 3 })],
				b: [customer('k1', { updated_at: '2026-01-01' })],
				c: [customer('k1')],
			}),
		);
		expect(verdict).toEqual({ missing: [], extra: [], differing: [], passed: keys });
	});

	test('missing where the resolution has a record; a tombstone is not a record', () => {
		const keys = keysOf(syncResult('k1', 'a', 'written'));
		const verdict = readBackVerdict(
			keys,
			held({ a: [customer('k1')], b: [], c: [customer('k1', { _deleted: true })] }),
		);
		expect(verdict.missing).toEqual([
			{ key: 'k1', system: 'b' },
			{ key: 'k1', system: 'c' },
		]);
		expect(verdict.passed).toEqual([]);
	});

	test('extra where the resolution deleted the key and a system still holds it live', () => {
		const keys = keysOf(syncResult('k1', 'a', 'written', { expected: null }));
		const verdict = readBackVerdict(
			keys,
			held({ a: [], b: [customer('k1')], c: [customer('k1', { _deleted: 'true' })] }),
		);
		expect(verdict.extra).toEqual([{ key: 'k1', system: 'b' }]);
		expect(verdict.passed).toEqual([]);
		const deletedEverywhere = readBackVerdict(keys, held({ a: [], b: [], c: [] }));
		expect(deletedEverywhere.passed).toEqual(keys);
	});

	test('differing, with the fields that differ from the resolution', () => {
		const keys = keysOf(syncResult('k1', 'a', 'written'));
		const verdict = readBackVerdict(
			keys,
			held({
				a: [customer('k1')],
				b: [customer('k1', { tier: 'gold', note: 'x' })],
				c: [customer('k1')],
			}),
		);
		expect(verdict.differing).toEqual([{ key: 'k1', system: 'b', fields: ['note', 'tier'] }]);
	});

	test('a system not read back: its keys do not pass, and are not findings', () => {
		const keys = keysOf(syncResult('k1', 'a', 'written'));
		const verdict = readBackVerdict(keys, held({ a: [customer('k1')], b: [customer('k1')] }));
		expect(verdict).toEqual({ missing: [], extra: [], differing: [], passed: [] });
	});
});

describe('validatedEntries and baseUpdates: what a validated key commits', () => {
	const [k1, k2] = [
		...tallySyncResults(
			items([
				syncResult('k1', 'a', 'written'),
				syncResult('k2', 'a', 'written', { expected: null }),
			]),
		).keys.values(),
	];

	test('the fingerprint, the compared values where kept, the delete marker for a delete', () => {
		const validated = validatedEntries([k1, k2], true);
		expect(validated.get('k1')).toEqual({
			fingerprint: k1.expectedFingerprint,
			values: { name: 'Customer k1', tier: 'silver' },
		});
		expect(validated.get('k2')).toEqual({ fingerprint: DELETED_FINGERPRINT });
		expect(validatedEntries([k1], false).get('k1')).toEqual({
			fingerprint: k1.expectedFingerprint,
		});
	});

	test('one base update per validated key, in order', () => {
		const updates = baseUpdates(validatedEntries([k1, k2], true), 'T', 'sync-1');
		expect(updates).toEqual([
			{
				key: 'k1',
				fingerprint: k1.expectedFingerprint,
				values: { name: 'Customer k1', tier: 'silver' },
				syncedAt: 'T',
				syncId: 'sync-1',
			},
			{ key: 'k2', fingerprint: DELETED_FINGERPRINT, syncedAt: 'T', syncId: 'sync-1' },
		]);
		expect(Object.keys(updates[0])).toEqual(['key', 'fingerprint', 'values', 'syncedAt', 'syncId']);
	});

	test('syncedSystems: every system of the synced keys, in order of first mention', () => {
		expect(
			syncedSystems([
				{ ...k1, systems: ['b', 'a'] },
				{ ...k2, systems: ['a', 'c'] },
			]),
		).toEqual(['b', 'a', 'c']);
	});
});

describe('Every Record: liveRecordsByKey and keyDifferences', () => {
	const systems = ['a', 'b', 'c'];

	test('live records by key and system; tombstones left out, records without a key counted', () => {
		const { byKey, unkeyed } = liveRecordsByKey(
			new Map([
				['a', [customer('k1'), customer('k2', { _deleted: true }), { name: 'no id' }]],
				['b', [customer('k1')]],
			]),
			['id'],
			'_deleted',
		);
		expect([...byKey.keys()]).toEqual(['k1']);
		expect([...byKey.get('k1')!.keys()]).toEqual(['a', 'b']);
		expect(unkeyed).toBe(1);
	});

	test('composite keys', () => {
		const { byKey } = liveRecordsByKey(new Map([['a', [{ region: 'eu', id: '1', v: 1 }]]]), [
			'region',
			'id',
		]);
		expect([...byKey.keys()]).toEqual([recordKey({ region: 'eu', id: '1' }, ['region', 'id'])]);
	});

	test('missing: the systems without the key; differing: those unlike the first system, with the fields', () => {
		const { byKey } = liveRecordsByKey(
			new Map([
				['a', [customer('k2'), customer('k1'), customer('k3')]],
				['b', [customer('k1', { tier: 'gold' }), customer('k2'), customer('k3')]],
				['c', [customer('k1', { name: 'X' }), customer('k3', { version: 9 })]],
			]),
			['id'],
		);
		expect(keyDifferences(byKey, systems, IGNORED)).toEqual([
			{ key: 'k1', kind: 'differing', systems: ['b', 'c'], fields: ['name', 'tier'] },
			{ key: 'k2', kind: 'missing', systems: ['c'] },
		]);
	});

	test('the same live records everywhere: no difference', () => {
		const same = new Map(systems.map((s) => [s, [customer('k1'), customer('k2')]]));
		expect(keyDifferences(liveRecordsByKey(same, ['id']).byKey, systems, IGNORED)).toEqual([]);
	});
});
