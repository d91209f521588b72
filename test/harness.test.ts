import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';
import type {
	ICredentialType,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeType,
} from 'n8n-workflow';

import { runWorkflow, testNodeTypes } from './harness';
import { connect, json, node } from './harness/build';

// ---------------------------------------------------------------------------------------------
// Helpers to build workflow JSON
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Local node types
// ---------------------------------------------------------------------------------------------

/** Concatenates input 0 and input 1. */
class ConcatInputs implements INodeType {
	description = {
		displayName: 'Concat Inputs',
		name: 'concatInputs',
		group: ['transform'],
		version: 1,
		description: 'test',
		defaults: { name: 'Concat' },
		inputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const a = this.getInputData(0);
		const b = this.getInputData(1);
		return [[...a, ...b].map((item) => ({ json: { ...item.json } }))];
	}
}

/** Fails items with `bad: true` following n8n's per-item continueOnFail convention. */
class FailBadItems implements INodeType {
	description = {
		displayName: 'Fail Bad Items',
		name: 'failBadItems',
		group: ['transform'],
		version: 1,
		description: 'test',
		defaults: { name: 'Fail' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			try {
				if (items[i].json.bad === true) {
					throw new NodeOperationError(this.getNode(), `item ${items[i].json.id} is bad`, {
						itemIndex: i,
					});
				}
				out.push({ json: { ...items[i].json, ok: true }, pairedItem: { item: i } });
			} catch (error) {
				if (this.continueOnFail()) {
					out.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
					continue;
				}
				throw error;
			}
		}
		return [out];
	}
}

/** Throws outright (no per-item handling). */
class AlwaysThrows implements INodeType {
	description = {
		displayName: 'Always Throws',
		name: 'alwaysThrows',
		group: ['transform'],
		version: 1,
		description: 'test',
		defaults: { name: 'Throw' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		throw new NodeOperationError(this.getNode(), 'boom', { itemIndex: 1, description: 'details' });
	}
}

/** Counts runs in global static data and remembers the last seen ids. */
class StaticCounter implements INodeType {
	description = {
		displayName: 'Static Counter',
		name: 'staticCounter',
		group: ['transform'],
		version: 1,
		description: 'test',
		defaults: { name: 'Counter' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const data = this.getWorkflowStaticData('global');
		data.runs = ((data.runs as number | undefined) ?? 0) + 1;
		data.lastIds = this.getInputData().map((item) => item.json.id as number);
		return [[{ json: { runs: data.runs } }]];
	}
}

/** Calls httpRequestWithAuthentication with the `testApi` credentials. */
class CallApi implements INodeType {
	description = {
		displayName: 'Call API',
		name: 'callApi',
		group: ['transform'],
		version: 1,
		description: 'test',
		defaults: { name: 'Call API' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'testApi', required: true }],
		properties: [{ displayName: 'URL', name: 'url', type: 'string', default: '' }],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const out: INodeExecutionData[] = [];
		for (let i = 0; i < items.length; i++) {
			const url = this.getNodeParameter('url', i) as string;
			const body = await this.helpers.httpRequestWithAuthentication.call(this, 'testApi', {
				method: 'GET',
				url,
				qs: { id: items[i].json.id as number },
				json: true,
			});
			out.push({ json: body, pairedItem: { item: i } });
		}
		return [out];
	}
}

class TestApi implements ICredentialType {
	name = 'testApi';
	displayName = 'Test API';
	properties: ICredentialType['properties'] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{ displayName: 'Region', name: 'region', type: 'string', default: 'eu-1' },
	];
	authenticate: ICredentialType['authenticate'] = {
		type: 'generic',
		properties: {
			headers: { 'X-Api-Key': '={{$credentials.apiKey}}', 'X-Region': '={{$credentials.region}}' },
			qs: { tenant: 'acme' },
		},
	};
}

const nodeTypes = {
	...testNodeTypes,
	'test.concatInputs': new ConcatInputs(),
	'test.failBadItems': new FailBadItems(),
	'test.alwaysThrows': new AlwaysThrows(),
	'test.staticCounter': new StaticCounter(),
	'test.callApi': new CallApi(),
};

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('in-process harness', () => {
	it.each(['manual', 'trigger', 'webhook'] as const)(
		'(1) test.trigger -> test.noOp returns the items (mode %s)',
		async (mode) => {
			const result = await runWorkflow({
				mode,
				workflow: {
					nodes: [
						node('Trigger', 'test.trigger', {
							items: [
								{ id: 1, name: 'a' },
								{ id: 2, name: 'b' },
							],
						}),
						node('Out', 'test.noOp'),
					],
					connections: connect(['Trigger', 'Out']),
				},
				nodeTypes,
			});
			expect(result.error).toBeUndefined();
			expect(result.status).toBe('success');
			expect(json(result.output('Out'))).toEqual([
				{ id: 1, name: 'a' },
				{ id: 2, name: 'b' },
			]);
			expect(result.output('Out').map((item) => item.binary)).toEqual([undefined, undefined]);
			expect(result.nodeExecutionOrder).toEqual(['Trigger', 'Out']);
			expect(result.output('Nope')).toEqual([]);
			expect(result.staticDataChanged).toBe(false);
		},
	);

	it('items parameter may be a JSON string, as the editor stores json parameters', async () => {
		const result = await runWorkflow({
			workflow: {
				nodes: [
					node('Trigger', 'test.trigger', { items: '[{"id": 7}]' }),
					node('Out', 'test.noOp'),
				],
				connections: connect(['Trigger', 'Out']),
			},
			nodeTypes,
		});
		expect(json(result.output('Out'))).toEqual([{ id: 7 }]);
	});

	it('(2) a two-input node gets both inputs (v1 order), fed by two test.items sources', async () => {
		const result = await runWorkflow({
			workflow: {
				nodes: [
					node('Trigger', 'test.trigger', { items: [{ tick: 1 }] }),
					node('System A', 'test.items', {
						items: [
							{ sys: 'A', id: 1 },
							{ sys: 'A', id: 2 },
						],
					}),
					node('System B', 'test.items', { items: [{ sys: 'B', id: 3 }] }),
					node('Concat', 'test.concatInputs'),
				],
				connections: connect(
					['Trigger', 'System A'],
					['Trigger', 'System B'],
					['System A', 'Concat', 0, 0],
					['System B', 'Concat', 0, 1],
				),
			},
			nodeTypes,
		});
		expect(result.status).toBe('success');
		expect(json(result.output('Concat'))).toEqual([
			{ sys: 'A', id: 1 },
			{ sys: 'A', id: 2 },
			{ sys: 'B', id: 3 },
		]);
		expect(result.runData.Concat).toHaveLength(1); // ran once, with both inputs
		expect(result.nodeExecutionOrder[0]).toBe('Trigger');
		expect(result.nodeExecutionOrder.at(-1)).toBe('Concat');
	});

	describe('(3) errors and onError', () => {
		const items = [
			{ id: 1, bad: false },
			{ id: 2, bad: true },
			{ id: 3, bad: false },
		];
		const wf = (onError?: INode['onError']) => ({
			nodes: [
				node('Trigger', 'test.trigger', { items }),
				node('Fail', 'test.failBadItems', {}, onError ? { onError } : {}),
				node('Success', 'test.noOp'),
				node('Errors', 'test.noOp'),
			],
			connections: connect(['Trigger', 'Fail'], ['Fail', 'Success', 0], ['Fail', 'Errors', 1]),
		});

		it("onError 'continueErrorOutput' routes failed items to the error output", async () => {
			const result = await runWorkflow({ workflow: wf('continueErrorOutput'), nodeTypes });
			expect(result.status).toBe('success');
			expect(json(result.output('Fail', 0))).toEqual([
				{ id: 1, bad: false, ok: true },
				{ id: 3, bad: false, ok: true },
			]);
			// the engine merges the paired input item's json into the error item
			expect(json(result.output('Fail', 1))).toEqual([
				{ id: 2, bad: true, error: 'item 2 is bad' },
			]);
			expect(json(result.output('Success')).map((j) => j.id)).toEqual([1, 3]);
			expect(json(result.output('Errors'))).toEqual([{ id: 2, bad: true, error: 'item 2 is bad' }]);
		});

		it("onError 'continueRegularOutput' keeps error items on the main output", async () => {
			const result = await runWorkflow({ workflow: wf('continueRegularOutput'), nodeTypes });
			expect(result.status).toBe('success');
			expect(json(result.output('Fail', 0))).toEqual([
				{ id: 1, bad: false, ok: true },
				{ error: 'item 2 is bad' },
				{ id: 3, bad: false, ok: true },
			]);
			expect(result.output('Errors')).toEqual([]);
		});

		it('default onError stops the workflow with the NodeOperationError', async () => {
			const result = await runWorkflow({ workflow: wf(), nodeTypes });
			expect(result.status).toBe('error');
			expect(result.error).toBeInstanceOf(NodeOperationError);
			expect(result.error?.message).toBe('item 2 is bad');
			expect(result.nodeError('Fail')).toBeInstanceOf(NodeOperationError);
			expect((result.error as NodeOperationError).context.itemIndex).toBe(1);
			expect(result.runData.Fail[0].error?.message).toBe('item 2 is bad');
			expect(result.runData.Success).toBeUndefined();
		});

		it("a node that throws outright with 'continueErrorOutput' (engine behaviour)", async () => {
			const result = await runWorkflow({
				workflow: {
					nodes: [
						node('Trigger', 'test.trigger', { items }),
						node('Throw', 'test.alwaysThrows', {}, { onError: 'continueErrorOutput' }),
						node('Success', 'test.noOp'),
						node('Errors', 'test.noOp'),
					],
					connections: connect(
						['Trigger', 'Throw'],
						['Throw', 'Success', 0],
						['Throw', 'Errors', 1],
					),
				},
				nodeTypes,
			});
			expect(result.nodeError('Throw')).toBeInstanceOf(NodeOperationError);
			expect(result.nodeError('Throw')?.message).toBe('boom');
			// n8n 2.41 engine: an error THROWN by a node with onError 'continueErrorOutput' is not
			// split per item: the node's input items go on unchanged on the REGULAR output (0) and
			// the error output gets nothing. Only items a node returns as `{json: {error}}` (the
			// per-item continueOnFail pattern above) are routed to the error output.
			expect(json(result.output('Throw', 0))).toEqual(items);
			expect(result.output('Throw', 1)).toEqual([]);
			expect(json(result.output('Success'))).toEqual(items);
			expect(result.runData.Errors).toBeUndefined();
			// ...and since a node ran after it, the execution counts as a success.
			expect(result.status).toBe('success');
		});
	});

	it("(4) static data written in mode 'trigger' is reported and can be fed to the next run", async () => {
		const workflow = {
			nodes: [
				node('Trigger', 'test.trigger', { items: [{ id: 10 }, { id: 11 }] }),
				node('Counter', 'test.staticCounter'),
			],
			connections: connect(['Trigger', 'Counter']),
		};
		const first = await runWorkflow({ workflow, nodeTypes, mode: 'trigger' });
		expect(first.status).toBe('success');
		expect(first.staticDataChanged).toBe(true);
		expect(first.staticData).toEqual({ global: { runs: 1, lastIds: [10, 11] } });
		expect(json(first.output('Counter'))).toEqual([{ runs: 1 }]);

		const second = await runWorkflow({
			workflow: { ...workflow, staticData: first.staticData },
			nodeTypes,
			mode: 'trigger',
		});
		expect(second.staticDataChanged).toBe(true);
		expect(second.staticData).toEqual({ global: { runs: 2, lastIds: [10, 11] } });
		// the input object is not mutated
		expect(first.staticData).toEqual({ global: { runs: 1, lastIds: [10, 11] } });
	});

	describe('(5) httpRequestWithAuthentication with a generic declarative credential', () => {
		let server: http.Server;
		let baseUrl: string;
		const seen: Array<{ url?: string; headers: http.IncomingHttpHeaders }> = [];

		beforeAll(async () => {
			server = http.createServer((req, res) => {
				seen.push({ url: req.url, headers: req.headers });
				const ok = req.headers['x-api-key'] === 'secret-123';
				res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
				res.end(JSON.stringify(ok ? { authorized: true, url: req.url } : { message: 'no key' }));
			});
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
			baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		});
		afterAll(async () => {
			await new Promise((resolve) => server.close(resolve));
		});
		beforeEach(() => {
			seen.length = 0;
		});

		const workflow = (url: string) => ({
			nodes: [
				node('Trigger', 'test.trigger', { items: [{ id: 5 }] }),
				node(
					'Call',
					'test.callApi',
					{ url: `=${url}/things/{{ $json.id }}` },
					{ credentials: { testApi: { id: 'cred-1', name: 'Test API account' } } },
				),
			],
			connections: connect(['Trigger', 'Call']),
		});

		it('the server sees the header resolved from $credentials (plus defaults and qs)', async () => {
			const result = await runWorkflow({
				workflow: workflow(baseUrl),
				nodeTypes,
				credentials: { testApi: { apiKey: 'secret-123' } },
				credentialTypes: [new TestApi()],
			});
			expect(result.error).toBeUndefined();
			expect(seen).toHaveLength(1);
			expect(seen[0].headers['x-api-key']).toBe('secret-123');
			expect(seen[0].headers['x-region']).toBe('eu-1'); // credential property default applied
			expect(seen[0].url).toBe('/things/5?id=5&tenant=acme');
			expect(json(result.output('Call'))).toEqual([
				{ authorized: true, url: '/things/5?id=5&tenant=acme' },
			]);
		});

		it('a rejected request fails the node with a NodeApiError', async () => {
			const result = await runWorkflow({
				workflow: workflow(baseUrl),
				nodeTypes,
				credentials: { testApi: { apiKey: 'wrong' } },
				credentialTypes: [new TestApi()],
			});
			expect(seen[0].headers['x-api-key']).toBe('wrong');
			expect(result.status).toBe('error');
			expect(result.error?.constructor.name).toBe('NodeApiError');
			expect((result.error as { httpCode?: string }).httpCode).toBe('401');
		});
	});
});
