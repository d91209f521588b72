import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { DEFAULT_CONCURRENCY } from '../../shared/parameters/descriptions';
import {
	getPath,
	ignoredFields,
	indexRecords,
	isTombstone,
	readFingerprint,
	recordKey,
	recordsByKey,
	SyncInputError,
	type CheckSummary,
	type IndexedSystem,
	type RecordData,
	type RecordSpec,
} from '../../shared/engine';
import { listRecords, lookupRecords, type ListScope } from '../../shared/transport/records';
import type { SystemConnection } from '../../shared/transport/systems';
import { DEFAULT_RETRY, type TransportStats } from '../../shared/transport/request';
import { indexSource, keysOf, type ReadSystems, type SourceRecords } from './source';

/** Up to this many source keys, other systems are read by key; past it, page by page. */
export const BY_KEY_LIMIT = 5000;

/**
 * One system's current records: by these keys (the lookup endpoint), or page by page (all of
 * them, or a key range's). A read that fails stops the node before anything is written, and says so.
 */
export async function readSystem(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	read: string[] | ListScope,
	stats: TransportStats,
	advice: string,
): Promise<RecordData[]> {
	try {
		return Array.isArray(read)
			? await lookupRecords(ctx, system, read, DEFAULT_RETRY, stats, DEFAULT_CONCURRENCY)
			: await listRecords(ctx, system, DEFAULT_RETRY, stats, read);
	} catch (error) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Reading ${system.name}: ${(error as Error).message}`,
			{
				description: `Nothing was written. ${advice}`,
			},
		);
	}
}

interface FromSource {
	/** Keys whose payload record differed from the source system's current one. */
	replaced: string[];
	/** Keys the source system does not hold. */
	absent: string[];
}

/**
 * A payload is a message about the source system, and a message can be stale: re-sent, replayed
 * or overtaken by a later change. When the source system is connected too, its current state is
 * the truth: a valid payload record that differs from the system's current record (another
 * version or other data) is replaced by it, and one the system does not hold at all is dropped,
 * so an old or made-up payload cannot write old data over newer data. Records the first pass
 * refused are left as they are, to be reported. `given`: the source's current records, already
 * read (a key range's); otherwise they are read for the payload's keys.
 */
async function refreshFromSource(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	src: SourceRecords,
	valid: IndexedSystem,
	spec: RecordSpec,
	stats: TransportStats,
	given?: RecordData[],
): Promise<FromSource> {
	const keys = valid.order;
	if (keys.length === 0) return { replaced: [], absent: [] };
	const current =
		given ??
		(await readSystem(
			ctx,
			system,
			keys.length <= BY_KEY_LIMIT ? keys : {},
			stats,
			'The source system is read to check that the payload is current; check it and its credential, then run the sync again.',
		));
	const ignored = ignoredFields(spec);
	const byKey = recordsByKey(current as IDataObject[], spec.keyFields);
	const replaced: string[] = [];
	const absent = new Set<number>();
	for (const [key, sent] of valid.records) {
		const now = byKey.get(key);
		if (now === undefined) {
			absent.add(sent.itemIndex);
			continue;
		}
		const nowDeleted = spec.tombstoneField ? isTombstone(now[spec.tombstoneField]) : false;
		const same =
			(!spec.versionField || String(now[spec.versionField]) === String(sent.version)) &&
			nowDeleted === sent.deleted &&
			(nowDeleted || readFingerprint(now, ignored).fingerprint === sent.fingerprint);
		if (same) continue;
		src.records[sent.itemIndex] = now;
		replaced.push(key);
	}
	const absentKeys = [...valid.records.values()]
		.filter((r) => absent.has(r.itemIndex))
		.map((r) => r.key);
	if (absent.size > 0) {
		const keep = (_: unknown, i: number) => !absent.has(i);
		src.records = src.records.filter(keep);
		src.origin = src.origin.filter(keep);
		src.labels = src.labels.filter(keep);
	}
	return { replaced, absent: absentKeys };
}

/**
 * The source records as the source system holds them now (see refreshFromSource), when the
 * Re-Read Stale Source Records option is on; with what it found, for the summary.
 */
export async function currentSource(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	src: SourceRecords,
	spec: RecordSpec,
	stats: TransportStats,
	given?: RecordData[],
): Promise<{ source: ReturnType<typeof indexSource>; found: FromSource }> {
	const first = indexSource(src, system.name, spec);
	const found = await refreshFromSource(ctx, system, src, first.system, spec, stats, given);
	if (found.replaced.length === 0 && found.absent.length === 0) return { source: first, found };
	ctx.addExecutionHints({
		message: `The payload did not match what ${system.name} holds now: ${found.replaced.length} record(s) replaced by ${system.name}'s current ones, ${found.absent.length} it does not hold left out (e.g. ${[...found.replaced, ...found.absent].slice(0, 3).join(', ')}).`,
		location: 'outputPane',
	});
	return { source: indexSource(src, system.name, spec), found };
}

/** What the summary says about the source re-read. */
export const sourceCheckSummary = (
	found: FromSource,
): Pick<CheckSummary, 'staleSourceRecords' | 'notAtSource'> => ({
	staleSourceRecords: { count: found.replaced.length, keys: found.replaced.slice(0, 50) },
	notAtSource: { count: found.absent.length, keys: found.absent.slice(0, 50) },
});

/**
 * Each other system read over HTTP, by the given keys (the lookup endpoint) or whole, page by
 * page. A read that fails stops the node before anything is written.
 */
export async function readOthersOverHttp(
	ctx: IExecuteFunctions,
	connections: SystemConnection[],
	keys: string[] | undefined,
	spec: RecordSpec,
	stats: TransportStats,
): Promise<ReadSystems> {
	const fetched = await Promise.all(
		connections.map(
			async (system) =>
				await readSystem(
					ctx,
					system,
					keys ?? {},
					stats,
					'Check the system and its credential, then run the sync again.',
				),
		),
	);
	return indexOthers(connections, fetched, spec);
}

/** The other systems' records (read over HTTP, in the connections' order) indexed by key. */
export function indexOthers(
	connections: SystemConnection[],
	fetched: RecordData[][],
	spec: RecordSpec,
): ReadSystems {
	const read: ReadSystems = { systems: [], errors: [] };
	connections.forEach((system, n) => {
		const result = indexRecords(fetched[n], spec, {
			system: system.name,
			label: (i) => `record ${i} read over HTTP`,
		});
		// A bad remote record has no input item: its error is paired with the first source item.
		read.errors.push(
			...result.errors.map((e) => new SyncInputError(e.message, 0, e.field, e.system, 0, e.key)),
		);
		read.systems.push(result.system);
	});
	return read;
}

/** The keys each input item names in Keys Field, as strings; an item naming none names none. */
function keysNamed(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	keysField: string,
): Array<{ key: string; item: number }> {
	const out: Array<{ key: string; item: number }> = [];
	items.forEach(({ json }, item) => {
		const value = getPath(json, keysField);
		if (value === undefined || value === null) return;
		const list = Array.isArray(value) ? value : [value];
		list.forEach((key, k) => {
			if ((typeof key !== 'string' || key === '') && typeof key !== 'number') {
				throw new NodeOperationError(
					ctx.getNode(),
					`Item ${item}: ${keysField}[${k}] must be a key (a string or a number), got ${JSON.stringify(key) ?? typeof key}`,
					{ itemIndex: item, description: `Field: ${keysField}` },
				);
			}
			out.push({ key: String(key), item });
		});
	});
	return out;
}

/**
 * Keys Field: a change event may name keys without their records (or with some). The records it
 * lacks are read from the source system by key and join the source records, each paired with the
 * item that named it; a key the source no longer holds at all stays out (nothing to propagate).
 */
export async function addNamedRecords(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	src: SourceRecords,
	named: { items: INodeExecutionData[]; keysField: string; spec: RecordSpec },
	stats: TransportStats,
): Promise<void> {
	const wanted = keysNamed(ctx, named.items, named.keysField);
	const sent = keysOf(src, named.spec.keyFields);
	const missing = new Map<string, number>();
	for (const { key, item } of wanted)
		if (!sent.has(key) && !missing.has(key)) missing.set(key, item);
	if (missing.size === 0) return;
	const read = await readSystem(
		ctx,
		system,
		[...missing.keys()],
		stats,
		'The source system is read for the keys the input names; check it and its credential, then run the sync again.',
	);
	for (const record of read) {
		const key = recordKey(record, named.spec.keyFields);
		if (typeof key !== 'string' || !missing.has(key)) continue;
		const item = missing.get(key)!;
		src.records.push(record);
		src.origin.push(item);
		src.labels.push(`item ${item} ${named.keysField}: ${key} read from ${system.name}`);
	}
}
