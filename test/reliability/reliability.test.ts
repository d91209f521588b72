/**
 * The reliability suite of issue 6, in one real n8n 2.41.1 (packed package, bundled Day 66
 * workflow, three demo systems as processes), driven through the production webhook:
 *
 *   1. fault soak (soak.ts)              4. two syncs at once (concurrent.ts)
 *   2. crash and re-run (crash.ts)       5. malformed payloads (badInput.ts)
 *   3. concurrent change (concurrent.ts) 6. secrets, webhook auth, injection (secrets.ts)
 *   7. the mass-delete guard is tested in test/sync/fullSync.test.ts ("the mass-delete guard
 *      stops a sync that would delete most of a system before writing"), not repeated here.
 *
 * `npm test` runs it at the regular size; `npm run reliability` (RELIABILITY_FULL=1) at full size:
 * 10,000 soak records, 1,000 malformed payloads. Every test prints one `[reliability] ...` line of
 * counts and asserts them. One n8n serves every item (one start-up); the soak uses its own copy of
 * the workflow (own webhook path, own base, 3 s request timeouts), the others the bundled one.
 */
import { badInputTests } from './badInput';
import { describeE2e, startEnv, WORKFLOW, type Env } from './common';
import { concurrentChangeTests, twoSyncsTests } from './concurrent';
import { crashTests } from './crash';
import { secretsTests } from './secrets';
import { auditCapTests, soakTests, soakWorkflow } from './soak';

const only = process.env.RELIABILITY_ONLY?.split(',');
const part = (name: string, register: () => void) =>
	!only || only.includes(name) ? describe(name, register) : describe.skip(name, register);

describeE2e('reliability (issue 6)', () => {
	let env: Env | undefined;
	const getEnv = () => {
		if (!env) throw new Error('the reliability environment did not start');
		return env;
	};

	beforeAll(async () => {
		env = await startEnv({ workflows: [WORKFLOW, soakWorkflow()] });
	}, 300_000);

	afterAll(async () => {
		if (process.env.E2E_DEBUG) console.log(env?.n8n.logs());
		await env?.stop();
	}, 60_000);

	part('1 fault soak', () => {
		soakTests(getEnv);
		auditCapTests(getEnv);
	});
	part('3 concurrent change', () => concurrentChangeTests(getEnv));
	part('4 two syncs at once', () => twoSyncsTests(getEnv));
	part('2 crash and re-run', () => crashTests(getEnv));
	part('5 bad input', () => badInputTests(getEnv));
	part('6 secrets', () => secretsTests(getEnv));
});
