import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeProperties,
} from 'n8n-workflow';

import {
	DEFAULT_CONCURRENCY,
	recordSpecProperties,
	REPORT_LIST_CAP,
} from '../../shared/parameters/descriptions';
import {
	differingFields,
	fingerprint,
	ignoredFields,
	isTombstone,
	recordKey,
	type RecordData,
} from '../../shared/engine';
import { readRecordSpec } from '../../shared/parameters/read';
import {
	diffByRanges,
	NoChecksumsError,
	type RangeDiffStats,
} from '../../shared/transport/checksums';
import { listRecords } from '../../shared/transport/records';
import { connectedSystems } from '../../shared/transport/systems';
import { newStats, retryPolicyFrom, TransportError } from '../../shared/transport/request';

const allRecordsOnly = { show: { scope: ['allRecords'] } };

/** This mode's parameters: what it compares, and how records are read. */
export const description: INodeProperties[] = [
	{
		displayName:
			'Runs once per execution, whatever arrives on the input (a schedule, a webhook, the end of a sync). Compares every live record of every connected system by key; deleted and absent count as the same. Systems without a Range Checksum Path are read in full.',
		name: 'allRecordsNotice',
		type: 'notice',
		default: '',
		displayOptions: allRecordsOnly,
	},
	...recordSpecProperties.map((p) => ({ ...p, displayOptions: allRecordsOnly })),
];

interface Difference {
	key: string;
	kind: 'missing' | 'differing';
	/** missing: the systems without a live record; differing: those that differ from the first. */
	systems: string[];
	fields?: string[];
}

const KEYS_CAP = 1000;

/**
 * Validate > Every Record on Every System: one report on whether every connected system holds
 * the same live records, found by range checksums (see rangeDiff.ts) or, for systems without
 * them, by reading everything.
 */
export async function execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const started = Date.now();
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	const spec = readRecordSpec(this, 0);
	if (spec.keyFields.length === 0) {
		throw new NodeOperationError(this.getNode(), 'Key Fields is empty', {
			description: 'Field: Key Fields. Name the field that identifies a record on every system.',
		});
	}
	const ignored = ignoredFields(spec);
	const policy = retryPolicyFrom(options);
	const concurrency = Number(options.concurrency ?? DEFAULT_CONCURRENCY);
	const systems = [...(await connectedSystems(this)).values()];
	if (systems.length < 2) {
		throw new NodeOperationError(this.getNode(), 'Comparing systems needs at least two', {
			description: 'Field: Connected Systems. Attach a credential for every system to compare.',
		});
	}
	const transport = newStats();

	let method: 'rangeChecksums' | 'fullRead' = 'rangeChecksums';
	let fallback: string | undefined;
	let ranges: RangeDiffStats | undefined;
	let records = new Map<string, RecordData[]>();
	const unreadable: string[] = [];
	try {
		const diff = await diffByRanges(
			this,
			systems,
			{
				segments: Number(options.segments ?? 16),
				leafSize: Number(options.leafSize ?? 64),
				concurrency,
			},
			policy,
			transport,
		);
		records = diff.records;
		ranges = diff.stats;
	} catch (error) {
		if (error instanceof NoChecksumsError) {
			method = 'fullRead';
			fallback = error.message;
		} else if (error instanceof TransportError) unreadable.push(error.message);
		else throw new NodeOperationError(this.getNode(), error as Error);
	}
	if (method === 'fullRead') {
		await Promise.all(
			systems.map(async (s) => {
				try {
					records.set(s.name, await listRecords(this, s, policy, transport));
				} catch (error) {
					if (!(error instanceof TransportError))
						throw new NodeOperationError(this.getNode(), error as Error);
					unreadable.push(error.message);
				}
			}),
		);
	}

	// Key by key across the records read: live on every system, with the same fingerprint.
	const byKey = new Map<string, Map<string, RecordData>>();
	let unkeyed = 0;
	for (const [system, list] of records) {
		for (const record of list) {
			if (spec.tombstoneField && isTombstone(record[spec.tombstoneField])) continue;
			const key = recordKey(record, spec.keyFields);
			if (typeof key !== 'string') {
				unkeyed++;
				continue;
			}
			let held = byKey.get(key);
			if (!held) byKey.set(key, (held = new Map()));
			held.set(system, record);
		}
	}
	const differences: Difference[] = [];
	if (unreadable.length === 0) {
		for (const [key, held] of byKey) {
			const absent = systems.filter((s) => !held.has(s.name)).map((s) => s.name);
			if (absent.length) {
				differences.push({ key, kind: 'missing', systems: absent });
				continue;
			}
			const [first, ...rest] = systems.map((s) => held.get(s.name)!);
			const want = fingerprint(first, ignored);
			const fields = new Set<string>();
			const differ: string[] = [];
			rest.forEach((record, i) => {
				if (fingerprint(record, ignored) === want) return;
				differ.push(systems[i + 1].name);
				for (const f of differingFields(record, first, ignored)) fields.add(f);
			});
			if (differ.length)
				differences.push({ key, kind: 'differing', systems: differ, fields: [...fields].sort() });
		}
	}
	differences.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

	const missing = differences.filter((d) => d.kind === 'missing').length;
	const differing = differences.length - missing;
	const status = unreadable.length || differences.length ? 'failed' : 'passed';
	const reasons = unreadable.map((u) => `could not read: ${u}`);
	if (missing) reasons.push(`${missing} key(s) live on some systems and not on others`);
	if (differing) reasons.push(`${differing} key(s) hold different data on different systems`);
	if (unkeyed) reasons.push(`${unkeyed} record(s) without a value in ${spec.keyFields.join(', ')}`);
	const recordsPerSystem =
		ranges?.recordsPerSystem ??
		Object.fromEntries([...records].map(([s, list]) => [s, list.length]));
	const recordsRead = [...records.values()].reduce((n, l) => n + l.length, 0);
	const finished = Date.now();
	const report: IDataObject = {
		validation: 'allRecords',
		method,
		...(fallback ? { methodNote: `read in full: ${fallback}` } : {}),
		systems: systems.map((s) => s.name),
		status,
		reasons,
		counts: {
			recordsPerSystem,
			/** Keys read record by record (the rest were proved equal by checksums). */
			keysRead: byKey.size,
			differences: differences.length,
			missing,
			differing,
		},
		transfer: {
			...(ranges
				? {
						levels: ranges.levels,
						checksumRequests: ranges.checksumRequests,
						rangesCompared: ranges.rangesCompared,
						rangesRead: ranges.rangesRead,
						bytesReceived: ranges.bytesReceived,
					}
				: {}),
			recordsRead,
			requests: transport.requests,
			retries: transport.retries,
		},
		differences: differences.slice(0, REPORT_LIST_CAP) as unknown as IDataObject[],
		differingKeys: differences.slice(0, KEYS_CAP).map((d) => d.key),
		durations: { validateMs: finished - started },
		validatedAt: new Date(finished).toISOString(),
		validation_status: status,
		records_processed: Math.max(0, ...Object.values(recordsPerSystem)),
		timestamp: new Date(finished).toISOString(),
	};
	const input = this.getInputData(0) ?? [];
	return [
		[{ json: report, pairedItem: input.length ? input.map((_, item) => ({ item })) : undefined }],
		[],
	];
}
