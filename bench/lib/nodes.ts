/**
 * What the in-process benchmarks run through test/harness (n8n-core's WorkflowExecute): the
 * package's nodes, n8n's own Compare Datasets from the installed n8n 2.41.1, and a feeder node
 * that puts a prepared dataset on its output by reference, so that no benchmark pays for a large
 * JSON parameter (the harness's Test Items node copies and expression-resolves its parameter).
 */
import path from 'node:path';

import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { DataSyncSystem2Api } from '../../credentials/DataSyncSystem2Api.credentials.ts';
import { credentialData } from '../../demo/systems/credentials.ts';
import { DataSyncSystem3Api } from '../../credentials/DataSyncSystem3Api.credentials.ts';
import { DataSyncSystemApi } from '../../credentials/DataSyncSystemApi.credentials.ts';
import { ConflictCheck } from '../../nodes/ConflictCheck/ConflictCheck.node.ts';
import { ConflictResolve } from '../../nodes/ConflictResolve/ConflictResolve.node.ts';
import { MultiTargetSync } from '../../nodes/MultiTargetSync/MultiTargetSync.node.ts';
import { SyncValidate } from '../../nodes/SyncValidate/SyncValidate.node.ts';
import { testNodeTypes, TEST_TRIGGER_TYPE } from '../../test/harness/index.ts';
import type { RunningSystem } from '../../test/systems/helpers.ts';

export const ROOT = path.resolve(__dirname, '../..');
export const N8N_NODES_BASE = path.join(ROOT, '.cache/n8n/node_modules/n8n-nodes-base');

export const RECORDS_TYPE = 'bench.records';
export const CHECK_TYPE = 'n8n-nodes-data-sync.conflictCheck';
export const RESOLVE_TYPE = 'n8n-nodes-data-sync.conflictResolve';
export const SYNC_TYPE = 'n8n-nodes-data-sync.multiTargetSync';
export const VALIDATE_TYPE = 'n8n-nodes-data-sync.syncValidate';
export const COMPARE_TYPE = 'n8n-nodes-base.compareDatasets';
export { TEST_TRIGGER_TYPE };

const datasets = new Map<string, IDataObject[]>();

/** Registers a dataset for `bench.records` nodes whose `dataset` parameter names it. */
export function provide(name: string, records: IDataObject[]): void {
	datasets.set(name, records);
}

export function forget(): void {
	datasets.clear();
}

class BenchRecords implements INodeType {
	description = {
		displayName: 'Bench Records',
		name: RECORDS_TYPE,
		group: ['transform'],
		version: 1,
		description: 'Emits a prepared dataset, one item per record, without copying it',
		defaults: { name: 'Bench Records' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [{ displayName: 'Dataset', name: 'dataset', type: 'string', default: '' }],
	} as unknown as INodeTypeDescription;

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const name = this.getNodeParameter('dataset', 0) as string;
		const records = datasets.get(name);
		if (!records) throw new Error(`bench.records: no dataset "${name}"`);
		return [records.map((json) => ({ json }))];
	}
}

/** n8n's Compare Datasets, as the installed n8n 2.41.1 ships it. */
export function compareDatasetsType(): INodeType {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const mod = require(
		path.join(N8N_NODES_BASE, 'dist/nodes/CompareDatasets/CompareDatasets.node.js'),
	) as {
		CompareDatasets: new () => INodeType;
	};
	return new mod.CompareDatasets();
}

export function compareDatasetsVersion(): { package: string; nodeVersions: number[] } {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const pkg = require(path.join(N8N_NODES_BASE, 'package.json')) as { version: string };
	const versions = compareDatasetsType().description.version;
	return { package: pkg.version, nodeVersions: Array.isArray(versions) ? versions : [versions] };
}

export function nodeTypes(extra: Record<string, INodeType> = {}): Record<string, INodeType> {
	return {
		...testNodeTypes,
		[RECORDS_TYPE]: new BenchRecords(),
		[CHECK_TYPE]: new ConflictCheck(),
		[RESOLVE_TYPE]: new ConflictResolve(),
		[SYNC_TYPE]: new MultiTargetSync(),
		[VALIDATE_TYPE]: new SyncValidate(),
		...extra,
	};
}

export const credentialTypes = [
	new DataSyncSystemApi(),
	new DataSyncSystem2Api(),
	new DataSyncSystem3Api(),
];
export const SLOTS = ['dataSyncSystemApi', 'dataSyncSystem2Api', 'dataSyncSystem3Api'];

/** A demo system's credential data as a user enters it; baseUrl may point at a proxy. */
export function credentialFor(
	system: RunningSystem,
	baseUrl = system.url,
): ICredentialDataDecryptedObject {
	return credentialData(system.name, baseUrl, system.auth);
}

/** Node credential references for the first n slots (the harness looks credentials up by type). */
export function slotRefs(names: string[]): INode['credentials'] {
	return Object.fromEntries(names.map((name, i) => [SLOTS[i], { id: String(i + 1), name }]));
}

/** Wall time of one node's run as n8n records it (task data), in ms. */
export function nodeTime(
	runData: Record<string, Array<{ executionTime?: number }>>,
	name: string,
): number {
	return runData[name]?.[0]?.executionTime ?? NaN;
}
