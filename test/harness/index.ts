/**
 * In-process workflow runner for tests: runs real workflow JSON through n8n's own engine
 * (n8n-core `WorkflowExecute.processRunExecutionData` + n8n-workflow `Workflow`), the way n8n's
 * unpublished `packages/core/nodes-testing` harness does, adapted to n8n-core 2.41.
 *
 * What is real: the execution engine (execution order v0/v1, multiple inputs, paired items,
 * `onError` continue/route-to-error-output, retries, pinData, static data), node execution
 * contexts (`this.getNodeParameter`, expressions, `this.helpers.*`), and outbound HTTP
 * (`this.helpers.httpRequest` / `httpRequestWithAuthentication` go over the network through
 * n8n's own client). What is faked: credentials storage (see `HarnessCredentialsHelper`), sub-
 * workflow execution, task runners (Code node), AI/agent hooks.
 */
// MUST stay the first import: sets N8N_USER_FOLDER etc. before n8n-core reads its config.
import './env';

import { readFileSync } from 'node:fs';

import { ExecutionLifecycleHooks, ExternalSecretsProxy, WorkflowExecute } from 'n8n-core';
import * as n8nWorkflow from 'n8n-workflow';
import { Workflow, createRunExecutionData } from 'n8n-workflow';
import type {
	ExecutionBaseError,
	ICredentialType,
	IConnections,
	IDataObject,
	IExecuteData,
	INode,
	INodeExecutionData,
	INodeType,
	IPinData,
	IRun,
	IRunData,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
	WorkflowExecuteMode,
} from 'n8n-workflow';

import { HarnessCredentialsHelper } from './credentials-helper';
import type { HarnessCredentials } from './credentials-helper';
import { HarnessNodeTypes, TEST_TRIGGER_TYPE, testNodeTypes } from './node-types';

export { HarnessCredentialsHelper, HarnessNodeTypes, testNodeTypes };
export type { HarnessCredentials };
export { TEST_ITEMS_TYPE, TEST_NOOP_TYPE, TEST_TRIGGER_TYPE } from './node-types';

export interface HarnessWorkflow {
	id?: string;
	name?: string;
	nodes: INode[];
	connections: IConnections;
	settings?: IWorkflowSettings;
	staticData?: IDataObject;
	pinData?: IPinData;
}

export interface RunOptions {
	workflow: HarnessWorkflow;
	/** key = full type name as used in the workflow JSON, e.g. 'n8n-nodes-data-sync.conflictCheck' */
	nodeTypes: Record<string, INodeType | IVersionedNodeType>;
	/** credentials looked up by TYPE; the node's `credentials` field ({id,name}) is not used to look up */
	credentials?: HarnessCredentials;
	/** our credential classes, so `authenticate` (function or declarative generic) is applied like in n8n */
	credentialTypes?: ICredentialType[];
	/** default 'manual'; 'trigger' / 'webhook' emulate production runs */
	mode?: WorkflowExecuteMode;
	/**
	 * Name of the node to start from. Default: the only enabled node of type `test.trigger`, or
	 * else the only enabled node that has no incoming main connection.
	 */
	startNode?: string;
	/** Items put on the start node's input (default: one empty item, as n8n does). */
	startItems?: INodeExecutionData[];
}

export interface RunResult {
	status: 'success' | 'error';
	/** The workflow-level error when status is 'error' (rehydrated: instanceof NodeOperationError etc. works). */
	error?: ExecutionBaseError | Error;
	/** raw run data */
	runData: IRunData;
	/** Items of that node output ([] if none). */
	output(nodeName: string, outputIndex?: number, runIndex?: number): INodeExecutionData[];
	/** The error recorded on that node run (rehydrated, see rehydrateError), if any. */
	nodeError(nodeName: string, runIndex?: number): ExecutionBaseError | Error | undefined;
	/** The workflow static data after the run (plain JSON copy), to feed into the next run. */
	staticData: IDataObject;
	staticDataChanged: boolean;
	/** Extras: the engine's full IRun, its own status, and node names in execution order. */
	run: IRun;
	engineStatus: IRun['status'];
	nodeExecutionOrder: string[];
}

/**
 * Reads a workflow JSON file (n8n export / import:workflow format) as a HarnessWorkflow. Avoids
 * the type friction of `import wf from './x.json'` (position: number[], type: string, ...).
 */
export function readWorkflowJson(file: string): HarnessWorkflow {
	const data = JSON.parse(readFileSync(file, 'utf-8')) as HarnessWorkflow;
	if (
		!Array.isArray(data.nodes) ||
		typeof data.connections !== 'object' ||
		data.connections === null
	) {
		throw new Error(`${file} is not a workflow (needs "nodes" and "connections")`);
	}
	return data;
}

let executionCounter = 0;

function jsonClone<T>(value: T): T {
	return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

function notSupported(what: string) {
	return async (): Promise<never> => {
		throw new Error(`${what} is not supported by the in-process test harness`);
	};
}

function pickStartNode(workflow: Workflow, requested: string | undefined): INode {
	if (requested !== undefined) {
		const node = workflow.getNode(requested);
		if (!node) throw new Error(`Start node "${requested}" is not in the workflow`);
		return node;
	}
	const enabled = Object.values(workflow.nodes).filter((node) => node.disabled !== true);
	const triggers = enabled.filter((node) => node.type === TEST_TRIGGER_TYPE);
	if (triggers.length === 1) return triggers[0];
	const roots = enabled.filter((node) =>
		(workflow.connectionsByDestinationNode[node.name]?.main ?? []).every((c) => !c?.length),
	);
	const candidates = triggers.length > 1 ? triggers : roots;
	if (candidates.length === 1) return candidates[0];
	throw new Error(
		`Cannot choose a start node (candidates: ${candidates.map((n) => n.name).join(', ') || 'none'}); ` +
			'set RunOptions.startNode',
	);
}

/**
 * n8n 2.41's engine keeps errors only as plain-object copies (`{...error, message, stack}`, in
 * both `resultData.error` and each task's `error`), so class identity is lost. This gives the
 * copy back the prototype of the n8n-workflow error class named by its `name` (NodeOperationError,
 * NodeApiError, ExpressionError, ...), so tests can use `instanceof` and read `context`,
 * `description`, `httpCode`, ... No constructor runs; all recorded fields are kept.
 */
export function rehydrateError(error: unknown): ExecutionBaseError | Error | undefined {
	if (error === undefined || error === null) return undefined;
	if (error instanceof Error) return error;
	if (typeof error !== 'object') return new Error(String(error));
	const plain = error as { name?: unknown; message?: unknown };
	const exported =
		typeof plain.name === 'string'
			? (n8nWorkflow as Record<string, unknown>)[plain.name]
			: undefined;
	const errorClass =
		typeof exported === 'function' && exported.prototype instanceof Error
			? (exported as new (...args: never[]) => Error)
			: Error;
	const rehydrated = Object.create(errorClass.prototype) as Error;
	Object.assign(rehydrated, plain);
	if (typeof plain.message === 'string') rehydrated.message = plain.message;
	return rehydrated;
}

/**
 * Expression engine. n8n 2.41 servers default to 'vm' (N8N_EXPRESSION_ENGINE; isolated-vm),
 * but n8n-workflow stays on 'legacy' until `Expression.initExpressionEngine` is called, and that
 * call does a dynamic `import()`, which Jest only allows with
 * NODE_OPTIONS=--experimental-vm-modules. So: 'legacy' by default (like n8n's own node tests);
 * N8N_EXPRESSION_ENGINE=vm (plus that NODE_OPTIONS under Jest) runs expressions in isolated-vm
 * as a production server does (about 0.1 s more per execution).
 */
let expressionEngineReady: Promise<void> | undefined;
function ensureExpressionEngine(): Promise<void> {
	expressionEngineReady ??= (async () => {
		const engine = (process.env.N8N_EXPRESSION_ENGINE ?? 'legacy') as 'legacy' | 'vm' | 'quickjs';
		if (engine === 'legacy') return;
		try {
			await n8nWorkflow.Expression.initExpressionEngine({
				engine,
				bridgeTimeout: 5000,
				bridgeMemoryLimit: 128,
				poolSize: 1,
				maxCodeCacheSize: 1024,
			});
		} catch (error) {
			expressionEngineReady = undefined;
			throw new Error(
				`Could not start the '${engine}' expression engine (under Jest, set ` +
					`NODE_OPTIONS=--experimental-vm-modules): ${(error as Error).message}`,
			);
		}
	})();
	return expressionEngineReady;
}

export async function runWorkflow(opts: RunOptions): Promise<RunResult> {
	await ensureExpressionEngine();
	const mode: WorkflowExecuteMode = opts.mode ?? 'manual';
	const executionId = String(++executionCounter);
	const source = opts.workflow;
	const workflowId = source.id ?? 'harness-workflow';

	const nodes = jsonClone(source.nodes);
	const connections = jsonClone(source.connections);
	const settings: IWorkflowSettings = { executionOrder: 'v1', ...(source.settings ?? {}) };
	const pinData = jsonClone(source.pinData);

	const nodeTypes = new HarnessNodeTypes(opts.nodeTypes);
	const workflow = new Workflow({
		id: workflowId,
		name: source.name ?? 'Harness workflow',
		nodes,
		connections,
		active: false,
		nodeTypes,
		staticData: jsonClone(source.staticData) ?? {},
		settings,
		pinData,
	});

	const workflowData: IWorkflowBase = {
		id: workflowId,
		name: workflow.name ?? 'Harness workflow',
		active: false,
		isArchived: false,
		activeVersionId: null,
		createdAt: new Date(),
		updatedAt: new Date(),
		nodes,
		connections,
		settings,
		pinData,
	};

	const hooks = new ExecutionLifecycleHooks(mode, executionId, workflowData);
	const nodeExecutionOrder: string[] = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName) => {
		nodeExecutionOrder.push(nodeName);
	});

	const credentialsHelper = new HarnessCredentialsHelper(
		{ ...(opts.credentials ?? {}) },
		opts.credentialTypes,
	);
	const baseUrl = 'http://localhost:5678';
	const additionalData: IWorkflowExecuteAdditionalData = {
		credentialsHelper,
		hooks,
		executionId,
		workflowId,
		currentNodeExecutionIndex: 0,
		restApiUrl: `${baseUrl}/rest`,
		instanceBaseUrl: `${baseUrl}/`,
		formBaseUrl: `${baseUrl}/form`,
		formWaitingBaseUrl: `${baseUrl}/form-waiting`,
		formTestBaseUrl: `${baseUrl}/form-test`,
		webhookBaseUrl: `${baseUrl}/webhook`,
		webhookWaitingBaseUrl: `${baseUrl}/webhook-waiting`,
		webhookTestBaseUrl: `${baseUrl}/webhook-test`,
		mcpBaseUrl: `${baseUrl}/mcp`,
		mcpTestBaseUrl: `${baseUrl}/mcp-test`,
		variables: {},
		workflowSettings: settings,
		externalSecretsProxy: new ExternalSecretsProxy(),
		executeWorkflow: notSupported('executeWorkflow (sub-workflows)'),
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		startRunnerTask: notSupported('startRunnerTask (task runners / Code node)'),
		logAiEvent: () => {},
	};

	const startNode = pickStartNode(workflow, opts.startNode);
	const nodeExecutionStack: IExecuteData[] = [
		{
			node: startNode,
			data: { main: [opts.startItems ?? [{ json: {} }]] },
			source: null,
		},
	];
	const runExecutionData = createRunExecutionData({
		executionData: { nodeExecutionStack },
		resultData: { pinData },
	});

	const workflowExecute = new WorkflowExecute(additionalData, mode, runExecutionData);
	const run = await workflowExecute.processRunExecutionData(workflow);

	const runData = run.data.resultData.runData;
	const staticDataChanged = workflow.staticData.__dataChanged === true;
	const error =
		run.status === 'success'
			? undefined
			: (rehydrateError(run.data.resultData.error) ??
				new Error(`Execution ended with status "${run.status}"`));

	return {
		status: run.status === 'success' ? 'success' : 'error',
		error,
		runData,
		output(nodeName: string, outputIndex = 0, runIndex = 0): INodeExecutionData[] {
			return runData[nodeName]?.[runIndex]?.data?.main?.[outputIndex] ?? [];
		},
		nodeError(nodeName: string, runIndex = 0) {
			return rehydrateError(runData[nodeName]?.[runIndex]?.error);
		},
		staticData: jsonClone(workflow.staticData as IDataObject),
		staticDataChanged,
		run,
		engineStatus: run.status,
		nodeExecutionOrder,
	};
}
