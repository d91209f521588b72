import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type IPairedItemData,
} from 'n8n-workflow';

import { DEFAULT_CONCURRENCY, DEFAULT_MAX_BASE_KEYS } from '../shared/parameters/descriptions';
import {
	baseFromStored,
	checkConflicts,
	DELETED_FINGERPRINT,
	getPath,
	ignoredFields,
	indexRecords,
	newSyncId,
	parseTimestamp,
	isTombstone,
	readFingerprint,
	recordsByKey,
	SyncInputError,
	toCheckedKey,
	type Base,
	type IndexedSystem,
	type CheckResult,
	type KeyCheck,
	type RecordData,
	type RecordSpec,
} from '../shared/engine';
import { errorItem, toNodeError, withNodeLevelErrors } from '../shared/errors';
import { baseSlot, readRecordSpec, systemList } from '../shared/parameters/read';
import { listRecords, lookupRecords } from '../shared/transport/records';
import { connectedSystems, requireSystems, type SystemConnection } from '../shared/transport/systems';
import { DEFAULT_RETRY, newStats, type TransportStats } from '../shared/transport/request';

/** Up to this many source keys, other systems are read by key; past it, page by page. */
const BY_KEY_LIMIT = 5000;

type BaseSource = 'staticData' | 'input' | 'none';

interface SourceRecords {
	records: unknown[];
	/** Input item each record came from, and its label for errors. */
	origin: number[];
	labels: string[];
}

/** Flattens the source items into records, reading an array field when one is named. */
function sourceRecords(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	recordsField: string,
): SourceRecords {
	const out: SourceRecords = { records: [], origin: [], labels: [] };
	items.forEach((item, i) => {
		if (!recordsField) {
			out.records.push(item.json);
			out.origin.push(i);
			out.labels.push(`item ${i}`);
			return;
		}
		const value = getPath(item.json, recordsField);
		if (!Array.isArray(value)) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Item ${i}: field "${recordsField}" must be an array of records, got ${value === undefined ? 'nothing' : typeof value}`,
				{ itemIndex: i, description: `Field: ${recordsField}` },
			);
		}
		value.forEach((record, r) => {
			out.records.push(record);
			out.origin.push(i);
			out.labels.push(`item ${i} ${recordsField}[${r}]`);
		});
	});
	return out;
}

/**
 * One system's current records: by these keys (the lookup endpoint), or all of them page by page.
 * A read that fails stops the node before anything is written, and says so.
 */
async function readSystem(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	keys: string[] | undefined,
	stats: TransportStats,
	advice: string,
): Promise<RecordData[]> {
	try {
		return keys
			? await lookupRecords(ctx, system, keys, DEFAULT_RETRY, stats, DEFAULT_CONCURRENCY)
			: await listRecords(ctx, system, DEFAULT_RETRY, stats);
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

/**
 * A payload is a message about the source system, and a message can be stale: re-sent, replayed
 * or overtaken by a later change. When the source system is connected too, its current state is
 * the truth: a valid payload record that differs from the system's current record (another
 * version or other data) is replaced by it, and one the system does not hold at all is dropped,
 * so an old or made-up payload cannot write old data over newer data. Records the first pass
 * refused are left as they are, to be reported.
 */
async function refreshFromSource(
	ctx: IExecuteFunctions,
	system: SystemConnection,
	src: SourceRecords,
	valid: IndexedSystem,
	spec: RecordSpec,
	stats: TransportStats,
): Promise<{ replaced: string[]; absent: string[] }> {
	const keys = valid.order;
	if (keys.length === 0) return { replaced: [], absent: [] };
	const current = await readSystem(
		ctx,
		system,
		keys.length <= BY_KEY_LIMIT ? keys : undefined,
		stats,
		'The source system is read to check that the payload is current; check it and its credential, then run the sync again.',
	);
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

function readBaseInput(ctx: IExecuteFunctions, items: INodeExecutionData[]): Base {
	const base: Base = { entries: new Map() };
	items.forEach(({ json }, i) => {
		if (json.v === 1 && typeof json.keys === 'object') {
			const stored = baseFromStored(json)!;
			for (const [k, e] of stored.entries) base.entries.set(k, e);
			base.watermark = stored.watermark ?? base.watermark;
			return;
		}
		if (json.watermark !== undefined && json.key === undefined) {
			base.watermark = parseTimestamp(json.watermark);
			return;
		}
		if (typeof json.key !== 'string' || typeof json.fingerprint !== 'string') {
			throw new NodeOperationError(
				ctx.getNode(),
				`Base item ${i} needs a string "key" and "fingerprint"`,
				{
					itemIndex: i,
					description: 'Field: key / fingerprint (Base input)',
				},
			);
		}
		const values = json.values;
		base.entries.set(
			json.key,
			values && typeof values === 'object' && !Array.isArray(values)
				? { fingerprint: json.fingerprint, values: values as Record<string, never> }
				: { fingerprint: json.fingerprint },
		);
	});
	return base;
}

/** What the key items need besides the check: who they are for and how to pair them. */
interface KeyItemContext {
	syncId: string;
	/** Source first, then the others, as checked. */
	systems: IndexedSystem[];
	spec: RecordSpec;
	ignored: ReadonlySet<string>;
	/** The input item each source record came from. */
	sourceOrigin: number[];
	overHttp: boolean;
	heldAmongCheckedKeys: Record<string, number>;
	emit: (check: KeyCheck) => boolean;
}

/** One item per key on the Conflicts or Changes output, each paired to the item it came from. */
function keyItems(
	result: CheckResult,
	ctx: KeyItemContext,
): { conflicts: INodeExecutionData[]; changes: INodeExecutionData[] } {
	const names = ctx.systems.map((s) => s.name);
	const ignoredList = [...ctx.ignored].sort();
	const conflicts: INodeExecutionData[] = [];
	const changes: INodeExecutionData[] = [];
	for (const check of result.keys) {
		if (!ctx.emit(check)) continue;
		const sourceRecord = check.records[names[0]];
		let pairedItem: IPairedItemData;
		if (sourceRecord) pairedItem = { item: ctx.sourceOrigin[sourceRecord.itemIndex] };
		else {
			// Over HTTP a record read from another system has no input item: the first source item.
			const n = ctx.systems.findIndex((s) => check.records[s.name]);
			pairedItem = ctx.overHttp
				? { item: 0 }
				: { item: check.records[names[n]]!.itemIndex, input: n };
		}
		const json = {
			...toCheckedKey(check, names, ignoredList, ctx.spec),
			heldAmongCheckedKeys: ctx.heldAmongCheckedKeys,
			syncId: ctx.syncId,
		} as unknown as IDataObject;
		(check.kind === 'conflict' ? conflicts : changes).push({ json, pairedItem });
	}
	return { conflicts, changes };
}

interface ReadSystems {
	systems: IndexedSystem[];
	errors: SyncInputError[];
}

/**
 * Connected mode: each other system read over HTTP, by the given keys (the lookup endpoint) or
 * whole, page by page. A read that fails stops the node before anything is written.
 */
async function readOthersOverHttp(
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
					keys,
					stats,
					'Check the system and its credential, then run the sync again.',
				),
		),
	);
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

/** Composed mode: each other system's records on its own input, read by any n8n node. */
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

interface LoadedBase {
	base?: Base;
	/** Where the base came from, in words, for the summary. */
	baseNote: string;
	/** Whether this run has a base to keep (Sync Validate commits to it). */
	keepsBase: boolean;
}

/**
 * The base for this run: the Base input, the workflow static data (production runs only: n8n
 * keeps it for nothing else), or none; bounded in size in static data.
 */
function loadBase(
	ctx: IExecuteFunctions,
	baseSource: BaseSource,
	baseInput: number,
	options: IDataObject,
): LoadedBase {
	const manual = ctx.getMode() === 'manual';
	const keepsBase = baseSource === 'input' || (baseSource === 'staticData' && !manual);
	const syncName =
		baseSource === 'staticData' ? String(ctx.getNodeParameter('syncName', 0, 'default')) : '';
	let base: Base | undefined;
	let baseNote = 'none';
	try {
		if (baseSource === 'input') {
			base = readBaseInput(ctx, ctx.getInputData(baseInput) ?? []);
			baseNote = `base input (${base.entries.size} keys)`;
		} else if (baseSource === 'staticData' && !manual) {
			base = baseFromStored(ctx.getWorkflowStaticData('global')[baseSlot(syncName)]);
			baseNote = base
				? `workflow static data "${syncName}" (${base.entries.size} keys)`
				: 'none yet (first sync)';
		} else if (baseSource === 'staticData') {
			baseNote =
				'none: manual run (n8n saves static data only for production runs of an active workflow)';
			ctx.addExecutionHints({
				message:
					'Manual run: n8n keeps workflow static data only for production runs of an active workflow, so this run has no base and every difference between systems counts as a conflict. Activate the workflow, or feed a base on a Base input.',
				location: 'outputPane',
			});
		}
	} catch (error) {
		throw new NodeOperationError(ctx.getNode(), `Base: ${(error as Error).message}`);
	}
	const maxBaseKeys = Number(options.maxBaseKeys ?? DEFAULT_MAX_BASE_KEYS);
	if (baseSource === 'staticData' && base && base.entries.size > maxBaseKeys) {
		throw new NodeOperationError(
			ctx.getNode(),
			`The base "${syncName}" holds ${base.entries.size} keys, over Max Base Keys (${maxBaseKeys})`,
			{
				description:
					'Keep the base in a real store (a database table) and feed it on the Base input instead.',
			},
		);
	}
	return { base, baseNote, keepsBase };
}

/** Whether the base lacks the state every system now agrees on. */
function baseIsStale(check: KeyCheck): boolean {
	const held = Object.values(check.records).find((r) => r !== undefined);
	const agreed = held ? held.fingerprint : DELETED_FINGERPRINT;
	return check.baseEntry?.fingerprint !== agreed;
}

async function check(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const source = String(this.getNodeParameter('sourceSystem', 0)).trim();
	const overHttp = this.getNodeParameter('systemsFrom', 0, 'inputs') === 'http';
	const othersField = overHttp ? 'httpSystems' : 'otherSystems';
	let others: string[];
	try {
		others = systemList(this.getNodeParameter(othersField, 0, ''), 'Other Systems');
	} catch (error) {
		throw new NodeOperationError(this.getNode(), (error as Error).message, {
			description: `Field: ${othersField}. Name each system once, as its credential's System Name does.`,
		});
	}
	const systemNames = [source, ...others];
	const spec: RecordSpec = readRecordSpec(this, 0);
	if (spec.keyFields.length === 0) {
		throw new NodeOperationError(
			this.getNode(),
			'Key Fields is empty: name the field that identifies a record',
		);
	}
	const duplicate = systemNames.find((n, i) => systemNames.indexOf(n) !== i);
	if (duplicate || !source) {
		throw new NodeOperationError(
			this.getNode(),
			`System names must be unique and non-empty: "${duplicate ?? ''}" repeats`,
		);
	}
	const baseSource = this.getNodeParameter('baseSource', 0) as BaseSource;
	const recordsField = String(this.getNodeParameter('recordsField', 0, '')).trim();
	const sourceItems = this.getInputData(0);
	const src = sourceRecords(this, sourceItems, recordsField);
	const stats = newStats();
	const reachable = overHttp ? await connectedSystems(this) : undefined;
	// Over HTTP every system of the sync must be one this node reaches: an unknown or malformed
	// source name stops here, before anything is read or written.
	const sourceSystem = reachable
		? requireSystems(this, reachable, [source], 'Source System')[0]
		: undefined;

	const errors: SyncInputError[] = [];
	const systems: IndexedSystem[] = [];
	const indexSource = () =>
		indexRecords(src.records, spec, { system: source, label: (i) => src.labels[i] });
	let indexed = indexSource();
	let fromSource = { replaced: [] as string[], absent: [] as string[] };
	if (sourceSystem && options.verifySource !== false) {
		fromSource = await refreshFromSource(this, sourceSystem, src, indexed.system, spec, stats);
		if (fromSource.replaced.length || fromSource.absent.length) indexed = indexSource();
		if (fromSource.replaced.length || fromSource.absent.length) {
			this.addExecutionHints({
				message: `The payload did not match what ${source} holds now: ${fromSource.replaced.length} record(s) replaced by ${source}'s current ones, ${fromSource.absent.length} it does not hold left out (e.g. ${[...fromSource.replaced, ...fromSource.absent].slice(0, 3).join(', ')}).`,
				location: 'outputPane',
			});
		}
	}
	// Errors name the record; their item index is the n8n item it arrived in.
	errors.push(
		...indexed.errors.map(
			(e) => new SyncInputError(e.message, src.origin[e.itemIndex], e.field, e.system, 0, e.key),
		),
	);
	systems.push(indexed.system);
	const scope = this.getNodeParameter('scope', 0, 'source') as 'source' | 'all';
	const readBy = overHttp ? (this.getNodeParameter('readBy', 0, 'auto') as string) : 'page';
	// By key, the other systems are asked for the source's keys only: what else they hold is unknown.
	const byKey =
		overHttp &&
		scope === 'source' &&
		(readBy === 'key' || (readBy === 'auto' && indexed.system.order.length <= BY_KEY_LIMIT));
	const read = overHttp
		? await readOthersOverHttp(
				this,
				requireSystems(this, reachable!, others, 'Other Systems'),
				byKey ? indexed.system.order : undefined,
				spec,
				stats,
			)
		: readOthersFromInputs(this, others, spec);
	errors.push(...read.errors);
	systems.push(...read.systems);

	if (errors.length > 0 && !this.continueOnFail())
		throw toNodeError(this, errors[0], errors.length - 1);
	// An all-or-nothing input (a webhook payload): one bad record rejects every record in it.
	if (errors.length > 0 && options.rejectAll) return [errors.map(errorItem), [], []];
	// A key with a rejected record anywhere is held back: checking it without that record
	// would read the system as missing and overwrite it.
	const rejectedKeys = new Set(
		errors.map((e) => e.key).filter((k): k is string => k !== undefined),
	);
	for (const key of rejectedKeys) for (const s of systems) s.records.delete(key);
	for (const s of systems) if (rejectedKeys.size) s.order = s.order.filter((k) => s.records.has(k));

	const baseInput = overHttp ? 1 : others.length + 1;
	const { base, baseNote, keepsBase } = loadBase(this, baseSource, baseInput, options);

	let watermark: number | undefined;
	try {
		watermark = parseTimestamp(options.watermark || undefined);
	} catch (error) {
		throw new NodeOperationError(
			this.getNode(),
			`Option "Last Sync Watermark": ${(error as Error).message}`,
		);
	}
	const ignored = ignoredFields(spec);
	const result = checkConflicts({
		systems,
		base,
		watermark,
		scope,
		ignored,
		missingMeansDeleted: Boolean(options.missingMeansDeleted),
	});

	const syncId = String(options.syncId || '') || newSyncId();
	// Live records each system holds among the checked keys (not all it holds): the measure of
	// the mass-delete guard.
	const heldAmongCheckedKeys = Object.fromEntries(
		systemNames.map((name) => {
			const s = result.counts.states[name];
			return [name, s.unchanged + s.changed + s.created];
		}),
	);
	const { conflicts, changes } = keyItems(result, {
		syncId,
		systems,
		spec,
		ignored,
		sourceOrigin: src.origin,
		overHttp,
		heldAmongCheckedKeys,
		// A key every system agrees on still goes on when the base does not know that state yet
		// (the first sync, or a base another run lost), so Sync Validate can commit it.
		emit: (check) =>
			check.kind !== 'in_sync' ||
			Boolean(options.includeInSync) ||
			(keepsBase && baseIsStale(check)),
	});
	const summary: INodeExecutionData = {
		json: {
			syncId,
			sourceSystem: source,
			systems: systemNames,
			keyFields: spec.keyFields,
			scope,
			base: baseNote,
			watermark:
				watermark !== undefined
					? new Date(watermark).toISOString()
					: base?.watermark !== undefined
						? new Date(base.watermark).toISOString()
						: null,
			counts: { ...result.counts, rejected: errors.length } as unknown as IDataObject,
			heldAmongCheckedKeys,
			notChecked: byKey
				? {
						count: null,
						note: 'not known: the other systems were read by the source keys only (Read Records: By Key)',
					}
				: { ...result.notChecked },
			durationMs: Date.now() - started,
			...(overHttp ? { transport: { ...stats } } : {}),
			...(sourceSystem && options.verifySource !== false
				? {
						staleSourceRecords: {
							count: fromSource.replaced.length,
							keys: fromSource.replaced.slice(0, 50),
						},
						notAtSource: {
							count: fromSource.absent.length,
							keys: fromSource.absent.slice(0, 50),
						},
					}
				: {}),
			checkedAt: new Date(started).toISOString(),
		},
		pairedItem: sourceItems.map((_, item) => ({ item })),
	};
	if (!byKey && result.notChecked.count > 0) {
		this.addExecutionHints({
			message: `${result.notChecked.count} key(s) that only other systems hold were not checked (e.g. ${result.notChecked.sample.slice(0, 3).join(', ')}): set Keys to Check to Every Key on Any System to bring them over.`,
			location: 'outputPane',
		});
	}
	conflicts.push(...errors.map(errorItem));
	return [conflicts, changes, [summary]];
}

export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	return await withNodeLevelErrors(this, check, 3);
}
