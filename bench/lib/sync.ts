/**
 * Demo-system plumbing for the I/O benchmarks: seeding, reading back, and building the items
 * Conflict Resolve would hand to Multi Target Sync, with the package's own engine functions
 * (indexRecords -> checkConflicts -> toCheckedKey -> resolveKey), so they have the exact shape.
 */
import type { IDataObject } from 'n8n-workflow';

import {
	checkConflicts,
	ignoredFields,
	indexRecords,
	resolveKey,
	toCheckedKey,
	type RecordSpec,
} from '../../nodes/shared/engine/index.ts';
import type { RunningSystem } from '../../test/systems/helpers.ts';
import type { Rec } from './data.ts';

export const SPEC: RecordSpec = {
	keyFields: ['id'],
	updatedAtField: 'updated_at',
	versionField: 'version',
	tombstoneField: '_deleted',
};

export async function admin(system: RunningSystem, p: string, body?: unknown): Promise<unknown> {
	const res = await fetch(`${system.url}${p}`, {
		method: body === undefined ? 'GET' : 'POST',
		headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`${system.name} ${p}: ${res.status} ${text.slice(0, 200)}`);
	return JSON.parse(text) as unknown;
}

/** Wipes the system (records, idempotency keys, counters) and seeds these records. */
export async function reseed(system: RunningSystem, records: Rec[]): Promise<void> {
	await admin(system, '/_admin/reset', {});
	for (let i = 0; i < records.length; i += 2000)
		await admin(system, '/_admin/seed', { records: records.slice(i, i + 2000) });
}

/** Every record of a system (tombstones included), page by page, with its own auth. */
export async function readAll(system: RunningSystem): Promise<Rec[]> {
	const out: Rec[] = [];
	let cursor: string | null = null;
	do {
		const qs: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
		const res = await fetch(`${system.url}/records?${qs}`, { headers: system.headers });
		const body = (await res.json()) as { data: Rec[]; next_cursor: string | null };
		out.push(...body.data);
		cursor = body.next_cursor;
	} while (cursor);
	return out;
}

export interface StatsLike {
	requests: number;
	applied_writes: number;
}
export const stats = (s: RunningSystem) => admin(s, '/_admin/stats') as Promise<StatsLike>;

/**
 * What Conflict Resolve outputs for these systems' records (the first is the source): one item
 * per source key, checked against a watermark, resolved by last writer wins.
 */
export function resolvedItems(
	bySystem: Record<string, Rec[]>,
	watermark: number | undefined,
	syncId = 'bench-sync',
): IDataObject[] {
	const names = Object.keys(bySystem);
	const ignored = ignoredFields(SPEC);
	const systems = names.map((name) => {
		const r = indexRecords(bySystem[name], SPEC, { system: name });
		if (r.errors.length) throw new Error(`${name}: ${r.errors[0].message}`);
		return r.system;
	});
	const result = checkConflicts({ systems, watermark, scope: 'source', ignored });
	const ignoredList = [...ignored].sort();
	return result.keys.map((check) => {
		const checked = toCheckedKey(check, names, ignoredList, SPEC);
		const r = resolveKey(checked, {
			strategy: 'lastWriterWins',
			secondary: 'lastWriterWins',
			priority: [],
			fieldRules: {},
		});
		if (r.review) throw new Error('unexpected review');
		return {
			syncId,
			...checked,
			resolved: r.record,
			resolvedDeleted: r.deleted,
			audit: r.audit,
		} as unknown as IDataObject;
	});
}

/** Runs tasks with at most `limit` in flight (the same scheduling as the nodes' transport). */
export async function mapLimit<T, R>(
	items: T[],
	limit: number,
	task: (item: T) => Promise<R>,
): Promise<R[]> {
	const results = new Array<R>(items.length);
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const i = next++;
			results[i] = await task(items[i]);
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
	return results;
}
