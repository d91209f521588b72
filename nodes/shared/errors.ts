import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { itemProblem, type ItemType, type SyncInputError } from './engine';

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
		const item = {
			json: { error: e.message, details: { description: e.description ?? null } },
			pairedItem: { item: 0 },
		};
		return [[item], ...Array.from({ length: outputs - 1 }, () => [])];
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
