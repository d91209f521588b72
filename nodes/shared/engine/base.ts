import { DELETED_FINGERPRINT, type Json, type RecordData, toJson } from './canonical';

/** A key as it was at the last validated sync. */
export interface BaseEntry {
	fingerprint: string;
	/** Compared fields' values, kept for field-level merge; absent when only fingerprints are kept. */
	values?: Record<string, Json>;
}

/** The sync's memory: every key as of the last validated sync, and when that was. */
export interface Base {
	entries: Map<string, BaseEntry>;
	/** Epoch ms of the last validated sync. */
	watermark?: number;
}

/** How a base is kept in workflow static data: plain JSON, compact. */
export interface StoredBase {
	v: 1;
	watermark?: number;
	keys: Record<string, { f: string; v?: Record<string, Json> }>;
}

export class BaseError extends Error {}

export function emptyBase(): Base {
	return { entries: new Map() };
}

export function baseFromStored(stored: unknown): Base | undefined {
	if (stored === undefined || stored === null) return undefined;
	const s = stored as StoredBase;
	if (typeof s !== 'object' || s.v !== 1 || typeof s.keys !== 'object' || s.keys === null) {
		throw new BaseError(
			'the stored base is not in a format this version understands (expected v: 1)',
		);
	}
	const entries = new Map<string, BaseEntry>();
	for (const key of Object.keys(s.keys)) {
		const e = s.keys[key];
		entries.set(key, e.v ? { fingerprint: e.f, values: e.v } : { fingerprint: e.f });
	}
	return { entries, watermark: typeof s.watermark === 'number' ? s.watermark : undefined };
}

export function baseToStored(base: Base, maxKeys: number): StoredBase {
	if (base.entries.size > maxKeys) {
		throw new BaseError(
			`the base holds ${base.entries.size} keys, over the bound of ${maxKeys} for workflow static data`,
		);
	}
	const keys: StoredBase['keys'] = {};
	for (const [key, e] of base.entries)
		keys[key] = e.values ? { f: e.fingerprint, v: e.values } : { f: e.fingerprint };
	return { v: 1, watermark: base.watermark, keys };
}

/** The base entry for a record as it is now (what a validated sync commits). */
export function baseEntryFor(
	data: RecordData | null,
	fingerprint: string,
	ignored: ReadonlySet<string>,
	keepValues: boolean,
): BaseEntry {
	if (data === null || fingerprint === DELETED_FINGERPRINT || !keepValues) return { fingerprint };
	const values: Record<string, Json> = {};
	for (const field of Object.keys(data)) {
		if (!ignored.has(field) && data[field] !== undefined) values[field] = toJson(data[field]);
	}
	return { fingerprint, values };
}

/**
 * Advances a base with the keys that validated; every other key keeps its last validated state.
 * Returns the new stored form; past maxKeys it throws before anything is committed.
 */
export function advanceBase(
	stored: unknown,
	validated: Map<string, BaseEntry>,
	watermark: number,
	maxKeys: number,
): StoredBase {
	const base = baseFromStored(stored) ?? emptyBase();
	for (const [key, entry] of validated) base.entries.set(key, entry);
	base.watermark = watermark;
	return baseToStored(base, maxKeys);
}
