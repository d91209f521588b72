import {
	allRecordsReport,
	day66LogFields,
	DELETED_FINGERPRINT,
	readBackVerdict,
	syncInsights,
	syncReasons,
	syncReport,
	syncStatus,
	tallySyncResults,
	type AllRecordsInput,
	type CheckSummary,
	type KeyDifference,
	type RecordData,
	type SyncReportInput,
	type SyncResult,
} from '../../nodes/shared/engine';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const record = (key: string): RecordData => ({ id: key, name: `Customer ${key}` });

/** A result item of Multi Target Sync; its fingerprint need not be real here. */
function result(
	key: string,
	system: string,
	outcome: SyncResult['outcome'],
	fields: Partial<SyncResult> = {},
): SyncResult {
	return {
		syncId: 'sync-1',
		key,
		sourceSystem: 'a',
		syncType: 'oneWay',
		targets: ['b'],
		systems: ['a', 'b'],
		strategy: 'cleanChange',
		audit: null,
		expected: record(key),
		ignoredFields: ['id'],
		keyFields: ['id'],
		tombstoneField: null,
		system,
		outcome,
		action: null,
		expectedFingerprint: `fp-${key}`,
		syncPhase: {
			action: 'write',
			durationMs: 40,
			written: 1,
			unchanged: 1,
			skipped: 0,
			failed: 0,
			conflicts: 0,
			planned: 0,
			transport: { requests: 2 },
		},
		...fields,
	};
}

const summary: CheckSummary = {
	syncId: 'sync-1',
	sourceSystem: 'a',
	systems: ['a', 'b'],
	keyFields: ['id'],
	scope: 'payload',
	base: 'none',
	watermark: null,
	counts: { keys: 10, conflicts: 2, changes: 3 },
	heldAmongCheckedKeys: {},
	notChecked: { count: 0 },
	durationMs: 12,
	checkedAt: '2026-03-01T09:59:59.000Z',
};

/** A report input from result items; every key passes unless `passed` says otherwise. */
function input(results: SyncResult[], o: Partial<SyncReportInput> = {}): SyncReportInput {
	const tally = tallySyncResults(results.map((r, item) => ({ item, result: r })));
	const keys = [...tally.keys.values()];
	return {
		tally,
		verdict: { missing: [], extra: [], differing: [], passed: keys },
		unreadable: [],
		summary,
		transport: { requests: 0 },
		base: 'not committed: Base Updates output only',
		started: T0,
		finished: T0 + 250,
		listCap: 50,
		...o,
	};
}

const passing = [result('k1', 'a', 'unchanged'), result('k1', 'b', 'written')];

describe('syncStatus', () => {
	test('passed when every key validated; nothing_to_sync without keys', () => {
		expect(syncStatus(input(passing))).toBe('passed');
		expect(syncStatus(input([]))).toBe('nothing_to_sync');
	});

	test('failed when a key did not validate, a system could not be read, or items were set aside', () => {
		const verdict = { missing: [], extra: [], differing: [], passed: [] };
		expect(syncStatus(input(passing, { verdict }))).toBe('failed');
		expect(syncStatus(input(passing, { unreadable: [{ system: 'b', reason: 'down' }] }))).toBe(
			'failed',
		);
		expect(syncStatus(input([], { setAside: [{ item: 0, reason: 'boom' }] }))).toBe('failed');
	});
});

describe('syncReasons', () => {
	test('one line per cause, in a fixed order', () => {
		const results = [
			result('k1', 'b', 'failed', { reason: 'HTTP 503' }),
			result('k2', 'b', 'conflict'),
			result('k3', 'b', 'written'),
		];
		const reasons = syncReasons(
			input(results, {
				unreadable: [{ system: 'c', reason: 'HTTP 401' }],
				setAside: [{ item: 4, reason: 'Unknown system "x"' }],
				verdict: {
					missing: [{ key: 'k3', system: 'b' }],
					extra: [{ key: 'k4', system: 'b' }],
					differing: [{ key: 'k5', system: 'b', fields: ['name'] }],
					passed: [],
				},
			}),
		);
		expect(reasons).toEqual([
			'could not read c: HTTP 401',
			'1 result item(s) set aside by an earlier node (item 4): Unknown system "x"',
			'1 record(s) missing where they should exist',
			'1 record(s) still live where they were deleted',
			'1 record(s) differ from the resolution',
			'1 write(s) failed after retries',
			'1 write(s) refused: the system changed after the check',
		]);
	});

	test('set-aside items: each distinct reason once, the item numbers capped', () => {
		const setAside = Array.from({ length: 60 }, (_, item) => ({
			item,
			reason: item % 2 ? 'Multi Target Sync: system_c is down' : 'bad credential',
		}));
		const [reason] = syncReasons(input([], { setAside }));
		expect(reason).toMatch(/^60 result item\(s\) set aside by an earlier node \(item 0, 1, 2, /);
		expect(reason).toMatch(/48, 49, …\): bad credential; Multi Target Sync: system_c is down$/);
	});

	test('none when the sync passed', () => {
		expect(syncReasons(input(passing))).toEqual([]);
	});
});

describe('syncInsights', () => {
	test('the conflict rate, failing systems, concurrent changes and unresolved conflicts', () => {
		const results = [
			result('k1', 'b', 'failed', { strategy: 'lastWriterWins' }),
			result('k2', 'b', 'conflict'),
		];
		expect(syncInsights(input(results))).toEqual([
			'conflict rate 20.0% (2 of 10 keys)',
			'writes failed on b: check that system, then send the same sync again (idempotency keys make the re-run safe)',
			'some systems changed during the sync: their keys are on the Conflicts output; send the sync again to resolve them',
			'1 conflict(s) were not resolved automatically (manual review or errors)',
		]);
	});

	test('without the check summary the rate is over the synced keys', () => {
		expect(syncInsights(input(passing, { summary: undefined }))).toEqual([
			'conflict rate 0.0% (0 of 1 keys)',
		]);
	});
});

describe('syncReport', () => {
	test('its fields, in the order the Day 66 workflow and the e2e tests read them', () => {
		const report = syncReport(input(passing));
		expect(Object.keys(report)).toEqual([
			'syncId',
			'syncType',
			'sourceSystem',
			'targetSystems',
			'systems',
			'status',
			'reasons',
			'insights',
			'counts',
			'durations',
			'transport',
			'missing',
			'extra',
			'differing',
			'failures',
			'conflictsRequeued',
			'resolutions',
			'base',
			'validatedAt',
		]);
		expect(report).toMatchObject({
			syncId: 'sync-1',
			syncType: 'oneWay',
			sourceSystem: 'a',
			targetSystems: ['b'],
			systems: ['a', 'b'],
			status: 'passed',
			counts: {
				check: summary.counts,
				resolve: { conflictsResolved: 0, byStrategy: { cleanChange: 1 } },
				sync: { written: 1, unchanged: 1, skipped: 0, failed: 0, conflicts: 0, planned: 0 },
				validate: { keys: 1, passed: 1, failed: 0, missing: 0, extra: 0, differing: 0 },
			},
			durations: { checkMs: 12, syncMs: 40, validateMs: 250 },
			transport: { sync: { requests: 2 }, validate: { requests: 0 } },
			validatedAt: '2026-03-01T10:00:00.250Z',
		});
	});

	test('a sync with nothing to write: who and what from the check summary', () => {
		const report = syncReport(input([]));
		expect(report).toMatchObject({
			syncId: 'sync-1',
			syncType: null,
			sourceSystem: 'a',
			targetSystems: [],
			systems: ['a', 'b'],
			status: 'nothing_to_sync',
			durations: { checkMs: 12, syncMs: null },
			transport: { sync: null },
		});
		expect(syncReport(input([], { summary: undefined }))).toMatchObject({
			syncId: null,
			sourceSystem: null,
			systems: [],
			counts: { check: {} },
			durations: { checkMs: null },
		});
	});

	test('lists are capped, their counts are not; resolutions are never capped', () => {
		const audit = {
			strategy: 'lastWriterWins' as const,
			winner: 'a',
			fieldWinners: {},
			losingValues: {},
			notes: [],
		};
		const results = Array.from({ length: 80 }, (_, i) =>
			result(`k${i}`, 'b', 'failed', { strategy: 'lastWriterWins', audit }),
		);
		const report = syncReport(input(results, { listCap: 50 }));
		expect(report.failures).toHaveLength(50);
		expect(report.counts.sync.failed).toBe(80);
		expect(report.resolutions).toHaveLength(80);
		expect(report.counts.resolve.conflictsResolved).toBe(80);
	});

	test('the verdict: missing, extra and differing keys from the read-back', () => {
		const results = [
			result('k1', 'b', 'written'),
			result('k2', 'b', 'written', { expected: null, expectedFingerprint: DELETED_FINGERPRINT }),
		];
		const base = input(results);
		const verdict = readBackVerdict(
			base.tally.keys.values(),
			new Map([
				['a', new Map([['k1', record('k1')]])],
				['b', new Map([['k2', record('k2')]])],
			]),
		);
		const report = syncReport({ ...base, verdict });
		expect(report).toMatchObject({
			status: 'failed',
			missing: [{ key: 'k1', system: 'b' }],
			extra: [{ key: 'k2', system: 'b' }],
			counts: { validate: { keys: 2, passed: 0, failed: 2, missing: 1, extra: 1 } },
		});
	});
});

describe('day66LogFields: the flat fields of workflows/day66-data-sync.json', () => {
	test('read off the report: planned writes count as written', () => {
		const results = [
			result('k1', 'a', 'unchanged', { strategy: 'sourceWins' }),
			result('k1', 'b', 'written', { strategy: 'sourceWins' }),
			result('k2', 'b', 'planned'),
			result('k3', 'b', 'failed'),
		];
		const report = syncReport(input(results));
		expect(day66LogFields(report)).toEqual({
			sync_id: 'sync-1',
			sync_type: 'oneWay',
			source_system: 'a',
			target_systems: ['b'],
			records_processed: 10,
			conflicts_detected: 2,
			conflicts_resolved: 1,
			records_written: 2,
			failed_writes: 1,
			validation_status: report.status,
			timestamp: report.validatedAt,
		});
	});

	test('without the check summary, records processed are the synced keys', () => {
		const report = syncReport(input(passing, { summary: undefined }));
		expect(day66LogFields(report)).toMatchObject({ records_processed: 1, conflicts_detected: 0 });
	});
});

describe('allRecordsReport', () => {
	const differences: KeyDifference[] = [
		{ key: 'k1', kind: 'differing', systems: ['b'], fields: ['name'] },
		{ key: 'k2', kind: 'missing', systems: ['a'] },
	];
	const all = (o: Partial<AllRecordsInput> = {}): AllRecordsInput => ({
		method: 'rangeChecksums',
		systems: ['a', 'b'],
		unreadable: [],
		keyFields: ['id'],
		differences: [],
		unkeyed: 0,
		keysRead: 0,
		recordsPerSystem: { a: 3000, b: 2999 },
		transfer: { levels: 1, recordsRead: 0, requests: 2, retries: 0 },
		started: T0,
		finished: T0 + 10,
		listCap: 50,
		...o,
	});

	test('equal systems pass; the Day 66 fields close the report', () => {
		const report = allRecordsReport(all());
		expect(report).toEqual({
			validation: 'allRecords',
			method: 'rangeChecksums',
			systems: ['a', 'b'],
			status: 'passed',
			reasons: [],
			counts: {
				recordsPerSystem: { a: 3000, b: 2999 },
				keysRead: 0,
				differences: 0,
				missing: 0,
				differing: 0,
			},
			transfer: { levels: 1, recordsRead: 0, requests: 2, retries: 0 },
			differences: [],
			differingKeys: [],
			durations: { validateMs: 10 },
			validatedAt: '2026-03-01T10:00:00.010Z',
			validation_status: 'passed',
			records_processed: 3000,
			timestamp: '2026-03-01T10:00:00.010Z',
		});
	});

	test('differences, unread systems and records without a key are reasons to fail', () => {
		const report = allRecordsReport(
			all({ differences, unkeyed: 3, unreadable: ['b: HTTP 500'], keyFields: ['region', 'id'] }),
		);
		expect(report.status).toBe('failed');
		expect(report.reasons).toEqual([
			'could not read: b: HTTP 500',
			'1 key(s) live on some systems and not on others',
			'1 key(s) hold different data on different systems',
			'3 record(s) without a value in region, id',
		]);
		expect(report.counts).toMatchObject({ differences: 2, missing: 1, differing: 1 });
		expect(report.differingKeys).toEqual(['k1', 'k2']);
	});

	test('read in full: says why; the differences list is capped, the key list much later', () => {
		const many = Array.from({ length: 120 }, (_, i) => ({
			key: `k${i}`,
			kind: 'missing' as const,
			systems: ['a'],
		}));
		const report = allRecordsReport(
			all({ method: 'fullRead', fallback: 'b has no Range Checksum Path', differences: many }),
		);
		expect(report.methodNote).toBe('read in full: b has no Range Checksum Path');
		expect(Object.keys(report).slice(0, 4)).toEqual([
			'validation',
			'method',
			'methodNote',
			'systems',
		]);
		expect(report.differences).toHaveLength(50);
		expect(report.differingKeys).toHaveLength(120);
	});
});
