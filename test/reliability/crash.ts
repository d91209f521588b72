/**
 * Reliability, item 2: crash and re-run. n8n is killed with SIGKILL (its whole process group)
 * while Multi Target Sync is writing, restarted on the same database, and the same request is sent
 * again. The systems must converge, no write may be applied twice, and the base (the workflow's
 * static data) must not have moved for any key while nothing was validated.
 */
import {
	content,
	duplicates,
	FULL,
	printCounts,
	size,
	sleep,
	SYSTEMS,
	waitFor,
	type Env,
	type Json,
} from './common';

const N = size(1000, 3000);
const LATENCY_MS = 400;
const PREFIX = 'crash-';

const baseOf = (env: Env): Record<string, unknown> => {
	const global = (env.staticData().global ?? {}) as Json;
	const base = (global['dataSync:day66'] ?? {}) as Json;
	return (base.keys ?? {}) as Record<string, unknown>;
};

export function crashTests(getEnv: () => Env): void {
	it(
		'SIGKILL of n8n mid-write, restart, same request again: converged, nothing written twice, base not advanced',
		async () => {
			const env = getEnv();
			const key = (i: number) => `${PREFIX}${String(i).padStart(5, '0')}`;
			const mine = (id: string) => id.startsWith(PREFIX);
			const rows = Array.from({ length: N }, (_, i) => ({
				id: key(i),
				name: `Crash ${i}`,
				tier: 'silver',
				balance: i,
			}));
			for (const name of SYSTEMS) await env.seed(name, rows);
			// A first sync commits the base for every key (nothing differs, nothing is written).
			const first = await env.sync(env.sourcePayload('system_a', {}, PREFIX));
			expect(first.status).toBe(200);
			// n8n answers from the Respond node and saves the static data when the execution ends.
			await waitFor(() => Object.keys(baseOf(env)).filter(mine).length === N, 60_000, 100);
			const baseBefore = baseOf(env);
			expect(Object.keys(baseBefore).filter(mine)).toHaveLength(N);

			// The source changes every record: the sync must update every key on system_b and system_c.
			await env.seed(
				'system_a',
				rows.map((r) => ({ ...r, tier: 'gold', balance: r.balance + 1000 })),
			);
			const body = env.sourcePayload('system_a', {}, PREFIX);
			const writesBefore = Object.fromEntries(
				await Promise.all(
					SYSTEMS.map(async (s) => [s, (await env.stats(s)).applied_writes] as const),
				),
			);
			const applied = async () =>
				(await env.stats('system_b')).applied_writes -
				writesBefore.system_b +
				(await env.stats('system_c')).applied_writes -
				writesBefore.system_c;
			for (const s of ['system_b', 'system_c'])
				await env.systems.setFaults(s, { latencyMs: LATENCY_MS });

			const inFlight = env.sync(body).catch((error: Error) => ({ status: -1, error }));
			const landed = await waitFor(async () => (await applied()) > 0, 120_000, 5);
			expect(landed).toBe(true);
			await env.n8n.crash();
			const appliedAtKill = await applied();
			const answer = await inFlight;
			// Requests already sent finish on the systems' side (the client is gone): let them land.
			await sleep(3 * LATENCY_MS);
			const appliedAfterCrash = await applied();
			const baseAfterCrash = baseOf(env);
			const baseAdvanced = Object.keys({ ...baseBefore, ...baseAfterCrash }).filter(
				(k) => mine(k) && JSON.stringify(baseBefore[k]) !== JSON.stringify(baseAfterCrash[k]),
			).length;

			for (const s of ['system_b', 'system_c']) await env.systems.setFaults(s, { latencyMs: 0 });
			const restartT0 = Date.now();
			await env.n8n.restart();
			await env.n8n.waitForWebhook('data-sync');
			const restartMs = Date.now() - restartT0;
			const rerun = await env.sync(body);
			const r = rerun.body;
			const committed = (k: string) =>
				JSON.stringify(baseOf(env)[k]) !== JSON.stringify(baseBefore[k]);
			await waitFor(() => rows.every((row) => committed(row.id)), 60_000, 100);

			const stores = Object.fromEntries(SYSTEMS.map((s) => [s, env.store(s)]));
			const lost = rows.filter((row) =>
				SYSTEMS.some(
					(s) => content(stores[s].get(row.id)) !== content(stores.system_a.get(row.id)),
				),
			).length;
			const logs = Object.fromEntries(
				await Promise.all(
					SYSTEMS.map(async (s) => [s, (await env.writeLog(s)).filter((w) => mine(w.id))] as const),
				),
			);
			const dup = Object.fromEntries(SYSTEMS.map((s) => [s, duplicates(logs[s])]));
			const baseAfter = baseOf(env);
			const notCommitted = rows.filter(
				(row) => JSON.stringify(baseAfter[row.id]) === JSON.stringify(baseBefore[row.id]),
			).length;
			printCounts(`2 crash and re-run, ${N} keys`, {
				writesPlanned: 2 * N,
				appliedAtKill,
				appliedAfterCrash,
				crashedRequestStatus: (answer as { status: number }).status,
				baseAdvancedWithoutValidation: baseAdvanced,
				restartMs,
				rerunStatus: rerun.status,
				rerunValidation: r.validation_status,
				rerunWritten: r.records_written,
				applied: sum3(SYSTEMS.map((s) => dup[s].applied)),
				replays: sum3(
					await Promise.all(SYSTEMS.map(async (s) => (await env.stats(s)).idempotent_replays)),
				),
				lost,
				duplicated: sum3(
					SYSTEMS.map((s) => dup[s].replayedTwice + dup[s].unkeyed + dup[s].rewritten),
				),
				baseNotCommittedAfterRerun: notCommitted,
			});

			// The kill landed mid-write: some writes applied, not all.
			expect(appliedAfterCrash).toBeGreaterThan(0);
			expect(appliedAfterCrash).toBeLessThan(2 * N);
			expect(baseAdvanced).toBe(0);
			expect(rerun.status).toBe(200);
			expect(r).toMatchObject({ validation_status: 'passed', failed_writes: 0 });
			// The re-run wrote exactly what the crashed run had not.
			expect(Number(r.records_written)).toBe(2 * N - appliedAfterCrash);
			expect(lost).toBe(0);
			for (const s of SYSTEMS) {
				expect({ s, ...dup[s] }).toMatchObject({ s, replayedTwice: 0, unkeyed: 0, rewritten: 0 });
			}
			expect(dup.system_a.applied).toBe(0);
			expect(dup.system_b.applied + dup.system_c.applied).toBe(2 * N);
			expect(notCommitted).toBe(0);
		},
		FULL ? 1_800_000 : 600_000,
	);
}

const sum3 = (v: number[]) => v.reduce((a, b) => a + b, 0);
