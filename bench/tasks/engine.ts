/**
 * Part 2, one measurement (one fresh process per size): the engine alone (nodes/shared/engine,
 * no n8n) on three systems and a base: indexRecords for each system, then checkConflicts.
 *
 * The input records and the base are built first (not timed); RSS is read after they exist,
 * so `peak - before` is what indexing and checking add on top of the data they read.
 */
import {
	baseEntryFor,
	checkConflicts,
	fingerprint,
	ignoredFields,
	indexRecords,
	type Base,
	type IndexedSystem,
	type Json,
	type RecordSpec,
} from '../../nodes/shared/engine/index.ts';
import { tripleDataset, TRIPLE_SHARES, WATERMARK_MS } from '../lib/data.ts';
import { gc, heapMb, log, maxRssMb, now, profiled, rssMb } from '../lib/measure.ts';

export const SPEC: RecordSpec = {
	keyFields: ['id'],
	updatedAtField: 'updated_at',
	versionField: 'version',
	tombstoneField: '_deleted',
};

/**
 * The base a validated sync of these records would have left: each key's fingerprint and compared
 * values. The values are the records' own primitives (what baseEntryFor's toJson gives for them,
 * checked on the first records), built directly because toJson per field dominates generating
 * a million entries.
 */
export function buildBase(
	records: Array<Record<string, unknown>>,
	ignored: ReadonlySet<string>,
): Base {
	const entries = new Map<string, ReturnType<typeof baseEntryFor>>();
	for (let i = 0; i < records.length; i++) {
		const r = records[i];
		const fp = fingerprint(r, ignored);
		const values: Record<string, Json> = {};
		for (const f in r) if (!ignored.has(f)) values[f] = r[f] as Json;
		const entry = { fingerprint: fp, values };
		if (i < 100 && JSON.stringify(entry) !== JSON.stringify(baseEntryFor(r, fp, ignored, true)))
			throw new Error(`bench base entry differs from baseEntryFor for ${String(r.id)}`);
		entries.set(String(r.id), entry);
	}
	return { entries, watermark: WATERMARK_MS };
}

export async function run(args: { size: number }) {
	const t0 = now();
	const data = tripleDataset(args.size);
	const ignored = ignoredFields(SPEC);
	const base = buildBase(data.baseRecords, ignored);
	(data as { baseRecords?: unknown }).baseRecords = undefined;
	const genMs = now() - t0;
	gc();
	const rssBefore = rssMb();
	const heapBefore = heapMb();
	log(
		`engine ${args.size}: data ready in ${(genMs / 1000).toFixed(1)} s, RSS ${rssBefore.toFixed(0)} MB`,
	);

	const cpu0 = process.cpuUsage();
	const { value, profile } = await profiled(`engine-${args.size}`, async () => {
		const indexMs: Record<string, number> = {};
		const systems: IndexedSystem[] = [];
		let errors = 0;
		const tIndex = now();
		for (const [name, records] of Object.entries(data.systems)) {
			const t = now();
			const r = indexRecords(records, SPEC, { system: name });
			indexMs[name] = now() - t;
			errors += r.errors.length;
			systems.push(r.system);
		}
		const indexTotalMs = now() - tIndex;
		const tCheck = now();
		// As Conflict Check calls it by default (Emit In-Sync Keys off): keys in sync with the base
		// are counted, not kept.
		const result = checkConflicts({ systems, base, scope: 'source', ignored, keepInSync: false });
		const checkMs = now() - tCheck;
		return {
			indexMs,
			indexTotalMs,
			checkMs,
			errors,
			counts: result.counts,
			keys: result.keys.length,
		};
	});
	const cpu = process.cpuUsage(cpu0);
	const cpuMs = (cpu.user + cpu.system) / 1000;
	const peak = maxRssMb();
	const c = data.counts;
	// With base values, edits of two systems on different fields merge into a clean change
	// (engine since 7ea4acd): only same-field edits are conflicts.
	const disjoint = c.conflicting - c.conflictingSameField;
	const expected = {
		keys: c.keys + c.created,
		conflicts: c.conflictingSameField,
		changes: c.changed + disjoint + c.created + c.deleted,
		inSync: c.keys - c.changed - c.conflicting - c.deleted,
	};
	const got = value.counts;
	const asExpected =
		value.errors === 0 &&
		got.keys === expected.keys &&
		got.conflicts === expected.conflicts &&
		got.changes === expected.changes &&
		got.inSync === expected.inSync;
	const totalMs = value.indexTotalMs + value.checkMs;
	log(
		`engine ${args.size}: index ${value.indexTotalMs.toFixed(0)} ms + check ${value.checkMs.toFixed(0)} ms, peak RSS ${peak.toFixed(0)} MB`,
	);
	return {
		size: args.size,
		shares: TRIPLE_SHARES,
		records: Object.fromEntries(Object.entries(data.systems).map(([n, r]) => [n, r.length])),
		baseKeys: base.entries.size,
		generateMs: genMs,
		indexMs: value.indexMs,
		indexTotalMs: value.indexTotalMs,
		checkMs: value.checkMs,
		totalMs,
		cpuMs,
		rssBeforeMb: rssBefore,
		heapBeforeMb: heapBefore,
		peakRssMb: peak,
		peakOverBeforeMb: peak - rssBefore,
		counts: { keys: got.keys, conflicts: got.conflicts, changes: got.changes, inSync: got.inSync },
		expected,
		asExpected,
		...(profile ? { profile } : {}),
	};
}
