/**
 * End-to-end: n8n 2.41.1 in queue mode (test/e2e/queue.ts): one main, two `n8n worker`
 * processes at concurrency 1, Redis as the queue, PostgreSQL as n8n's database, this package
 * (packed) loaded by every process.
 *
 * - POST /webhook/queue-probe (respond when the last node finishes): two Code nodes (one waits
 *   300 ms) feed this package's Conflict Check, whose Summary goes to an Answer node. 20 requests
 *   at once: every one is answered 200 with its own number and Conflict Check's summary, so main
 *   waited for the worker's result and the workers ran this package's node; the executions were
 *   spread over BOTH workers and none ran on main (every execution in the database was taken
 *   from the queue by a worker, and main enqueued each one).
 * - POST /webhook/queue-parent: an Execute Workflow node (sub-workflow, wait for it) and then an
 *   HTTP Request to queue-probe's production webhook. The sub-execution is created inside the
 *   worker that runs the parent (its "Execution added" debug line) and never enqueued; the HTTP
 *   one is enqueued by main and, as that worker is busy with the parent (concurrency 1), taken by
 *   the OTHER worker.
 *
 * Skips itself, saying why, when n8n, psql/PostgreSQL or redis-cli/Redis is missing, unless
 * E2E_REQUIRED=1.
 */
import { describeWithN8n } from './describe';
import { n8nInstalled, packPackage } from './n8n';
import { queuePrerequisites, startN8nQueue, type RunningN8nQueue } from './queue';

type Json = Record<string, unknown>;

const PROBE_ID = 'queueProbe01';
const SUB_ID = 'queueSub01';
const PARENT_ID = 'queueParent01';

let nodeCount = 0;
function node(
	name: string,
	type: string,
	typeVersion: number,
	parameters: Json,
	x: number,
	extra: Json = {},
): Json {
	return {
		parameters,
		id: `00000000-0000-4000-8000-${String(++nodeCount).padStart(12, '0')}`,
		name,
		type,
		typeVersion,
		position: [x, 300],
		...extra,
	};
}

const link = (to: string, index = 0) => ({ node: to, type: 'main', index });

/** Webhook -> system_a (waits 300 ms) + system_b -> Conflict Check -> Summary -> Answer. */
const probeWorkflow = {
	id: PROBE_ID,
	name: 'Queue probe',
	settings: { executionOrder: 'v1' },
	nodes: [
		node(
			'Probe Hook',
			'n8n-nodes-base.webhook',
			2,
			{ httpMethod: 'POST', path: 'queue-probe', responseMode: 'lastNode', options: {} },
			0,
			{ webhookId: '6f1c2a4e-8b1d-4c53-9a0e-5d2f7e3b1a01' },
		),
		node(
			'system_a',
			'n8n-nodes-base.code',
			2,
			{
				jsCode:
					"await new Promise((resolve) => setTimeout(resolve, 300));\nconst n = $('Probe Hook').first().json.body.n;\nreturn [{ json: { id: 'rec-1', name: 'a-' + n, updated_at: '2026-12-01T10:00:00Z' } }];",
			},
			240,
		),
		node(
			'system_b',
			'n8n-nodes-base.code',
			2,
			{
				jsCode:
					"return [{ json: { id: 'rec-1', name: 'b', updated_at: '2026-12-01T11:00:00Z' } }];",
			},
			260,
		),
		node(
			'Conflict Check',
			'n8n-nodes-data-sync.conflictCheck',
			1,
			{ sourceSystem: 'system_a', otherSystems: 'system_b', baseSource: 'none', options: {} },
			500,
		),
		node(
			'Answer',
			'n8n-nodes-base.code',
			2,
			{
				jsCode:
					"return [{ json: { n: $('Probe Hook').first().json.body.n, execution: $execution.id, summary: $input.first().json } }];",
			},
			760,
		),
	],
	connections: {
		'Probe Hook': { main: [[link('system_a'), link('system_b')]] },
		system_a: { main: [[link('Conflict Check', 0)]] },
		system_b: { main: [[link('Conflict Check', 1)]] },
		'Conflict Check': { main: [[], [], [link('Answer')]] },
	},
};

/** Execute Workflow Trigger -> Sub Answer: which execution ran it. */
const subWorkflow = {
	id: SUB_ID,
	name: 'Queue sub-workflow',
	settings: { executionOrder: 'v1' },
	nodes: [
		node('Called', 'n8n-nodes-base.executeWorkflowTrigger', 1.1, { inputSource: 'passthrough' }, 0),
		node(
			'Sub Answer',
			'n8n-nodes-base.code',
			2,
			{ jsCode: 'return [{ json: { subExecution: $execution.id } }];' },
			240,
		),
	],
	connections: { Called: { main: [[link('Sub Answer')]] } },
};

/** Webhook -> Execute Workflow (waits) -> HTTP Request to queue-probe -> Parent Answer. */
const parentWorkflow = {
	id: PARENT_ID,
	name: 'Queue parent',
	settings: { executionOrder: 'v1' },
	nodes: [
		node(
			'Parent Hook',
			'n8n-nodes-base.webhook',
			2,
			{ httpMethod: 'POST', path: 'queue-parent', responseMode: 'lastNode', options: {} },
			0,
			{ webhookId: '6f1c2a4e-8b1d-4c53-9a0e-5d2f7e3b1a02' },
		),
		node(
			'Run Sub-workflow',
			'n8n-nodes-base.executeWorkflow',
			1.2,
			{
				workflowId: { __rl: true, value: SUB_ID, mode: 'id' },
				workflowInputs: {
					mappingMode: 'defineBelow',
					value: {},
					matchingColumns: [],
					schema: [],
					attemptToConvertTypes: false,
					convertFieldsToString: true,
				},
				options: { waitForSubWorkflow: true },
			},
			240,
		),
		node(
			'Call Probe',
			'n8n-nodes-base.httpRequest',
			4.2,
			{
				method: 'POST',
				url: "={{ $('Parent Hook').first().json.body.probeUrl }}",
				sendBody: true,
				specifyBody: 'json',
				jsonBody: '={{ JSON.stringify({ n: "from-parent" }) }}',
				options: {},
			},
			480,
		),
		node(
			'Parent Answer',
			'n8n-nodes-base.code',
			2,
			{
				jsCode:
					"return [{ json: { parentExecution: $execution.id, subExecution: $('Run Sub-workflow').first().json.subExecution, probeExecution: $input.first().json.execution } }];",
			},
			720,
		),
	],
	connections: {
		'Parent Hook': { main: [[link('Run Sub-workflow')]] },
		'Run Sub-workflow': { main: [[link('Call Probe')]] },
		'Call Probe': { main: [[link('Parent Answer')]] },
	},
};

const REQUESTS = 20;

const describeQueue = describeWithN8n(
	'n8n queue mode e2e',
	n8nInstalled() ? queuePrerequisites() : [],
);

describeQueue('n8n in queue mode (main + 2 workers, Redis, PostgreSQL)', () => {
	let n8n: RunningN8nQueue;

	beforeAll(async () => {
		n8n = await startN8nQueue({
			packageTgz: packPackage(),
			workflows: [probeWorkflow, subWorkflow, parentWorkflow],
			publish: [PROBE_ID, SUB_ID, PARENT_ID],
			workers: 2,
			concurrency: 1,
			workerLogLevel: 'debug',
		});
		await n8n.waitForWebhook('queue-probe');
		await n8n.waitForWebhook('queue-parent');
		console.log(`queue mode up: ${JSON.stringify(n8n.timings)}`);
	}, 300_000);

	afterAll(async () => {
		await n8n?.stop();
	}, 60_000);

	it('answers 20 concurrent last-node webhooks, spread over both workers, none on main', async () => {
		const t0 = Date.now();
		const responses = await Promise.all(
			Array.from({ length: REQUESTS }, async (_, n) => {
				const res = await fetch(n8n.webhookUrl('queue-probe'), {
					method: 'POST',
					headers: { 'Content-Type': 'application/json' },
					body: JSON.stringify({ n }),
				});
				return { n, status: res.status, body: (await res.json()) as Json };
			}),
		);
		const elapsed = Date.now() - t0;

		for (const { n, status, body } of responses) {
			expect({ n, status }).toEqual({ n, status: 200 });
			expect(body.n).toBe(n);
			// This package's Conflict Check ran (on a worker) and its Summary reached the answer.
			expect(body.summary).toMatchObject({ sourceSystem: 'system_a', systems: expect.any(Array) });
		}
		const answered = responses.map(({ body }) => String(body.execution)).sort();

		const byWorker = await n8n.executionsByWorker();
		const counts = Object.fromEntries(Object.entries(byWorker).map(([w, ids]) => [w, ids.length]));
		console.log(
			`${REQUESTS} concurrent queue-probe requests in ${elapsed} ms; executions per worker: ${JSON.stringify(counts)}`,
		);
		const ranOnWorkers = Object.values(byWorker).flat();
		// Each execution that answered was taken from the queue by exactly one worker...
		for (const id of answered) {
			expect(ranOnWorkers.filter((ranId) => ranId === id)).toHaveLength(1);
		}
		// ...both workers took some...
		expect(byWorker.worker1.length).toBeGreaterThan(0);
		expect(byWorker.worker2.length).toBeGreaterThan(0);
		// ...main enqueued every one, and nothing in the database ran anywhere but on a worker.
		expect(n8n.enqueuedExecutions()).toEqual(expect.arrayContaining(answered));
		expect((await n8n.executionIds()).filter((id) => !ranOnWorkers.includes(id))).toEqual([]);
		const rows = await n8n.query<{ id: number; status: string; mode: string }>(
			`SELECT id, status, mode FROM execution_entity WHERE "workflowId" = '${PROBE_ID}'`,
		);
		expect(rows).toHaveLength(REQUESTS);
		expect(rows.every((row) => row.status === 'success' && row.mode === 'webhook')).toBe(true);
	}, 60_000);

	it('runs an Execute Workflow sub-execution in the same worker, and an HTTP call to a webhook on the queue', async () => {
		const before = await n8n.executionIds();
		const res = await fetch(n8n.webhookUrl('queue-parent'), {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ probeUrl: n8n.webhookUrl('queue-probe') }),
		});
		const body = (await res.json()) as Json;
		expect(res.status).toBe(200);
		const parent = String(body.parentExecution);
		const sub = String(body.subExecution);
		const probe = String(body.probeExecution);
		expect(new Set([parent, sub, probe]).size).toBe(3);
		expect((await n8n.executionIds()).filter((id) => !before.includes(id)).sort()).toEqual(
			[parent, sub, probe].sort(),
		);

		const byWorker = await n8n.executionsByWorker();
		const ranOn = (id: string) => Object.keys(byWorker).filter((w) => byWorker[w].includes(id));
		const enqueued = n8n.enqueuedExecutions();
		const [parentWorker] = ranOn(parent);
		/** Ids of executions a process created itself (ActiveExecutions "Execution added", debug). */
		const addedIn = (name: string) =>
			n8n
				.logEntries(name)
				.filter((entry) => entry.message === 'Execution added')
				.map((entry) => String(entry.metadata.executionId));
		console.log(
			`parent ${parent} on ${parentWorker}; sub-workflow ${sub}: enqueued ${enqueued.includes(sub)}, taken by ${JSON.stringify(ranOn(sub))}, created in ${JSON.stringify(n8n.processes.filter((p) => p !== 'main' && addedIn(p).includes(sub)))}; HTTP-called webhook ${probe}: enqueued ${enqueued.includes(probe)}, on ${JSON.stringify(ranOn(probe))}`,
		);

		expect(ranOn(parent)).toHaveLength(1);
		expect(enqueued).toContain(parent);
		// (a) Execute Workflow: never enqueued, taken by no worker; created inside the parent's worker.
		expect(enqueued).not.toContain(sub);
		expect(ranOn(sub)).toEqual([]);
		expect(addedIn(parentWorker)).toContain(sub);
		const rows = await n8n.query<{ id: number; mode: string; status: string }>(
			`SELECT id, mode, status FROM execution_entity WHERE id IN (${[parent, sub, probe].join(',')}) ORDER BY id`,
		);
		expect(rows.map((row) => [String(row.id), row.mode, row.status])).toEqual(
			expect.arrayContaining([
				[parent, 'webhook', 'success'],
				[sub, 'integrated', 'success'],
				[probe, 'webhook', 'success'],
			]),
		);
		// (b) HTTP Request to a production webhook: enqueued by main like any webhook; the parent's
		// worker is busy with the parent (concurrency 1), so the other worker took it.
		expect(enqueued).toContain(probe);
		expect(ranOn(probe)).toHaveLength(1);
		expect(ranOn(probe)[0]).not.toBe(parentWorker);
	}, 60_000);
});
