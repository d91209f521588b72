import type { IDataObject, INode, INodeParameters } from 'n8n-workflow';

import { ConflictCheck } from '../../nodes/ConflictCheck/ConflictCheck.node';
import { ConflictResolve } from '../../nodes/ConflictResolve/ConflictResolve.node';
import { baseEntryFor, fingerprint, ignoredFields } from '../../nodes/shared/engine';
import {
	runWorkflow,
	testNodeTypes,
	TEST_ITEMS_TYPE,
	TEST_TRIGGER_TYPE,
	type HarnessWorkflow,
} from '../harness';
import { connect, json, node } from '../harness/build';

export const CHECK_TYPE = 'n8n-nodes-data-sync.conflictCheck';
export const RESOLVE_TYPE = 'n8n-nodes-data-sync.conflictResolve';

export const nodeTypes = {
	...testNodeTypes,
	[CHECK_TYPE]: new ConflictCheck(),
	[RESOLVE_TYPE]: new ConflictResolve(),
};

/** Workflow JSON parameters hold any JSON; n8n's parameter type is narrower than that. */
const params = (p: object) => p as INodeParameters;

export interface SyncWorkflowOptions {
	/** Records per system; the first is the source. */
	systems: Record<string, unknown[]>;
	check?: IDataObject;
	resolve?: IDataObject | false;
	checkExtra?: Partial<INode>;
	resolveExtra?: Partial<INode>;
	/** Items for a Base input (sets baseSource to 'input'). */
	baseItems?: IDataObject[];
	staticData?: IDataObject;
	/** Send the Changes output to Conflict Resolve's second input as well. */
	resolveChanges?: boolean;
}

/**
 * Workflow JSON: a trigger fans out to one items node per system, each feeding its own input of
 * Conflict Check (the source first), whose Conflicts output goes to Conflict Resolve.
 */
export function syncWorkflow(o: SyncWorkflowOptions): HarnessWorkflow {
	const names = Object.keys(o.systems);
	const nodes: INode[] = [node('Trigger', TEST_TRIGGER_TYPE, { items: [{}] })];
	const edges: Array<[string, string, number?, number?]> = [];
	names.forEach((name, i) => {
		nodes.push(node(`Records ${name}`, TEST_ITEMS_TYPE, params({ items: o.systems[name] })));
		edges.push(['Trigger', `Records ${name}`], [`Records ${name}`, 'Conflict Check', 0, i]);
	});
	if (o.baseItems) {
		nodes.push(node('Base', TEST_ITEMS_TYPE, params({ items: o.baseItems })));
		edges.push(['Trigger', 'Base'], ['Base', 'Conflict Check', 0, names.length]);
	}
	nodes.push(
		node(
			'Conflict Check',
			CHECK_TYPE,
			params({
				sourceSystem: names[0],
				otherSystems: names.slice(1).join(', '),
				...(o.baseItems ? { baseSource: 'input' } : {}),
				...o.check,
			}),
			o.checkExtra,
		),
	);
	if (o.resolve !== false) {
		nodes.push(node('Conflict Resolve', RESOLVE_TYPE, params({ ...o.resolve }), o.resolveExtra));
		edges.push(['Conflict Check', 'Conflict Resolve', 0, 0]);
		if (o.resolveChanges) edges.push(['Conflict Check', 'Conflict Resolve', 1, 1]);
	}
	return { nodes, connections: connect(...edges), staticData: o.staticData };
}

/** The fields the nodes' default parameters leave out of comparison. */
export const DEFAULT_IGNORED = ignoredFields({
	keyFields: ['id'],
	updatedAtField: 'updated_at',
	versionField: 'version',
	tombstoneField: '_deleted',
});

/** A base as SyncValidate commits it, built from the records as they were at the last sync. */
export function storedBase(
	records: IDataObject[],
	watermark?: number,
	ignored = DEFAULT_IGNORED,
): IDataObject {
	const keys: IDataObject = {};
	for (const record of records) {
		const entry = baseEntryFor(record, fingerprint(record, ignored), ignored, true);
		keys[String(record.id)] = { f: entry.fingerprint, v: entry.values as IDataObject };
	}
	return { v: 1, ...(watermark !== undefined ? { watermark } : {}), keys };
}

/** Workflow static data holding that base under a sync name. */
export function staticBase(
	records: IDataObject[],
	syncName = 'default',
	watermark?: number,
): IDataObject {
	return { global: { [`dataSync:${syncName}`]: storedBase(records, watermark) } };
}

/** Conflict Check and Conflict Resolve (last writer wins, changes too): their Resolved items. */
export async function resolvedFor(systems: Record<string, IDataObject[]>): Promise<IDataObject[]> {
	const result = await runWorkflow({
		workflow: syncWorkflow({
			systems,
			resolve: { strategy: 'lastWriterWins' },
			resolveChanges: true,
		}),
		nodeTypes,
		mode: 'trigger',
	});
	if (result.status !== 'success')
		throw result.error ?? new Error(`Conflict Check and Resolve ended with ${result.status}`);
	return json(result.output('Conflict Resolve', 0));
}
