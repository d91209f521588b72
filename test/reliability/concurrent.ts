/**
 * Reliability, items 3 and 4, through the Day 66 webhook in a real n8n.
 *
 * 3. Concurrent change: while Multi Target Sync's writes to system_c are on their way (system_c
 *    answers slowly), someone changes some of those records on system_c. The write is refused by
 *    version (412), the record keeps the other person's change, and the key comes back out as a
 *    conflict (the report's conflictsRequeued). The next sync resolves it with an audit.
 * 4. Two syncs at once on overlapping keys: one from system_a, one from system_b, both field-level
 *    merge. The same data is synced three times under fresh keys: system_a's sync then system_b's,
 *    the other order, and both at once. At once must end as one of the two orders does, and no
 *    edit may be lost.
 */
import {
	content,
	duplicates,
	FULL,
	printCounts,
	size,
	SYSTEMS,
	waitFor,
	type Env,
	type Json,
} from './common';

export function concurrentChangeTests(getEnv: () => Env): void {
	const N = size(200, 1000);
	const EDITS = size(8, 40);
	const PREFIX = 'cc-';
	it(
		'a record changed on a system between Conflict Check and Multi Target Sync is refused by version and comes back as a conflict',
		async () => {
			const env = getEnv();
			const key = (i: number) => `${PREFIX}${String(i).padStart(5, '0')}`;
			const rows = Array.from({ length: N }, (_, i) => ({
				id: key(i),
				name: `Concurrent ${i}`,
				email: `cc${i}@example.com`,
				tier: 'silver',
			}));
			for (const name of SYSTEMS) await env.seed(name, rows);
			expect((await env.sync(env.sourcePayload('system_a', {}, PREFIX))).status).toBe(200);
			// The source changes every email: the sync writes every key to system_b and system_c.
			await env.seed(
				'system_a',
				rows.map((r) => ({ ...r, email: `new-${r.email}` })),
			);
			const edited = Array.from({ length: EDITS }, (_, j) => key(Math.floor((j * N) / EDITS) + 1));
			const bBefore = (await env.stats('system_b')).applied_writes;
			await env.systems.setFaults('system_c', { latencyMs: 2500 });
			const pending = env.sync(env.sourcePayload('system_a', {}, PREFIX));
			// system_b answers at once: its first applied write means the check is over and the
			// writes to system_c are in flight, each held 2.5 s before it is processed.
			const started = await waitFor(
				async () => (await env.stats('system_b')).applied_writes > bBefore,
				120_000,
				5,
			);
			expect(started).toBe(true);
			const storeC = env.store('system_c');
			await env.seed(
				'system_c',
				edited.map((k) => ({ ...rows.find((r) => r.id === k)!, tier: `edited-on-c` })),
			);
			const answer = await pending;
			await env.systems.setFaults('system_c', { latencyMs: 0 });
			const r = answer.body;
			const requeued = ((r.conflictsRequeued as Json[] | undefined) ?? []).map(
				(c) => `${String(c.key)}@${String(c.system)}`,
			);
			const after = env.store('system_c');
			const kept = edited.filter((k) => after.get(k)?.fields.tier === 'edited-on-c').length;
			const writtenOthers = rows.filter(
				(row) => !edited.includes(row.id) && after.get(row.id)?.fields.email === `new-${row.email}`,
			).length;

			// The next sync sees both changes (system_a's email, system_c's tier): edits to different
			// fields, so a clean change merged field by field (no conflict), with its audit in the log.
			const next = await env.sync(
				env.sourcePayload('system_a', { strategy: 'fieldMerge' }, PREFIX),
			);
			const stores = Object.fromEntries(SYSTEMS.map((s) => [s, env.store(s)]));
			const lost = edited.filter((k) =>
				SYSTEMS.some((s) => {
					const f = stores[s].get(k)?.fields ?? {};
					return f.tier !== 'edited-on-c' || !String(f.email).startsWith('new-');
				}),
			).length;
			const audited = new Set(
				env
					.syncLog()
					.flatMap((row) => JSON.parse(String(row.resolutions ?? '[]')) as Json[])
					.map((a) => String(a.key)),
			);
			const log = (await env.writeLog('system_c')).filter((w) => w.id.startsWith(PREFIX));
			printCounts(`3 concurrent change, ${N} keys`, {
				editedBetweenCheckAndWrite: EDITS,
				syncStatus: answer.status,
				refusedAsConflict: requeued.length,
				editsKept: kept,
				othersWritten: writtenOthers,
				nextSync: `${next.status}/${String(next.body.validation_status)}`,
				nextConflicts: next.body.conflicts_detected,
				lost,
				unaudited: edited.filter((k) => !audited.has(k)).length,
				duplicatedOnC: duplicates(log).replayedTwice + duplicates(log).unkeyed,
			});
			expect(storeC.get(edited[0])?.fields.tier).toBe('silver'); // the edit came after the check
			expect(answer.status).toBe(207);
			expect(requeued.sort()).toEqual(edited.map((k) => `${k}@system_c`).sort());
			expect(kept).toBe(EDITS);
			expect(writtenOthers).toBe(N - EDITS);
			expect(next.status).toBe(200);
			expect(next.body).toMatchObject({ validation_status: 'passed', conflicts_detected: 0 });
			expect(lost).toBe(0);
			expect(edited.filter((k) => !audited.has(k))).toEqual([]);
		},
		FULL ? 900_000 : 300_000,
	);
}

export function twoSyncsTests(getEnv: () => Env): void {
	const K = size(60, 200);
	const ROUNDS = size(2, 5);
	it(
		'two syncs at once on overlapping keys end as one of the two orders would, and lose no edit',
		async () => {
			const env = getEnv();
			let mixes = 0;
			let lostEdits = 0;
			let requeued = 0;
			let asOrder12 = 0;
			let asOrder21 = 0;
			let nonConverged = 0;
			const duplicated: number[] = [];
			for (let round = 1; round <= ROUNDS; round++) {
				const finals: Record<string, Map<string, string[]>> = {};
				for (const variant of ['o12', 'o21', 'par'] as const) {
					const prefix = `two-${round}-${variant}-`;
					const key = (i: number) => `${prefix}${String(i).padStart(4, '0')}`;
					const rows = Array.from({ length: K }, (_, i) => ({
						id: key(i),
						name: `Two ${i}`,
						email: `two${i}@example.com`,
						tier: 'silver',
						balance: 100 + i,
					}));
					for (const name of SYSTEMS) await env.seed(name, rows);
					expect((await env.sync(env.sourcePayload('system_a', {}, prefix))).status).toBe(200);
					// system_a edits emails of the first two thirds, system_b tiers of the last two;
					// both edit the balance of the keys in the middle (system_b later).
					const third = Math.floor(K / 3);
					await env.seed(
						'system_a',
						rows
							.filter((_, i) => i < 2 * third)
							.map((r, i) => ({
								...r,
								email: `a-${r.email}`,
								...(i >= third && i < Math.floor(K / 2) ? { balance: 1 } : {}),
							})),
					);
					await env.seed(
						'system_b',
						rows
							.filter((_, i) => i >= third)
							.map((r) => {
								const i = rows.indexOf(r);
								return { ...r, tier: 'b-gold', ...(i < Math.floor(K / 2) ? { balance: 2 } : {}) };
							}),
					);
					const s1 = env.sourcePayload('system_a', { strategy: 'fieldMerge' }, prefix);
					const s2 = env.sourcePayload('system_b', { strategy: 'fieldMerge' }, prefix);
					for (const s of SYSTEMS) await env.systems.setFaults(s, { latencyMs: 40 });
					let answers;
					if (variant === 'o12') answers = [await env.sync(s1), await env.sync(s2)];
					else if (variant === 'o21') answers = [await env.sync(s2), await env.sync(s1)];
					else answers = await Promise.all([env.sync(s1), env.sync(s2)]);
					for (const s of SYSTEMS) await env.systems.setFaults(s, { latencyMs: 0 });
					requeued += answers.reduce(
						(n, a) => n + ((a.body.conflictsRequeued as unknown[] | undefined)?.length ?? 0),
						0,
					);
					const stores = Object.fromEntries(SYSTEMS.map((s) => [s, env.store(s)]));
					const final = new Map<string, string[]>();
					rows.forEach((row, i) => {
						const held = SYSTEMS.map((s) => content(stores[s].get(row.id)));
						final.set(String(i), held);
						if (new Set(held).size > 1) nonConverged += variant === 'par' ? 1 : 0;
						const f = stores.system_c.get(row.id)?.fields ?? {};
						// No edit lost: system_a's email and system_b's tier both survive everywhere.
						const wantEmail = i < 2 * third ? `a-${row.email}` : row.email;
						const wantTier = i >= third ? 'b-gold' : 'silver';
						if (held.some((h) => h !== held[0]) || f.email !== wantEmail || f.tier !== wantTier)
							lostEdits++;
					});
					finals[variant] = final;
					if (process.env.RELIABILITY_DEBUG)
						process.stdout.write(
							`[two] ${variant}: ${answers.map((a) => `${a.status} ${String(a.body.validation_status)} w=${String(a.body.records_written)} c=${String(a.body.conflicts_detected)} req=${JSON.stringify(a.body.conflictsRequeued)}`).join(' | ')}\n` +
								[0, Math.floor(K / 3), Math.floor(K / 2), K - 1]
									.map((i) => `  ${i}: ${JSON.stringify(final.get(String(i)))}`)
									.join('\n') +
								'\n',
						);
					for (const s of SYSTEMS) {
						const d = duplicates((await env.writeLog(s)).filter((w) => w.id.startsWith(prefix)));
						duplicated.push(d.replayedTwice + d.unkeyed + d.rewritten);
					}
				}
				const same = (x: Map<string, string[]>, y: Map<string, string[]>) =>
					[...x].every(([k, v]) => JSON.stringify(v) === JSON.stringify(y.get(k)));
				const is12 = same(finals.par, finals.o12);
				const is21 = same(finals.par, finals.o21);
				if (is12) asOrder12++;
				if (is21) asOrder21++;
				if (!is12 && !is21) mixes++;
			}
			printCounts(`4 two syncs at once, ${ROUNDS} rounds x ${K} keys`, {
				rounds: ROUNDS,
				endedAsOrder12: asOrder12,
				endedAsOrder21: asOrder21,
				mixes,
				nonConvergedKeys: nonConverged,
				refusedWritesRequeued: requeued,
				lostEdits,
				duplicated: duplicated.reduce((a, b) => a + b, 0),
			});
			expect(mixes).toBe(0);
			expect(nonConverged).toBe(0);
			expect(lostEdits).toBe(0);
			expect(duplicated.every((d) => d === 0)).toBe(true);
		},
		FULL ? 1_800_000 : 300_000,
	);
}
