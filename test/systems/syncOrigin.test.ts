/**
 * The sync's own writes in the demo systems' change feeds: Multi Target Sync (in n8n's engine)
 * sends its sync id as X-Sync-Origin with every write, so each target's feed and events name it
 * as the origin of those changes, while a person's edit (a plain PUT) has origin null. This is
 * what lets a real-time sync recognise its own echoes and drop them.
 */
import { json } from '../harness/build';
import { payload, pipeline, run, seed } from '../sync/pipeline';
import { customer, startReceiver, startSystems, type StartedSystems } from './helpers';

let started: StartedSystems;

beforeAll(async () => {
	started = await startSystems();
}, 60000);

afterAll(async () => {
	await started?.stop();
});

const syncWith = async (syncId: string) =>
	run(started, pipeline(await payload(started), { check: { options: { syncId } } }));

async function plainPut(name: string, id: string, body: object): Promise<void> {
	const s = started.systems[name];
	const res = await fetch(`${s.url}/records/${id}`, {
		method: 'PUT',
		headers: { ...s.headers, 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	expect(res.status).toBeLessThan(300);
}

describe("a sync's writes carry its sync id as their origin", () => {
	beforeEach(async () => {
		await started.reset();
		await seed(
			started,
			'system_a',
			['s1', 's2', 's3'].map((id) => customer(id)),
		);
	});

	it('creates, updates and deletes on the targets show the sync id; a plain PUT shows null', async () => {
		const receiver = await startReceiver();
		const subscription = await started.subscribe('system_c', receiver.url, 'hook-secret');
		try {
			const first = await syncWith('sync-origin-0001');
			expect(json(first.output('Sync Validate', 0))[0]).toMatchObject({ status: 'passed' });
			for (const name of ['system_b', 'system_c']) {
				const changes = await started.changes(name);
				expect(changes.map((c) => [c.key, c.op, c.origin])).toEqual([
					['s1', 'upsert', 'sync-origin-0001'],
					['s2', 'upsert', 'sync-origin-0001'],
					['s3', 'upsert', 'sync-origin-0001'],
				]);
			}
			// The source was not written: its feed holds the seed only (no origin).
			expect((await started.changes('system_a')).map((c) => c.origin)).toEqual([null, null, null]);

			// A person edits on system_a and deletes on system_a; the next sync carries both over.
			await plainPut('system_a', 's2', customer('s2', { tier: 'gold' }));
			const a = started.systems.system_a;
			await fetch(`${a.url}/records/s3`, { method: 'DELETE', headers: a.headers });
			const aFeed = await started.changes('system_a');
			expect(aFeed.slice(3).map((c) => [c.key, c.op, c.origin])).toEqual([
				['s2', 'upsert', null],
				['s3', 'delete', null],
			]);
			const before = (await started.changes('system_b')).at(-1)!.seq;
			await syncWith('sync-origin-0002');
			expect(
				(await started.changes('system_b', before)).map((c) => [c.key, c.op, c.origin]),
			).toEqual([
				['s2', 'upsert', 'sync-origin-0002'],
				['s3', 'delete', 'sync-origin-0002'],
			]);

			// The same change pushed as an event names the sync too.
			await receiver.waitFor(
				(events) => events.flatMap((e) => e.body.changes).filter((c) => c.origin).length === 5,
			);
			const pushed = receiver.accepted.flatMap((e) => e.body.changes);
			expect(pushed.map((c) => [c.key, c.op, c.origin])).toEqual([
				['s1', 'upsert', 'sync-origin-0001'],
				['s2', 'upsert', 'sync-origin-0001'],
				['s3', 'upsert', 'sync-origin-0001'],
				['s2', 'upsert', 'sync-origin-0002'],
				['s3', 'delete', 'sync-origin-0002'],
			]);

			// A person's edit on a target: origin null, so a real-time sync takes it as news.
			const last = (await started.changes('system_b')).at(-1)!.seq;
			await plainPut('system_b', 's1', customer('s1', { balance: 99 }));
			expect((await started.changes('system_b', last)).map((c) => [c.key, c.op, c.origin])).toEqual(
				[['s1', 'upsert', null]],
			);

			// A sync with nothing to do writes nothing, so it leaves no echo.
			const quiet = (await started.changes('system_c')).at(-1)!.seq;
			await plainPut('system_a', 's1', customer('s1', { balance: 99 }));
			await syncWith('sync-origin-0003');
			expect((await started.changes('system_b')).at(-1)!.seq).toBe(last + 1);
			expect((await started.changes('system_c', quiet)).map((c) => [c.key, c.origin])).toEqual([
				['s1', 'sync-origin-0003'],
			]);
		} finally {
			await started.unsubscribe('system_c', subscription);
			await receiver.close();
		}
	});
});
