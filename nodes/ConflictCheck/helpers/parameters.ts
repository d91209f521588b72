import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

import type { RecordSpec } from '../../shared/engine';
import { readRecordSpec, systemList } from '../../shared/parameters/read';

export type BaseSource = 'staticData' | 'input' | 'none';
export type Scope = 'source' | 'all';

/** The parameters both modes share, read and checked once. */
export interface CheckParameters {
	options: IDataObject;
	source: string;
	others: string[];
	/** The source first, then the others, as checked. */
	systemNames: string[];
	spec: RecordSpec;
	baseSource: BaseSource;
	recordsField: string;
}

/** The other systems' names, from the mode's own parameter (otherSystems or httpSystems). */
function otherSystems(ctx: IExecuteFunctions, field: string): string[] {
	try {
		return systemList(ctx.getNodeParameter(field, 0, ''), 'Other Systems');
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), (error as Error).message, {
			description: `Field: ${field}. Name each system once, as its credential's System Name does.`,
		});
	}
}

/** Reads the shared parameters; a missing key field or a repeated system name stops the node. */
export function readCheckParameters(
	ctx: IExecuteFunctions,
	othersField: 'otherSystems' | 'httpSystems',
): CheckParameters {
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const source = String(ctx.getNodeParameter('sourceSystem', 0)).trim();
	const others = otherSystems(ctx, othersField);
	const systemNames = [source, ...others];
	const spec: RecordSpec = readRecordSpec(ctx, 0);
	if (spec.keyFields.length === 0) {
		throw new NodeOperationError(
			ctx.getNode(),
			'Key Fields is empty: name the field that identifies a record',
		);
	}
	const duplicate = systemNames.find((n, i) => systemNames.indexOf(n) !== i);
	if (duplicate || !source) {
		throw new NodeOperationError(
			ctx.getNode(),
			`System names must be unique and non-empty: "${duplicate ?? ''}" repeats`,
		);
	}
	const baseSource = ctx.getNodeParameter('baseSource', 0) as BaseSource;
	const recordsField = String(ctx.getNodeParameter('recordsField', 0, '')).trim();
	return { options, source, others, systemNames, spec, baseSource, recordsField };
}

/** Keys to Check: read after the source records, as the mode needs it. */
export function readScope(ctx: IExecuteFunctions): Scope {
	return ctx.getNodeParameter('scope', 0, 'source') as Scope;
}
