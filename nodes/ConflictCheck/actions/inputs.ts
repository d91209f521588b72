import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { indexRecords, type RecordSpec } from '../../shared/engine';
import { finishCheck } from '../helpers/check';
import { readCheckParameters, readScope } from '../helpers/parameters';
import { indexSource, sourceRecords, type ReadSystems } from '../helpers/source';

const inputsOnly = { show: { systemsFrom: ['inputs'] } };

/** This mode's notice, shown at the top of the panel. */
export const notice: INodeProperties = {
	displayName:
		'Input 1 carries the source system’s records; each further input carries the current records of one other system, read by any n8n node.',
	name: 'inputsNotice',
	type: 'notice',
	default: '',
	displayOptions: inputsOnly,
};

/** This mode's parameters: the other systems, one input each. */
export const description: INodeProperties[] = [
	{
		displayName: 'Other Systems',
		name: 'otherSystems',
		type: 'string',
		default: 'system_b, system_c',
		noDataExpression: true,
		placeholder: 'e.g. crm, warehouse',
		description:
			'Comma-separated names of the other systems. Each gets its own input, in this order, carrying that system’s current records.',
		displayOptions: inputsOnly,
	},
];

/** Each other system's records on its own input, read by any n8n node. */
function readOthersFromInputs(
	ctx: IExecuteFunctions,
	others: string[],
	spec: RecordSpec,
): ReadSystems {
	const read: ReadSystems = { systems: [], errors: [] };
	others.forEach((name, n) => {
		const items = ctx.getInputData(n + 1) ?? [];
		const result = indexRecords(
			items.map((item) => item.json),
			spec,
			{ system: name, inputIndex: n + 1 },
		);
		read.errors.push(...result.errors);
		read.systems.push(result.system);
	});
	return read;
}

/**
 * Other Systems From > Node Inputs: the source on input 1, each other system on its own input,
 * the Base (Base Input) on the last.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const p = readCheckParameters(this, 'otherSystems');
	const sourceItems = this.getInputData(0);
	const src = sourceRecords(this, sourceItems, p.recordsField);
	const source = indexSource(src, p.source, p.spec);
	const scope = readScope(this);
	const others = readOthersFromInputs(this, p.others, p.spec);
	return finishCheck(this, {
		started,
		parameters: p,
		scope,
		sourceItems: sourceItems.length,
		src,
		read: {
			systems: [source.system, ...others.systems],
			errors: [...source.errors, ...others.errors],
		},
		baseInput: p.others.length + 1,
		pairOther: (input, item) => ({ item, input }),
		byKey: false,
		summaryExtras: {},
	});
}
