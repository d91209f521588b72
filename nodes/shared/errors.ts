import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import type { SyncInputError } from './engine';

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
 * An item for the error output under continue-on-fail: n8n moves items that carry an error
 * (paired to the bad input item) to the node's error output.
 */
export function errorItem(ctx: IExecuteFunctions, error: SyncInputError): INodeExecutionData {
	return {
		json: { error: error.message, details: { field: error.field, system: error.system ?? null } },
		error: toNodeError(ctx, error),
		pairedItem: { item: error.itemIndex, input: error.inputIndex },
	};
}
