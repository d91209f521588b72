import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type IPairedItemData,
} from 'n8n-workflow';

import { itemProblem, PlanError, ResolveError, type ItemType, type SyncInputError } from './engine';

export function toNodeError(
	ctx: IExecuteFunctions,
	error: SyncInputError,
	more = 0,
): NodeOperationError {
	return new NodeOperationError(ctx.getNode(), error.message, {
		itemIndex: error.itemIndex,
		description:
			`Field: ${error.field}` +
			(error.inputIndex ? ` (input ${error.inputIndex + 1})` : '') +
			(more > 0 ? `. ${more} more bad record(s) in this run.` : ''),
	});
}

/**
 * An item for the error output under continue-on-fail. n8n moves items whose json holds only
 * error/details to the error output and merges in the paired input item, so the bad record
 * travels with its reason. (An item-level `error` would make n8n drop the record.)
 */
export function errorItem(error: SyncInputError): INodeExecutionData {
	return {
		json: { error: error.message, details: { field: error.field, system: error.system ?? null } },
		pairedItem: { item: error.itemIndex, input: error.inputIndex },
	};
}

/**
 * The reason an earlier node set this item aside under Continue (regular output): such an item
 * carries `error` and no key. The sync nodes pass it on instead of failing on it.
 */
export function setAsideReason(json: IDataObject): string | undefined {
	return typeof json.error === 'string' && json.key === undefined ? json.error : undefined;
}

/**
 * A node error as an item under continue-on-fail. Only error/details in json: n8n then merges the
 * paired input item into it on the error output, and the next sync node sets it aside.
 */
export function failedItem(
	error: NodeOperationError,
	pairedItem: IPairedItemData = { item: 0 },
): INodeExecutionData {
	return {
		json: { error: error.message, details: { description: error.description ?? null } },
		pairedItem,
	};
}

/**
 * Whatever one item's work threw, as an error naming the item (`where`) and, when the engine said
 * which, the field.
 */
export function itemError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
	where = `Item ${itemIndex}`,
): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	const field =
		error instanceof PlanError || error instanceof ResolveError ? error.field : undefined;
	return new NodeOperationError(ctx.getNode(), `${where}: ${(error as Error).message}`, {
		itemIndex,
		description: field !== undefined ? `Field: ${field}` : undefined,
	});
}

/**
 * Runs a node's work; a node-level error under continue-on-fail becomes one error item on the
 * first output, which n8n routes to the error output. (Thrown, n8n would instead pass the input
 * items on down the main output.)
 */
export async function withNodeLevelErrors(
	ctx: IExecuteFunctions,
	work: (this: IExecuteFunctions) => Promise<INodeExecutionData[][]>,
	outputs: number,
): Promise<INodeExecutionData[][]> {
	try {
		return await work.call(ctx);
	} catch (error) {
		const e =
			error instanceof NodeOperationError
				? error
				: new NodeOperationError(ctx.getNode(), error as Error);
		if (!ctx.continueOnFail()) throw e;
		return [[failedItem(e)], ...Array.from({ length: outputs - 1 }, () => [])];
	}
}

/**
 * An input item read as the type the previous node wrote, or an error naming the item and the
 * field ("Item 1 is not a Conflict Check result: field "key" is missing").
 */
export function readItem<T>(
	ctx: IExecuteFunctions,
	type: ItemType<T>,
	json: IDataObject,
	itemIndex: number,
	label = `Item ${itemIndex}`,
): T {
	const problem = itemProblem(type, json);
	if (problem) {
		throw new NodeOperationError(
			ctx.getNode(),
			`${label} is not a ${type.name}: ${problem.message}`,
			{ itemIndex, description: `Field: ${problem.field}. ${type.connect}` },
		);
	}
	return json as T;
}

/** A typed item as n8n item JSON (the item types are plain JSON by construction). */
export function itemJson<T extends object>(item: T): IDataObject {
	return item as IDataObject;
}
