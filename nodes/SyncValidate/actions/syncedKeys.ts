import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import {
	advanceBase,
	baseUpdates,
	CHECK_SUMMARY,
	day66LogFields,
	readBackVerdict,
	recordsByKey,
	SYNC_RESULT,
	syncedSystems,
	syncReport,
	tallySyncResults,
	validatedEntries,
	type BaseEntry,
	type CheckSummary,
	type RecordData,
	type SetAside,
	type SyncedKey,
	type SyncResult,
	type Unreadable,
} from '../../shared/engine';
import { itemJson, readItem, setAsideReason } from '../../shared/errors';
import {
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_BASE_KEYS,
	recordSpecNotice,
	REPORT_LIST_CAP,
} from '../../shared/parameters/descriptions';
import { baseSlot, splitList } from '../../shared/parameters/read';
import { lookupRecords } from '../../shared/transport/records';
import { connectedSystems, requireSystems } from '../../shared/transport/systems';
import {
	newStats,
	retryPolicyFrom,
	TransportError,
	type TransportStats,
} from '../../shared/transport/request';

const syncedKeysOnly = { show: { scope: ['syncedKeys'] } };

/** This mode's parameters: its inputs, how systems are read back, where the base is committed. */
export const description: INodeProperties[] = [
	{
		displayName:
			'Input 1: the Results output of Multi Target Sync. Input 2 (optional): the Summary output of Conflict Check, so a sync with nothing to write still gets a report.',
		name: 'inputsNotice',
		type: 'notice',
		default: '',
		displayOptions: syncedKeysOnly,
	},
	{ ...recordSpecNotice, displayOptions: syncedKeysOnly },
	{
		displayName: 'Read Systems Back',
		name: 'readBackFrom',
		type: 'options',
		noDataExpression: true,
		default: 'http',
		displayOptions: syncedKeysOnly,
		options: [
			{
				name: 'Over HTTP (Data Sync System Credentials)',
				value: 'http',
				description: 'This node reads every system back for the synced keys',
			},
			{
				name: 'From Node Inputs',
				value: 'inputs',
				description:
					'Each system’s current records arrive on an input, read by any n8n node after the writes',
			},
		],
	},
	{
		displayName: 'Systems Read Back',
		name: 'readBackSystems',
		type: 'string',
		default: '',
		noDataExpression: true,
		placeholder: 'e.g. postgres, mariadb, system_a',
		displayOptions: { show: { readBackFrom: ['inputs'], scope: ['syncedKeys'] } },
		description:
			'Comma-separated names of every synced system. Each gets an input, in this order, after Check Summary.',
	},
	{
		displayName: 'Commit Base To',
		name: 'baseTarget',
		type: 'options',
		noDataExpression: true,
		default: 'staticData',
		displayOptions: syncedKeysOnly,
		description:
			'Where keys that validate advance the base. Either way they also go out on the Base Updates output, to keep in a real store.',
		options: [
			{
				name: 'Workflow Static Data',
				value: 'staticData',
				description: 'Saved by n8n after production runs of an active workflow; bounded in size',
			},
			{
				name: 'Base Updates Output Only',
				value: 'output',
				description:
					'Write them with another node (a database) and feed them to Conflict Check’s Base input',
			},
		],
	},
	{
		displayName: 'Sync Name',
		name: 'syncName',
		type: 'string',
		default: 'default',
		noDataExpression: true,
		displayOptions: { show: { baseTarget: ['staticData'], scope: ['syncedKeys'] } },
		description:
			'The same name as on Conflict Check: names this sync’s base in the workflow static data',
	},
];

/** The inputs, read as the types the earlier nodes wrote. */
interface Inputs {
	results: Array<{ item: number; result: SyncResult }>;
	/** Error items in place of results (Multi Target Sync on Continue, regular output). */
	setAside: SetAside[];
	resultCount: number;
	summary?: CheckSummary;
	summaryCount: number;
}

function readInputs(ctx: IExecuteFunctions): Inputs {
	const resultItems = ctx.getInputData(0) ?? [];
	const summaryItems = ctx.getInputData(1) ?? [];
	const inputs: Inputs = {
		results: [],
		setAside: [],
		resultCount: resultItems.length,
		summaryCount: summaryItems.length,
	};
	resultItems.forEach(({ json }, item) => {
		const reason = setAsideReason(json);
		if (reason !== undefined) inputs.setAside.push({ item, reason });
		else inputs.results.push({ item, result: readItem(ctx, SYNC_RESULT, json, item) });
	});
	// Optional: absent when not connected, empty, or set aside by Conflict Check.
	const summary = summaryItems[0]?.json;
	if (summary && Object.keys(summary).length > 0 && setAsideReason(summary) === undefined)
		inputs.summary = readItem(ctx, CHECK_SUMMARY, summary, 0, 'Check Summary item 0');
	return inputs;
}

interface ReadBack {
	actual: Map<string, Map<string, RecordData>>;
	unreadable: Unreadable[];
}

/** Each system's records, read back by other n8n nodes after the writes, on its own input. */
function readBackFromInputs(
	ctx: IExecuteFunctions,
	systemNames: string[],
	keyFields: string[],
): ReadBack {
	const actual = new Map<string, Map<string, RecordData>>();
	splitList(ctx.getNodeParameter('readBackSystems', 0, '')).forEach((name, n) => {
		const items = ctx.getInputData(n + 2) ?? [];
		actual.set(
			name,
			recordsByKey(
				items.map(({ json }) => json),
				keyFields,
			),
		);
	});
	const unreadable = systemNames
		.filter((name) => !actual.has(name))
		.map((system) => ({ system, reason: 'no read-back input names it' }));
	return { actual, unreadable };
}

/** Every system read back over HTTP for the synced keys; a system that cannot be read is reported. */
async function readBackOverHttp(
	ctx: IExecuteFunctions,
	systemNames: string[],
	keys: SyncedKey[],
	options: IDataObject,
	stats: TransportStats,
): Promise<ReadBack> {
	const back: ReadBack = { actual: new Map(), unreadable: [] };
	const connections = requireSystems(ctx, await connectedSystems(ctx), systemNames, 'systems');
	const keyList = keys.map((k) => k.key);
	const policy = retryPolicyFrom(options);
	const concurrency = Number(options.concurrency ?? DEFAULT_CONCURRENCY);
	await Promise.all(
		connections.map(async (system) => {
			try {
				const read = await lookupRecords(ctx, system, keyList, policy, stats, concurrency);
				back.actual.set(system.name, recordsByKey(read, keys[0].keyFields));
			} catch (error) {
				if (!(error instanceof TransportError))
					throw new NodeOperationError(ctx.getNode(), error as Error);
				back.unreadable.push({ system: system.name, reason: error.message });
			}
		}),
	);
	return back;
}

/** Commits the validated keys to the workflow static data where so configured; the note says where they went. */
function commitBase(
	ctx: IExecuteFunctions,
	validated: Map<string, BaseEntry>,
	watermark: number,
	options: IDataObject,
): string {
	const baseTarget = ctx.getNodeParameter('baseTarget', 0) as 'staticData' | 'output';
	if (baseTarget !== 'staticData') return 'not committed: Base Updates output only';
	const syncName = String(ctx.getNodeParameter('syncName', 0, 'default'));
	if (ctx.getMode() === 'manual') {
		ctx.addExecutionHints({
			message:
				'Manual run: the base was not saved, since n8n keeps workflow static data only for production runs of an active workflow.',
			location: 'outputPane',
		});
		return 'not saved: manual run (n8n saves static data only for production runs of an active workflow)';
	}
	if (validated.size === 0) return 'unchanged: no key validated';
	const staticData = ctx.getWorkflowStaticData('global');
	const slot = baseSlot(syncName);
	const maxKeys = Number(options.maxBaseKeys ?? DEFAULT_MAX_BASE_KEYS);
	let stored;
	try {
		stored = advanceBase(staticData[slot], validated, watermark, maxKeys);
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Base "${syncName}": ${(error as Error).message}`, {
			description:
				'Commit the base to a real store instead: set Commit Base To "Base Updates Output Only".',
		});
	}
	staticData[slot] = itemJson(stored);
	return `workflow static data "${syncName}" (${Object.keys(stored.keys).length} keys)`;
}

/** Validate > The Keys This Sync Wrote: read them back, commit the base for those that agree, report. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const inputs = readInputs(this);
	const tally = tallySyncResults(inputs.results);
	const keys = [...tally.keys.values()];
	const systemNames = syncedSystems(keys);
	const stats = newStats();
	let back: ReadBack = { actual: new Map(), unreadable: [] };
	if (keys.length > 0 && this.getNodeParameter('readBackFrom', 0, 'http') === 'inputs')
		back = readBackFromInputs(this, systemNames, keys[0].keyFields);
	else if (keys.length > 0) back = await readBackOverHttp(this, systemNames, keys, options, stats);

	// Validation is the commit point: only keys that validated advance the base.
	const verdict = readBackVerdict(keys, back.actual);
	const validated = validatedEntries(verdict.passed, options.keepValues !== false);
	const base = commitBase(this, validated, started, options);
	const report = syncReport({
		tally,
		verdict,
		unreadable: back.unreadable,
		summary: inputs.summary,
		setAside: inputs.setAside,
		transport: { ...stats },
		base,
		started,
		finished: Date.now(),
		listCap: REPORT_LIST_CAP,
	});
	const pairedItem = inputs.resultCount
		? Array.from({ length: inputs.resultCount }, (_, item) => ({ item }))
		: Array.from({ length: inputs.summaryCount }, (_, item) => ({ item, input: 1 }));
	const updates = baseUpdates(validated, new Date(started).toISOString(), report.syncId);
	return [
		[{ json: itemJson({ ...report, ...day66LogFields(report) }), pairedItem }],
		updates.map((update) => ({
			json: itemJson(update),
			pairedItem: tally.keys.get(update.key)!.items.map((item) => ({ item })),
		})),
	];
}
