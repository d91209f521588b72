import { NodeConnectionTypes, NodeHelpers, NodeOperationError } from 'n8n-workflow';
import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypes,
	IVersionedNodeType,
} from 'n8n-workflow';

/** Type names of the helper nodes, as used in workflow JSON. */
export const TEST_TRIGGER_TYPE = 'test.trigger';
export const TEST_ITEMS_TYPE = 'test.items';
export const TEST_NOOP_TYPE = 'test.noOp';

/**
 * Reads the `items` parameter: a JSON array of objects, given either as an array or as a JSON
 * string (the way a `json` parameter is stored by the n8n editor). Expressions are resolved by
 * the engine through getNodeParameter.
 */
function readItemsParameter(ctx: IExecuteFunctions): INodeExecutionData[] {
	let raw = ctx.getNodeParameter('items', 0, []) as unknown;
	if (typeof raw === 'string') {
		try {
			raw = raw.trim() === '' ? [] : JSON.parse(raw);
		} catch (error) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Parameter "items" is not valid JSON: ${(error as Error).message}`,
			);
		}
	}
	if (!Array.isArray(raw)) {
		throw new NodeOperationError(
			ctx.getNode(),
			'Parameter "items" must be a JSON array of objects',
		);
	}
	return raw.map((entry, index) => {
		if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
			throw new NodeOperationError(ctx.getNode(), `items[${index}] is not an object`);
		}
		return { json: entry as IDataObject };
	});
}

const itemsProperty = {
	displayName: 'Items',
	name: 'items',
	type: 'json' as const,
	default: '[]',
	description: 'JSON array of objects; each becomes one output item',
};

/**
 * Start node: no inputs, emits `items`. It has an `execute` method (like n8n's Manual Trigger),
 * so the engine runs it the same way in every mode ('manual', 'trigger', 'webhook', ...).
 * The harness puts it on the execution stack as the start node.
 */
class TestTrigger implements INodeType {
	description = {
		displayName: 'Test Trigger',
		name: TEST_TRIGGER_TYPE,
		group: ['trigger'],
		version: 1,
		description: 'Test-only start node that emits the given items',
		defaults: { name: 'Test Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		properties: [itemsProperty],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [readItemsParameter(this)];
	}
}

/** Regular node with one input: ignores its input and emits `items` (once per run). */
class TestItems implements INodeType {
	description = {
		displayName: 'Test Items',
		name: TEST_ITEMS_TYPE,
		group: ['transform'],
		version: 1,
		description: 'Test-only node that ignores its input and emits the given items',
		defaults: { name: 'Test Items' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [itemsProperty],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [readItemsParameter(this)];
	}
}

/** Passes its input through unchanged (the engine still assigns pairedItem). */
class TestNoOp implements INodeType {
	description = {
		displayName: 'Test No Op',
		name: TEST_NOOP_TYPE,
		group: ['transform'],
		version: 1,
		description: 'Test-only node that passes its input through',
		defaults: { name: 'Test No Op' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	} as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

export const testNodeTypes: Record<string, INodeType> = {
	[TEST_TRIGGER_TYPE]: new TestTrigger(),
	[TEST_ITEMS_TYPE]: new TestItems(),
	[TEST_NOOP_TYPE]: new TestNoOp(),
};

/** `INodeTypes` over a fixed map (key = full type name used in the workflow JSON). */
export class HarnessNodeTypes implements INodeTypes {
	constructor(private readonly types: Record<string, INodeType | IVersionedNodeType>) {}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types[nodeType];
		if (type === undefined) {
			throw new Error(
				`Unknown node type "${nodeType}" (known to the harness: ${Object.keys(this.types).join(', ')})`,
			);
		}
		return type;
	}

	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes(): IDataObject {
		return Object.fromEntries(
			Object.keys(this.types).map((name) => [name, { className: name, sourcePath: '' }]),
		);
	}
}
