/**
 * Keys Field: a change event may name keys without their records. Conflict Check reads the
 * records it lacks from the source system by key, so a keys-only event syncs like one that
 * carries its records; keys with a record in the payload are used as sent (and re-read as any).
 */
import { json } from '../../harness/build';
import { customer, startSystems, type StartedSystems } from '../../systems/helpers';
import { expectConverged, pipeline, report, run, seed } from '../../sync/pipeline';

let started: StartedSystems;
beforeAll(async () => {
	started = await startSystems();
}, 60000);
afterAll(async () => started?.stop());

const event = (extra: object) => ({
	source_system: 'system_c',
	target_systems: ['system_a', 'system_b'],
	sync_type: 'real_time',
	...extra,
});
const keysOnly = { check: { recordsField: 'body.records', keysField: 'body.keys' } };

beforeEach(async () => {
	await started.reset();
	for (const name of ['system_a', 'system_b'])
		await seed(started, name, [customer('c1'), customer('c2'), customer('c3')]);
	await seed(started, 'system_c', [
		customer('c1', { tier: 'gold' }),
		customer('c2'),
		customer('c3', { _deleted: true }),
	]);
});

test('a keys-only event reads its records from the source system and syncs them', async () => {
	const result = await run(
		started,
		pipeline(event({ keys: ['c1', 'c3'], records: null }), keysOnly),
	);
	expect(result.status).toBe('success');
	expect(report(result)).toMatchObject({ validation_status: 'passed', source_system: 'system_c' });
	const a = await expectConverged(started, ['c1']);
	expect(a.c1).toMatchObject({ tier: 'gold' });
	// c3 is a tombstone on system_c: the delete reaches the others too.
	for (const name of ['system_a', 'system_b']) {
		const res = await fetch(`${started.systems[name].url}/records/c3`, {
			headers: started.systems[name].headers,
		});
		expect(await res.json()).toMatchObject({ _deleted: true });
	}
	// Only the named keys were checked.
	expect(json(result.output('Conflict Check', 2))[0].counts).toMatchObject({ keys: 2 });
});

test('keys with a record in the payload are not read again by key; the others are', async () => {
	const result = await run(
		started,
		pipeline(event({ keys: ['c1', 'c2'], records: [customer('c2')] }), keysOnly),
	);
	expect(result.status).toBe('success');
	expect(json(result.output('Conflict Check', 2))[0].counts).toMatchObject({ keys: 2 });
	await expectConverged(started, ['c1', 'c2']);
});

test('a key that is not a string or a number names the item and the field', async () => {
	const result = await run(started, pipeline(event({ keys: ['c1', { id: 'c2' }] }), keysOnly));
	expect(result.status).toBe('error');
	expect(String(result.nodeError('Conflict Check')?.message)).toBe(
		'Item 0: body.keys[1] must be a key (a string or a number), got {"id":"c2"}',
	);
});
