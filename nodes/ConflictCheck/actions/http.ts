import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { connectedSystemsProperty } from '../../shared/parameters/systems';
import { connectedSystems, requireSystems } from '../../shared/transport/systems';
import { newStats } from '../../shared/transport/request';
import { finishCheck } from '../helpers/check';
import type { SummaryExtras } from '../helpers/items';
import {
	addNamedRecords,
	BY_KEY_LIMIT,
	currentSource,
	readOthersOverHttp,
	sourceCheckSummary,
} from '../helpers/overHttp';
import { readCheckParameters, readScope, type Scope } from '../helpers/parameters';
import { indexSource, sourceRecords } from '../helpers/source';

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
		],
	},
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
 * Other Systems From > HTTP: the source on input 1 (re-read from the source system when it is
 * connected), the other systems read over HTTP, the Base (Base Input) on input 2.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const p = readCheckParameters(this, 'httpSystems');
	const sourceItems = this.getInputData(0);
	const keysField = String(this.getNodeParameter('keysField', 0, '')).trim();
	const src = sourceRecords(this, sourceItems, p.recordsField, keysField !== '');
	const stats = newStats();
	const reachable = await connectedSystems(this);
	// Every system of the sync must be one this node reaches: an unknown or malformed source name
	// stops here, before anything is read or written.
	const [sourceSystem] = requireSystems(this, reachable, [p.source], 'Source System');
	if (keysField) {
		const named = { items: sourceItems, keysField, spec: p.spec };
		await addNamedRecords(this, sourceSystem, src, named, stats);
	}
	const verify = p.options.verifySource !== false;
	const checked = verify
		? await currentSource(this, sourceSystem, src, p.spec, stats)
		: { source: indexSource(src, p.source, p.spec), found: undefined };
	const { source } = checked;
	const scope = readScope(this);
	const byKey = readsByKey(this, scope, source.system.order.length);
	const others = await readOthersOverHttp(
		this,
		requireSystems(this, reachable, p.others, 'Other Systems'),
		byKey ? source.system.order : undefined,
		p.spec,
		stats,
	);
	const summaryExtras: SummaryExtras = {
		transport: { ...stats },
		...(checked.found ? sourceCheckSummary(checked.found) : {}),
	};
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
		baseInput: 1,
		// A record read from another system has no input item: the first source item.
		pairOther: () => ({ item: 0 }),
		byKey,
		summaryExtras,
	});
}
