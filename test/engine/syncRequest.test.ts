/**
 * What the Data Sync Trigger accepts: a sync request (the Day 66 payload) or a change event, each
 * checked with every reason it fails (the 400 lists them all), turned into one typed sync request
 * with the trigger's defaults. Changes a sync wrote (origin = a sync id) are echoes: dropped and
 * counted; an event of echoes only starts nothing. The polled change feed: pages, cursor, records.
 */
import {
	feedCursor,
	isSyncId,
	itemProblem,
	MAX_LISTED_PROBLEMS,
	newSyncId,
	readFeedPage,
	readInbound,
	requestFromFeed,
	SYNC_REQUEST,
	type FeedPage,
	type InboundVerdict,
	type SyncRequest,
	type TriggerSettings,
} from '../../nodes/shared/engine';

const SETTINGS: TriggerSettings = {
	sourceSystem: 'system_a',
	targetSystems: ['system_b', 'system_c'],
	syncType: 'bidirectional',
	strategy: 'lastWriterWins',
	scope: 'source',
	keyFields: ['id'],
	maxRecords: 100,
};
const STAMP = {
	syncId: '0190a000-0000-7000-8000-000000000001',
	receivedAt: '2026-12-02T10:00:00.000Z',
};
const SYNC_ID = newSyncId();

function accepted(verdict: InboundVerdict): SyncRequest {
	if (verdict.kind !== 'sync') throw new Error(`not accepted: ${JSON.stringify(verdict)}`);
	// Every request is a well-formed item of its type.
	expect(itemProblem(SYNC_REQUEST, verdict.request as unknown as Record<string, unknown>)).toBe(
		undefined,
	);
	return verdict.request;
}
function reasons(verdict: InboundVerdict): string[] {
	if (verdict.kind !== 'invalid') throw new Error(`not refused: ${JSON.stringify(verdict)}`);
	return verdict.reasons;
}
const read = (body: unknown, settings = SETTINGS) => readInbound(body, settings, STAMP);

describe('sync requests', () => {
	test('the records alone: every default applied, the keys in order, nothing else kept', () => {
		const request = accepted(
			read({ sync_data: [{ id: 'c1', name: 'Ada' }, { id: 2 }], extra: 'ignored' }),
		);
		expect(request).toEqual({
			syncId: STAMP.syncId,
			syncType: 'bidirectional',
			sourceSystem: 'system_a',
			targetSystems: ['system_b', 'system_c'],
			strategy: 'lastWriterWins',
			scope: 'source',
			keys: ['c1', '2'],
			records: [{ id: 'c1', name: 'Ada' }, { id: 2 }],
			trigger: 'request',
			changes: null,
			echoesDropped: 0,
			range: null,
			receivedAt: STAMP.receivedAt,
		});
	});

	test('a partition: key_range in place of sync_data, read by range from the systems', () => {
		const request = accepted(read({ key_range: { from: 'c100', to: 'c200' }, scope: 'all' }));
		expect(request).toMatchObject({
			keys: [],
			records: null,
			range: { from: 'c100', to: 'c200' },
			scope: 'all',
		});
		// Open ends: null or left out.
		expect(accepted(read({ key_range: { to: 'c2' } })).range).toEqual({ from: null, to: 'c2' });
		expect(accepted(read({ key_range: { from: 'c9', to: null } })).range).toEqual({
			from: 'c9',
			to: null,
		});
	});

	test('a bad key range: every reason, and never with records', () => {
		expect(reasons(read({ key_range: { from: 'b', to: 'a' }, sync_data: [{ id: 'c1' }] }))).toEqual(
			[
				'send sync_data or key_range, not both: a key range is read from the systems',
				'key_range.from ("b") must sort before key_range.to ("a")',
			],
		);
		expect(reasons(read({ key_range: 'c1..c9' }))).toEqual([
			'key_range must be an object {from, to}, not "c1..c9"',
		]);
		expect(reasons(read({ key_range: { from: 7, to: '' } }))).toEqual([
			'key_range.from must be a key (a non-empty string) or null, not 7',
			'key_range.to must be a key (a non-empty string) or null, not ""',
		]);
	});

	test('every field the request names wins over the default', () => {
		const request = accepted(
			read({
				sync_data: [{ id: 'c1' }],
				source_system: 'system_b',
				target_systems: ['system_a'],
				sync_type: 'one_way',
				strategy: 'fieldMerge',
				scope: 'all',
			}),
		);
		expect(request).toMatchObject({
			sourceSystem: 'system_b',
			targetSystems: ['system_a'],
			syncType: 'one_way',
			strategy: 'fieldMerge',
			scope: 'all',
		});
	});

	test('null fields are left out, as the Day 66 expressions (?? default) had it', () => {
		const request = accepted(
			read({ sync_data: [{ id: 'c1' }], sync_type: null, strategy: null, target_systems: null }),
		);
		expect(request).toMatchObject({ syncType: 'bidirectional', strategy: 'lastWriterWins' });
	});

	test('a default target that is the named source is left out of the targets', () => {
		const request = accepted(read({ sync_data: [{ id: 'c1' }], source_system: 'system_b' }));
		expect(request.targetSystems).toEqual(['system_c']);
	});

	test('composite keys: the key is the JSON array of its parts', () => {
		const request = accepted(
			read({ sync_data: [{ region: 'eu', id: 7 }] }, { ...SETTINGS, keyFields: ['region', 'id'] }),
		);
		expect(request.keys).toEqual(['["eu","7"]']);
	});

	test('a bad request gets every reason at once, one per field', () => {
		expect(
			reasons(
				read({
					sync_data: [{ id: 'c1' }, { name: 'no key' }, 'text', { id: 'c1' }],
					sync_type: 'sideways',
					strategy: 'coinFlip',
					scope: 'everything',
					source_system: 7,
					target_systems: ['system_b', '', 'system_b'],
				}),
			),
		).toEqual([
			'sync_data[1] has no key: "id" is missing, empty, or not a string or number',
			'sync_data[2] must be an object (a record), not "text"',
			'sync_data[3] repeats the key "c1" of sync_data[0]',
			'sync_type must be one of bidirectional, one_way, real_time, not "sideways"',
			'strategy must be one of lastWriterWins, sourceWins, systemPriority, fieldMerge, manualReview, not "coinFlip"',
			'scope must be one of source, all, not "everything"',
			'source_system must be a system name (a non-empty string), not 7',
			'target_systems[1] must be a system name, not ""',
			'target_systems[2] repeats "system_b"',
		]);
	});

	test('sync_data missing, empty, not an array, or over the limit', () => {
		expect(reasons(read({}))).toEqual(['sync_data is missing: send a non-empty array of records']);
		expect(reasons(read({ sync_data: [] }))).toEqual([
			'sync_data is empty: send at least one of the records',
		]);
		expect(reasons(read({ sync_data: { id: 'x' } }))).toEqual([
			'sync_data must be an array of records, not {"id":"x"}',
		]);
		const many = Array.from({ length: 101 }, (_, i) => ({ id: i }));
		expect(reasons(read({ sync_data: many }))).toEqual([
			'sync_data holds 101 records, over the limit of 100',
		]);
	});

	test('target_systems must be a non-empty array, and never name the source', () => {
		expect(reasons(read({ sync_data: [{ id: 1 }], target_systems: [] }))).toEqual([
			'target_systems must be a non-empty array of system names, not []',
		]);
		expect(reasons(read({ sync_data: [{ id: 1 }], target_systems: 'system_b' }))).toEqual([
			'target_systems must be a non-empty array of system names, not "system_b"',
		]);
		expect(reasons(read({ sync_data: [{ id: 1 }], target_systems: ['system_a'] }))).toEqual([
			'target_systems[0] is the source system "system_a"',
		]);
	});

	test('records that cannot be rebuilt safely are refused: prototype fields, deep nesting', () => {
		const polluted = JSON.parse('{"sync_data":[{"id":"p","__proto__":{"polluted":true}}]}');
		expect(reasons(read(polluted))).toEqual([
			'sync_data[0] is holding a field named "__proto__", which is not allowed at any depth',
		]);
		let deep: unknown = 'leaf';
		for (let i = 0; i < 70; i++) deep = { deep };
		expect(reasons(read({ sync_data: [{ id: 'd', deep }] }))).toEqual([
			'sync_data[0] is nested deeper than 64 levels',
		]);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	test('a huge bad value is shown cut short, and many bad records are counted past the first few', () => {
		const [reason] = reasons(read({ sync_data: [{ id: 1 }], sync_type: 'b'.repeat(100_000) }));
		expect(reason.length).toBeLessThan(150);
		const bad = Array.from({ length: MAX_LISTED_PROBLEMS + 5 }, () => ({ name: 'no key' }));
		const listed = reasons(read({ sync_data: bad }));
		expect(listed).toHaveLength(MAX_LISTED_PROBLEMS + 1);
		expect(listed.at(-1)).toBe('... and 5 more records with problems');
	});

	test('a body that is not an object, or an unknown type, is one reason', () => {
		expect(reasons(read([{ id: 1 }]))).toEqual(['the body must be a JSON object, not [{"id":1}]']);
		expect(reasons(read('text'))).toEqual(['the body must be a JSON object, not "text"']);
		expect(reasons(read({ type: 'sync', sync_data: [{ id: 1 }] }))).toEqual([
			'type must be "changes" (a change event) or absent (a sync request), not "sync"',
		]);
	});

	test('without default targets, a request that names none is refused', () => {
		const settings = { ...SETTINGS, targetSystems: [] };
		expect(reasons(read({ sync_data: [{ id: 1 }] }, settings))).toEqual([
			'target_systems is missing, and the trigger has no default Target Systems',
		]);
	});
});

describe('change events', () => {
	const change = (key: string, origin: string | null, seq = 1, op = 'upsert') => ({
		seq,
		key,
		op,
		origin,
		at: '2026-12-02T09:59:59.000Z',
	});

	test('a person’s edit on system_b starts a real_time sync from system_b to the others', () => {
		const request = accepted(
			read({
				type: 'changes',
				system: 'system_b',
				changes: [change('cust-1', null, 12)],
				records: [{ id: 'cust-1', name: 'Ada' }],
			}),
		);
		expect(request).toEqual({
			syncId: STAMP.syncId,
			syncType: 'real_time',
			sourceSystem: 'system_b',
			targetSystems: ['system_a', 'system_c'],
			strategy: 'lastWriterWins',
			scope: 'source',
			keys: ['cust-1'],
			records: [{ id: 'cust-1', name: 'Ada' }],
			trigger: 'changeEvent',
			changes: [change('cust-1', null, 12)],
			echoesDropped: 0,
			range: null,
			receivedAt: STAMP.receivedAt,
		});
	});

	test('changes a sync wrote (origin = its sync id) are echoes: dropped, counted, their records too', () => {
		const request = accepted(
			read({
				type: 'changes',
				system: 'system_c',
				changes: [
					change('k1', SYNC_ID, 1),
					change('k2', null, 2),
					change('k3', 'crm-import', 3),
					change('k2', SYNC_ID, 4),
				],
				records: [{ id: 'k1' }, { id: 'k2' }, { id: 'k3' }],
			}),
		);
		expect(request.keys).toEqual(['k2', 'k3']);
		expect(request.echoesDropped).toBe(2);
		expect(request.changes!.map((c) => c.seq)).toEqual([2, 3]);
		expect(request.records).toEqual([{ id: 'k2' }, { id: 'k3' }]);
	});

	test('an event of echoes only starts nothing: it says how many it dropped', () => {
		expect(
			read({
				type: 'changes',
				system: 'system_b',
				changes: [change('k1', SYNC_ID), change('k2', newSyncId(), 2, 'delete')],
			}),
		).toEqual({ kind: 'echoes', system: 'system_b', echoesDropped: 2 });
	});

	test('without records, the request names the keys and leaves the records to be read (null)', () => {
		const request = accepted(
			read({ type: 'changes', system: 'system_a', changes: [change('k1', null, 1, 'delete')] }),
		);
		expect(request).toMatchObject({ keys: ['k1'], records: null, sourceSystem: 'system_a' });
		expect(request.targetSystems).toEqual(['system_b', 'system_c']);
	});

	test('a sync id is a UUIDv7; other origins are a writer’s name, not an echo', () => {
		expect(isSyncId(newSyncId())).toBe(true);
		expect(isSyncId('0190a000-0000-4000-8000-000000000001')).toBe(false); // a UUIDv4
		expect(isSyncId('crm-import')).toBe(false);
		expect(isSyncId(null)).toBe(false);
	});

	test('a bad event gets every reason: system, each change field, each record', () => {
		expect(
			reasons(
				read({
					type: 'changes',
					system: 'system_x',
					changes: [
						{ seq: -1, key: '', op: 'update', origin: 7, at: 'yesterday' },
						'text',
						change('k1', null),
					],
					records: [{ id: 'k9' }, { name: 'no key' }],
				}),
			),
		).toEqual([
			'system "system_x" is not one of this trigger\'s systems: system_a, system_b, system_c',
			'changes[0].key must be a non-empty string, not ""',
			'changes[0].op must be upsert or delete, not "update"',
			"changes[0].origin must be a sync id, a writer's name or null, not 7",
			'changes[0].seq must be a non-negative integer, not -1',
			'changes[0].at must be an ISO 8601 date-time, not "yesterday"',
			'changes[1] must be an object (a change), not "text"',
			'records[0] has the key "k9", which no change names',
			'records[1] has no key: "id" is missing, empty, or not a string or number',
		]);
	});

	test('an event without system or changes says what is missing', () => {
		expect(reasons(read({ type: 'changes' }))).toEqual([
			'system is missing: name the system whose records changed',
			'changes is missing: send a non-empty array of changes',
		]);
		expect(reasons(read({ type: 'changes', system: null, changes: [] }))).toEqual([
			'system is missing: name the system whose records changed',
			'changes is empty: send at least one of the changes',
		]);
	});

	test('seq, origin and at may be left out (null): a system that knows less still reports', () => {
		const request = accepted(
			read({ type: 'changes', system: 'system_b', changes: [{ key: 5, op: 'upsert' }] }),
		);
		expect(request.changes).toEqual([
			{ seq: null, key: '5', op: 'upsert', origin: null, at: null },
		]);
	});
});

describe('change feed', () => {
	const entry = (seq: number, key: string, origin: string | null, record: object | null) => ({
		seq,
		key,
		op: record === null ? 'delete' : 'upsert',
		origin,
		at: '2026-12-02T09:00:00.000Z',
		record,
	});
	function page(body: unknown): FeedPage {
		const read = readFeedPage(body);
		if ('problems' in read) throw new Error(read.problems.join('; '));
		return read.page;
	}

	test('a page: its changes with their records, last_seq and has_more', () => {
		const p = page({ changes: [entry(3, 'k1', null, { id: 'k1' })], last_seq: 3, has_more: false });
		expect(p).toEqual({
			changes: [{ ...entry(3, 'k1', null, { id: 'k1' }) }],
			lastSeq: 3,
			hasMore: false,
		});
	});

	test('a feed that answers something else is broken: every problem listed', () => {
		expect(readFeedPage({ changes: 'none', has_more: 'no' })).toEqual({
			problems: [
				'changes must be an array, not "none"',
				'last_seq must be a non-negative integer, not undefined',
				'has_more must be true or false, not "no"',
			],
		});
		expect(
			readFeedPage({
				changes: [{ key: 'k', op: 'upsert', record: 5 }],
				last_seq: 0,
				has_more: false,
			}),
		).toEqual({
			problems: ['changes[0].seq is missing: a feed entry needs its seq'],
		});
	});

	test('the cursor: the last change read while there is more, last_seq at the end, never back', () => {
		const more = page({
			changes: [entry(5, 'a', null, {}), entry(7, 'b', null, {})],
			last_seq: 7,
			has_more: true,
		});
		expect(feedCursor(more, 4)).toBe(7);
		// A feed whose last_seq is its head, not the page's end: paging goes on from the page.
		expect(feedCursor({ ...more, lastSeq: 90 }, 4)).toBe(7);
		expect(feedCursor({ changes: [], lastSeq: 12, hasMore: false }, 4)).toBe(12);
		expect(feedCursor({ changes: [], lastSeq: 0, hasMore: false }, 4)).toBe(4);
		expect(feedCursor({ changes: [], lastSeq: 4, hasMore: true }, 4)).toEqual({
			stuck: 'the feed says it has more after 4 but gave nothing past it',
		});
	});

	test('polled changes become one real_time sync: echoes dropped, each key’s newest record', () => {
		const changes = page({
			changes: [
				entry(1, 'k1', null, { id: 'k1', v: 1 }),
				entry(2, 'k1', SYNC_ID, { id: 'k1', v: 2 }),
				entry(3, 'k2', SYNC_ID, { id: 'k2' }),
				entry(4, 'k3', null, null),
			],
			last_seq: 4,
			has_more: false,
		}).changes;
		const request = accepted(requestFromFeed('system_c', changes, SETTINGS, STAMP));
		expect(request).toMatchObject({
			syncType: 'real_time',
			sourceSystem: 'system_c',
			targetSystems: ['system_a', 'system_b'],
			trigger: 'changeFeed',
			keys: ['k1', 'k3'],
			// k1's newest state (written back by the sync after the edit); k3 deleted: no record.
			records: [{ id: 'k1', v: 2 }],
			echoesDropped: 2,
		});
		expect(request.changes!.map((c) => c.seq)).toEqual([1, 4]);
		expect(request.changes![0]).not.toHaveProperty('record');
	});

	test('polled echoes only start nothing', () => {
		const changes = page({
			changes: [entry(9, 'k1', SYNC_ID, { id: 'k1' })],
			last_seq: 9,
			has_more: false,
		}).changes;
		expect(requestFromFeed('system_b', changes, SETTINGS, STAMP)).toEqual({
			kind: 'echoes',
			system: 'system_b',
			echoesDropped: 1,
		});
	});

	test('a feed record whose key is not its change’s key is a broken feed', () => {
		const changes = page({
			changes: [entry(1, 'k1', null, { id: 'k2' })],
			last_seq: 1,
			has_more: false,
		}).changes;
		expect(reasons(requestFromFeed('system_b', changes, SETTINGS, STAMP))).toEqual([
			'the record of change seq 1 has the key "k2", not "k1"',
		]);
	});
});
