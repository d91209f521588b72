import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { connectedSystemsProperty } from '../../shared/parameters/systems';
import {
	connectedSystems,
	requireSystems,
	type SystemConnection,
} from '../../shared/transport/systems';
import { newStats, type TransportStats } from '../../shared/transport/request';
import { readByRange, type HttpRead } from '../helpers/byRange';
import { finishCheck } from '../helpers/check';
import type { SummaryExtras } from '../helpers/items';
import {
	addNamedRecords,
	BY_KEY_LIMIT,
	currentSource,
	readOthersOverHttp,
	sourceCheckSummary,
} from '../helpers/overHttp';
import {
	readCheckParameters,
	readScope,
	type CheckParameters,
	type Scope,
} from '../helpers/parameters';
import { keyRangeProperties, readKeyRange } from '../helpers/range';
import { indexSource, sourceRecords, type SourceRecords } from '../helpers/source';

const httpOnly = { show: { systemsFrom: ['http'] } };

/** This mode's notice, shown at the top of the panel. */
export const notice: INodeProperties = {
	displayName:
		'Input 1 carries the source system’s records. This node reads the other systems over HTTP, each through the credential (Connected System 1, 2 ...) whose System Name is the name used here.',
	name: 'httpNotice',
	type: 'notice',
	default: '',
	displayOptions: httpOnly,
};

/** This mode's parameters: the systems to read, their credential slots, and how to read them. */
export const description: INodeProperties[] = [
	{
		displayName: 'Other Systems',
		name: 'httpSystems',
		type: 'string',
		default: 'system_b, system_c',
		placeholder: 'e.g. system_b, system_c',
		displayOptions: httpOnly,
		description:
			'Systems to read over HTTP: comma-separated names, or an expression giving an array. Each needs a Data Sync System credential with that System Name.',
	},
	connectedSystemsProperty({ systemsFrom: ['http'] }),
	{
		displayName: 'Read Records',
		name: 'readBy',
		type: 'options',
		default: 'auto',
		displayOptions: httpOnly,
		options: [
			{
				name: 'Automatic',
				value: 'auto',
				description:
					'By key when the source has at most 5,000 keys, else every record page by page',
			},
			{ name: 'By Key', value: 'key', description: 'Look up only the source’s keys' },
			{ name: 'Every Record', value: 'page', description: 'Page through the whole collection' },
			{
				name: 'Key Range',
				value: 'range',
				description:
					'Every system, the source included, page by page within Keys From and Keys To: one part of a sync split by key range',
			},
		],
	},
	...keyRangeProperties,
	{
		displayName: 'Keys Field',
		name: 'keysField',
		type: 'string',
		default: '',
		placeholder: 'e.g. keys',
		displayOptions: httpOnly,
		description:
			'A field of the input item listing keys to sync, as a change event names them. Keys without a record in Records Field are read from the source system by key. Leave empty to sync the records sent.',
	},
];

/** By key, the other systems are asked for the source's keys only: what else they hold is unknown. */
function readsByKey(ctx: IExecuteFunctions, scope: Scope, sourceKeys: number): boolean {
	const readBy = ctx.getNodeParameter('readBy', 0, 'auto') as string;
	return (
		scope === 'source' && (readBy === 'key' || (readBy === 'auto' && sourceKeys <= BY_KEY_LIMIT))
	);
}

/**
 * Read Records other than Key Range: the source from the input (re-read from the source system
 * when Re-Read Stale Source Records is on), the other systems by the source's keys or whole.
 */
async function readByPayload(
	ctx: IExecuteFunctions,
	p: CheckParameters,
	src: SourceRecords,
	systems: { source: SystemConnection; reachable: Map<string, SystemConnection> },
	scope: Scope,
	stats: TransportStats,
): Promise<HttpRead> {
	const checked =
		p.options.verifySource !== false
			? await currentSource(ctx, systems.source, src, p.spec, stats)
			: { source: indexSource(src, p.source, p.spec), found: undefined };
	const { source } = checked;
	const byKey = readsByKey(ctx, scope, source.system.order.length);
	const others = await readOthersOverHttp(
		ctx,
		requireSystems(ctx, systems.reachable, p.others, 'Other Systems'),
		byKey ? source.system.order : undefined,
		p.spec,
		stats,
	);
	const summaryExtras: SummaryExtras = {
		transport: { ...stats },
		...(checked.found ? sourceCheckSummary(checked.found) : {}),
	};
	return {
		read: {
			systems: [source.system, ...others.systems],
			errors: [...source.errors, ...others.errors],
		},
		byKey,
		summaryExtras,
	};
}

/**
 * Other Systems From > HTTP: the source on input 1 (re-read from the source system when it is
 * connected), the other systems read over HTTP (or every system within a Key Range), the Base
 * (Base Input) on input 2.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const p = readCheckParameters(this, 'httpSystems');
	const keyRange = readKeyRange(this, p.spec);
	const sourceItems = this.getInputData(0);
	const keysField = String(this.getNodeParameter('keysField', 0, '')).trim();
	// With Keys Field or a Key Range the records are read from the systems: an item may send none.
	const src = sourceRecords(this, sourceItems, p.recordsField, keysField !== '' || !!keyRange);
	const stats = newStats();
	const reachable = await connectedSystems(this);
	// Every system of the sync must be one this node reaches: an unknown or malformed source name
	// stops here, before anything is read or written.
	const [source] = requireSystems(this, reachable, [p.source], 'Source System');
	if (keysField) {
		const named = { items: sourceItems, keysField, spec: p.spec };
		await addNamedRecords(this, source, src, named, stats);
	}
	const scope = readScope(this);
	const { read, byKey, summaryExtras } = keyRange
		? await readByRange(
				this,
				p,
				src,
				{ source, others: requireSystems(this, reachable, p.others, 'Other Systems') },
				keyRange,
				stats,
			)
		: await readByPayload(this, p, src, { source, reachable }, scope, stats);
	return finishCheck(this, {
		started,
		parameters: p,
		scope,
		sourceItems: sourceItems.length,
		src,
		read,
		baseInput: 1,
		// A record read from another system has no input item: the first source item.
		pairOther: () => ({ item: 0 }),
		byKey,
		summaryExtras,
	});
}
