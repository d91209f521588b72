import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import {
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_BASE_KEYS,
	recordSpecNotice,
	REPORT_LIST_CAP,
} from '../../shared/parameters/descriptions';
import {
	advanceBase,
	baseEntryFor,
	differingFields,
	DELETED_FINGERPRINT,
	fingerprint,
	isTombstone,
	recordsByKey,
	type BaseEntry,
	type RecordData,
} from '../../shared/engine';
import { baseSlot, splitList } from '../../shared/parameters/read';
import { lookupRecords } from '../../shared/transport/records';
import { connectedSystems, requireSystems } from '../../shared/transport/systems';
import { newStats, retryPolicyFrom, TransportError } from '../../shared/transport/request';

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

interface KeyResult {
	key: string;
	keyFields: string[];
	tombstoneField?: string;
	expected: RecordData | null;
	expectedFingerprint: string;
	systems: string[];
	ignored: Set<string>;
	outcomes: Record<string, string>;
	items: number[];
}

interface Finding {
	key: string;
	system: string;
	fields?: string[];
}

const cap = <T>(list: T[]) => list.slice(0, REPORT_LIST_CAP);

/** Validate > The Keys This Sync Wrote: read them back, commit the base for those that agree, report. */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const results = this.getInputData(0) ?? [];
	const summaryItems = this.getInputData(1) ?? [];
	const summary = (summaryItems[0]?.json ?? {}) as IDataObject;
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;

	// One entry per key, from the per-system results of Multi Target Sync.
	const keys = new Map<string, KeyResult>();
	const failures: Array<{ key: string; system: string; reason: string }> = [];
	const requeued: Finding[] = [];
	const sync = { written: 0, unchanged: 0, skipped: 0, failed: 0, conflicts: 0, planned: 0 };
	const strategies: Record<string, number> = {};
	// How each conflict was resolved, for the sync log: nothing is overwritten unrecorded.
	const resolutions: IDataObject[] = [];
	let meta: IDataObject = {};
	results.forEach(({ json }, i) => {
		if (
			typeof json.key !== 'string' ||
			typeof json.system !== 'string' ||
			typeof json.expectedFingerprint !== 'string'
		) {
			throw new NodeOperationError(this.getNode(), `Item ${i} is not a Multi Target Sync result`, {
				itemIndex: i,
				description:
					'Field: key / system / expectedFingerprint. Connect the Results output of Multi Target Sync.',
			});
		}
		meta = Object.keys(meta).length ? meta : json;
		let entry = keys.get(json.key);
		if (!entry) {
			entry = {
				key: json.key,
				expected: (json.expected ?? null) as RecordData | null,
				expectedFingerprint: json.expectedFingerprint,
				keyFields: (json.keyFields as string[] | undefined) ?? ['id'],
				tombstoneField: json.tombstoneField as string | undefined,
				systems: (json.systems as string[]) ?? [],
				ignored: new Set((json.ignoredFields as string[]) ?? []),
				outcomes: {},
				items: [],
			};
			keys.set(json.key, entry);
			const strategy = String(json.strategy ?? 'unknown');
			if (json.audit && strategy !== 'cleanChange')
				resolutions.push({ key: json.key, ...(json.audit as IDataObject) });
			strategies[strategy] = (strategies[strategy] ?? 0) + 1;
		}
		entry.items.push(i);
		const outcome = String(json.outcome);
		entry.outcomes[json.system] = outcome;
		if (outcome === 'written') sync.written++;
		else if (outcome === 'unchanged') sync.unchanged++;
		else if (outcome === 'skipped') sync.skipped++;
		// Plan-only writes, done by other nodes; a dry run's plan is not a write.
		else if (outcome === 'planned' && json.dryRun !== true) sync.planned++;
		else if (outcome === 'failed') {
			sync.failed++;
			failures.push({
				key: json.key,
				system: json.system,
				reason: String(json.reason ?? 'failed'),
			});
		} else if (outcome === 'conflict') {
			sync.conflicts++;
			requeued.push({ key: json.key, system: json.system });
		}
	});
	const phase = (meta.syncPhase ?? {}) as IDataObject;

	// Read every system back for the synced keys.
	const systemNames = [...new Set([...keys.values()].flatMap((k) => k.systems))];
	const policy = retryPolicyFrom(options);
	const stats = newStats();
	const actual = new Map<string, Map<string, RecordData>>();
	const unreadable: Array<{ system: string; reason: string }> = [];
	const composed = this.getNodeParameter('readBackFrom', 0, 'http') === 'inputs';
	if (keys.size > 0 && composed) {
		// Each system's records, read back by other n8n nodes after the writes, on its own input.
		const { keyFields } = keys.values().next().value!;
		splitList(this.getNodeParameter('readBackSystems', 0, '')).forEach((name, n) => {
			const items = this.getInputData(n + 2) ?? [];
			actual.set(
				name,
				recordsByKey(
					items.map(({ json }) => json as RecordData),
					keyFields,
				),
			);
		});
		for (const name of systemNames) {
			if (!actual.has(name))
				unreadable.push({ system: name, reason: 'no read-back input names it' });
		}
	} else if (keys.size > 0) {
		const connections = requireSystems(this, await connectedSystems(this), systemNames, 'systems');
		const keyList = [...keys.keys()];
		const { keyFields } = keys.values().next().value!;
		await Promise.all(
			connections.map(async (system) => {
				try {
					const read = await lookupRecords(
						this,
						system,
						keyList,
						policy,
						stats,
						Number(options.concurrency ?? DEFAULT_CONCURRENCY),
					);
					actual.set(system.name, recordsByKey(read, keyFields));
				} catch (error) {
					if (!(error instanceof TransportError))
						throw new NodeOperationError(this.getNode(), error as Error);
					unreadable.push({ system: system.name, reason: error.message });
				}
			}),
		);
	}

	// A key passes when every system holds exactly the resolved data (or, for a delete, nothing live).
	const missing: Finding[] = [];
	const extra: Finding[] = [];
	const differing: Finding[] = [];
	const passedKeys: KeyResult[] = [];
	for (const k of keys.values()) {
		let ok = true;
		for (const system of k.systems) {
			const held = actual.get(system);
			if (!held) {
				ok = false;
				continue;
			}
			const record = held.get(k.key);
			const live =
				record !== undefined && !(k.tombstoneField && isTombstone(record[k.tombstoneField]));
			if (k.expectedFingerprint === DELETED_FINGERPRINT) {
				if (live) {
					ok = false;
					extra.push({ key: k.key, system });
				}
			} else if (!live) {
				ok = false;
				missing.push({ key: k.key, system });
			} else if (fingerprint(record, k.ignored) !== k.expectedFingerprint) {
				ok = false;
				differing.push({
					key: k.key,
					system,
					fields: differingFields(record, k.expected ?? {}, k.ignored),
				});
			}
		}
		if (ok) passedKeys.push(k);
	}

	// Validation is the commit point: only keys that validated advance the base.
	const keepValues = options.keepValues !== false;
	const validated = new Map<string, BaseEntry>();
	for (const k of passedKeys)
		validated.set(k.key, baseEntryFor(k.expected, k.expectedFingerprint, k.ignored, keepValues));
	const baseTarget = this.getNodeParameter('baseTarget', 0) as 'staticData' | 'output';
	let baseNote = 'not committed: Base Updates output only';
	if (baseTarget === 'staticData') {
		const syncName = String(this.getNodeParameter('syncName', 0, 'default'));
		if (this.getMode() === 'manual') {
			baseNote =
				'not saved: manual run (n8n saves static data only for production runs of an active workflow)';
			this.addExecutionHints({
				message:
					'Manual run: the base was not saved, since n8n keeps workflow static data only for production runs of an active workflow.',
				location: 'outputPane',
			});
		} else if (validated.size > 0) {
			const staticData = this.getWorkflowStaticData('global');
			const slot = baseSlot(syncName);
			const maxKeys = Number(options.maxBaseKeys ?? DEFAULT_MAX_BASE_KEYS);
			let stored;
			try {
				stored = advanceBase(staticData[slot], validated, started, maxKeys);
			} catch (error) {
				throw new NodeOperationError(
					this.getNode(),
					`Base "${syncName}": ${(error as Error).message}`,
					{
						description:
							'Commit the base to a real store instead: set Commit Base To "Base Updates Output Only".',
					},
				);
			}
			staticData[slot] = stored as unknown as IDataObject;
			baseNote = `workflow static data "${syncName}" (${Object.keys(stored.keys).length} keys)`;
		} else baseNote = 'unchanged: no key validated';
	}

	const failedKeys = keys.size - passedKeys.length;
	const status =
		unreadable.length || failedKeys > 0 ? 'failed' : keys.size === 0 ? 'nothing_to_sync' : 'passed';
	const reasons: string[] = [];
	for (const u of unreadable) reasons.push(`could not read ${u.system}: ${u.reason}`);
	if (missing.length) reasons.push(`${missing.length} record(s) missing where they should exist`);
	if (extra.length) reasons.push(`${extra.length} record(s) still live where they were deleted`);
	if (differing.length) reasons.push(`${differing.length} record(s) differ from the resolution`);
	if (failures.length) reasons.push(`${failures.length} write(s) failed after retries`);
	if (requeued.length)
		reasons.push(`${requeued.length} write(s) refused: the system changed after the check`);

	const checkCounts = (summary.counts ?? {}) as IDataObject;
	const conflictsDetected = Number(checkCounts.conflicts ?? 0);
	const conflictsResolved = Object.entries(strategies)
		.filter(([s]) => s !== 'cleanChange' && s !== 'unknown')
		.reduce((n, [, c]) => n + c, 0);
	const keysChecked = Number(checkCounts.keys ?? keys.size);
	const finished = Date.now();
	const insights: string[] = [];
	if (keysChecked > 0)
		insights.push(
			`conflict rate ${((100 * conflictsDetected) / keysChecked).toFixed(1)}% (${conflictsDetected} of ${keysChecked} keys)`,
		);
	if (failures.length) {
		const bySystem = [...new Set(failures.map((f) => f.system))];
		insights.push(
			`writes failed on ${bySystem.join(', ')}: check that system, then send the same sync again (idempotency keys make the re-run safe)`,
		);
	}
	if (requeued.length)
		insights.push(
			'some systems changed during the sync: their keys are on the Conflicts output; send the sync again to resolve them',
		);
	if (conflictsDetected > conflictsResolved) {
		insights.push(
			`${conflictsDetected - conflictsResolved} conflict(s) were not resolved automatically (manual review or errors)`,
		);
	}

	const sourceSystem = (meta.sourceSystem ?? summary.sourceSystem ?? null) as string | null;
	const targets = (meta.targets ?? []) as string[];
	const syncType = (meta.syncType ?? null) as string | null;
	const syncId = (meta.syncId ?? summary.syncId ?? null) as string | null;
	const report: IDataObject = {
		syncId,
		syncType,
		sourceSystem,
		targetSystems: targets,
		systems: systemNames.length ? systemNames : ((summary.systems ?? []) as string[]),
		status,
		reasons,
		insights,
		counts: {
			check: checkCounts,
			resolve: { conflictsResolved, byStrategy: strategies },
			sync: sync,
			validate: {
				keys: keys.size,
				passed: passedKeys.length,
				failed: failedKeys,
				missing: missing.length,
				extra: extra.length,
				differing: differing.length,
			},
		},
		durations: {
			checkMs: (summary.durationMs as number | undefined) ?? null,
			syncMs: (phase.durationMs as number | undefined) ?? null,
			validateMs: finished - started,
		},
		transport: { sync: (phase.transport ?? null) as IDataObject | null, validate: { ...stats } },
		missing: cap(missing) as unknown as IDataObject[],
		extra: cap(extra) as unknown as IDataObject[],
		differing: cap(differing) as unknown as IDataObject[],
		failures: cap(failures),
		conflictsRequeued: cap(requeued) as unknown as IDataObject[],
		// Every resolution, uncapped: this is the audit the sync log keeps, and a conflict resolved
		// without an entry here would be an overwrite nobody can trace.
		resolutions,
		base: baseNote,
		validatedAt: new Date(finished).toISOString(),
		// Flat fields, as the Day 66 log and report use them.
		sync_id: syncId,
		sync_type: syncType,
		source_system: sourceSystem,
		target_systems: targets,
		records_processed: keysChecked,
		conflicts_detected: conflictsDetected,
		conflicts_resolved: conflictsResolved,
		records_written: sync.written + sync.planned,
		failed_writes: sync.failed,
		validation_status: status,
		timestamp: new Date(finished).toISOString(),
	};
	const pairedAll = results.map((_, item) => ({ item }));
	const baseUpdates: INodeExecutionData[] = passedKeys.map((k) => {
		const entry = validated.get(k.key)!;
		return {
			json: {
				key: k.key,
				fingerprint: entry.fingerprint,
				...(entry.values ? { values: entry.values } : {}),
				syncedAt: new Date(started).toISOString(),
				syncId,
			},
			pairedItem: k.items.map((item) => ({ item })),
		};
	});
	return [
		[
			{
				json: report,
				pairedItem: pairedAll.length
					? pairedAll
					: summaryItems.map((_, item) => ({ item, input: 1 })),
			},
		],
		baseUpdates,
	];
}
