/**
 * Reliability, item 6: secrets and where requests go.
 * - The webhook (the Data Sync Trigger, header secret) refuses every request without its secret
 *   (missing, wrong, in the query string, as a bearer token) with 401 or 403 before any execution
 *   starts, and nothing is written.
 * - A system name from the payload cannot send a request (or a credential) anywhere but that
 *   system's configured base URL: names that are URLs, paths or user@host are unknown systems, and
 *   keys that look like paths, URLs or header injections are written as plain keys, to the right
 *   system. A trap server stands where such a request would go.
 * - After everything the suite did, no secret appears in n8n's database (saved executions with
 *   every node error, the sync log, static data), its log, or any answer: neither a system
 *   credential's nor the webhook's (the trigger saves the typed request, no header).
 */
import { printCounts, scanForLeaks, startTrap, SYSTEMS, WEBHOOK_SECRET, type Env } from './common';

export function secretsTests(getEnv: () => Env): void {
	it('the webhook refuses requests without its secret, and writes nothing', async () => {
		const env = getEnv();
		const body = JSON.stringify({
			source_system: 'system_a',
			sync_data: [{ id: 'auth-probe-1', name: 'Auth probe' }],
		});
		const before = await Promise.all(SYSTEMS.map(async (s) => (await env.stats(s)).requests));
		const url = env.n8n.webhookUrl('data-sync');
		const attempts: Array<[string, RequestInit, string?]> = [
			['no secret', { headers: { 'Content-Type': 'application/json' } }],
			[
				'wrong secret',
				{ headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': 'nope' } },
			],
			['empty secret', { headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': '' } }],
			[
				'secret with a suffix',
				{ headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': `${WEBHOOK_SECRET}x` } },
			],
			[
				'secret as bearer token',
				{
					headers: {
						'Content-Type': 'application/json',
						Authorization: `Bearer ${WEBHOOK_SECRET}`,
					},
				},
			],
			[
				'secret in the query string',
				{ headers: { 'Content-Type': 'application/json' } },
				`?X-Sync-Secret=${WEBHOOK_SECRET}`,
			],
			[
				'secret under another header',
				{ headers: { 'Content-Type': 'application/json', 'X-Api-Key': WEBHOOK_SECRET } },
			],
		];
		const statuses: Record<string, number> = {};
		const executionsBefore = env.executionCount();
		for (const [label, init, query] of attempts) {
			const res = await fetch(`${url}${query ?? ''}`, { method: 'POST', body, ...init });
			const text = await res.text();
			env.answers.push(text);
			statuses[label] = res.status;
		}
		const after = await Promise.all(SYSTEMS.map(async (s) => (await env.stats(s)).requests));
		const reached = after.reduce((n, a, i) => n + a - before[i], 0);
		// Refused by the trigger itself: no execution starts, so nothing of the request is saved.
		const executionsStarted = env.executionCount() - executionsBefore;
		printCounts('6a webhook without its secret', {
			attempts: attempts.length,
			refused: Object.values(statuses).filter((s) => s === 403 || s === 401).length,
			statuses,
			executionsStarted,
			requestsReachingSystems: reached,
		});
		// 401: no X-Sync-Secret header (an empty one counts as none); 403: one that does not match.
		expect(statuses).toEqual({
			'no secret': 401,
			'wrong secret': 403,
			'empty secret': 401,
			'secret with a suffix': 403,
			'secret as bearer token': 401,
			'secret in the query string': 401,
			'secret under another header': 401,
		});
		expect(executionsStarted).toBe(0);
		expect(reached).toBe(0);
		for (const s of SYSTEMS) expect(env.store(s).has('auth-probe-1')).toBe(false);
	}, 120_000);

	it('no name or key in the payload sends a request or a credential outside a system’s base URL', async () => {
		const env = getEnv();
		const trap = await startTrap();
		try {
			const trapHost = trap.url.replace('http://', '');
			const badNames = [
				trap.url,
				`${trap.url}/records`,
				`system_b@${trapHost}`,
				`//${trapHost}`,
				'system_b/../..',
				`system_b/..%2F..%2F${trapHost}`,
				'system_b#',
				'system_b?url=x',
				`system_b\r\nHost: ${trapHost}`,
			];
			const statuses: number[] = [];
			const notRefused: string[] = [];
			let probe = 0;
			for (const name of badNames) {
				for (const body of [
					{
						source_system: 'system_a',
						target_systems: ['system_b', name],
						sync_data: [{ id: `inj-name-${++probe}`, name: 'x' }],
					},
					{
						source_system: name,
						target_systems: ['system_b'],
						sync_data: [{ id: `inj-name-${++probe}`, name: 'x' }],
					},
				]) {
					const a = await env.sync(body);
					statuses.push(a.status);
					// 400: the trigger refuses a name that is not a non-empty string, or names the
					// source as a target; 422: Conflict Check refuses a name no credential has.
					if (a.status !== 422 && a.status !== 400)
						notRefused.push(
							`${JSON.stringify(body).slice(0, 160)} -> ${a.status} ${a.text.slice(0, 300)}`,
						);
				}
			}
			// Keys that look like paths, URLs and header injections: plain keys, written where they belong.
			const keys = [
				'inj-../../_admin/reset',
				'inj-..',
				'inj-/../../records',
				'inj-%2e%2e%2f_admin%2freset',
				'inj-a/b?c=d#e',
				`inj-@${trapHost}`,
				`inj-${trap.url}/x`,
				'inj-\\..\\..\\',
				`inj-x\r\nHost: ${trapHost}`,
			];
			const rows = keys.map((id) => ({ id, name: 'injection probe', note: id }));
			// Nothing of a payload with a bad system name may be written anywhere.
			const writtenFromBadNames = SYSTEMS.flatMap((s) =>
				[...env.store(s).keys()].filter((k) => k.startsWith('inj-name-')).map((k) => `${s}:${k}`),
			);
			// The keys live on system_a (the source is read back to check the payload is current), and
			// the sync must carry them to system_b and system_c as the same plain keys.
			await env.seed('system_a', rows);
			const keyAnswer = await env.sync(env.sourcePayload('system_a', {}, 'inj-'));
			const stores = Object.fromEntries(SYSTEMS.map((s) => [s, env.store(s)]));
			const keysWrittenRight = keys.filter((k) =>
				['system_b', 'system_c'].every((s) => stores[s].get(k)?.fields.note === k),
			).length;
			const systemsIntact = (await Promise.all(SYSTEMS.map((s) => env.stats(s)))).every(
				(st) => st.records > 0,
			);
			printCounts('6b injection through names and keys', {
				badNames: badNames.length,
				requests: statuses.length,
				refusedAsUnknown: statuses.filter((s) => s === 422 || s === 400).length,
				answered500: statuses.filter((s) => s === 500).length,
				writtenFromBadNames: writtenFromBadNames.length,
				keyProbeStatus: `${keyAnswer.status}/${String(keyAnswer.body.validation_status)}`,
				keysWrittenAsPlainKeys: `${keysWrittenRight}/${keys.length}`,
				trapHits: trap.hits.length,
				systemsIntact,
			});
			if (notRefused.length)
				process.stdout.write(`[secrets] not refused:\n${notRefused.join('\n')}\n`);
			if (trap.hits.length) process.stdout.write(`[secrets] trap hits: ${trap.hits.join('\n')}\n`);
			expect(trap.hits).toEqual([]);
			// FINDING F2 (fails until fixed): an unknown source_system is not refused before writing.
			expect(writtenFromBadNames).toEqual([]);
			expect(notRefused).toEqual([]);
			expect(keyAnswer.status).toBe(200);
			expect(keysWrittenRight).toBe(keys.length);
			expect(systemsIntact).toBe(true);
		} finally {
			await trap.close();
		}
	}, 180_000);

	it('after everything: no secret (system or webhook) in saved executions, node errors, the sync log, the n8n log or any answer', async () => {
		const env = getEnv();
		const leaks = scanForLeaks(env);
		const syncLogRows = env.syncLog().length;
		printCounts('6c secrets after the whole suite', {
			executionsScanned: leaks.executionsScanned,
			syncLogRows,
			answersScanned: env.answers.length,
			systemSecretOccurrences: leaks.systemSecret,
			webhookSecretOccurrences: leaks.webhookSecret,
			webhookSecretInSavedExecutions: leaks.webhookSecretInSavedExecutions,
		});
		expect(leaks.executionsScanned).toBeGreaterThan(10);
		expect(leaks.systemSecret).toBe(0);
		// The webhook secret travelled with every request of the suite (X-Sync-Secret), and n8n
		// saved none of it: the Data Sync Trigger passes on the typed request, no header.
		expect(leaks.webhookSecretInSavedExecutions).toBe(0);
		expect(leaks.webhookSecret).toBe(0);
	}, 300_000);
}
