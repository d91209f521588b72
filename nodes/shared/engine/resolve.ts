import {
	canonicalJson,
	ignoredSet,
	isEmptyValue,
	type Json,
	type RecordData,
	sameValue,
} from './canonical';
import { MERGED, NO_BASE_VALUES, type SystemState } from './check';
import type { CheckedKey } from './items';
import { parseTimestamp, readTimestamp } from './time';

export const STRATEGIES = [
	'lastWriterWins',
	'sourceWins',
	'systemPriority',
	'fieldMerge',
	'manualReview',
] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** Record-level rules a strategy falls back on, and field merge uses for conflicting fields. */
export const SECONDARY_RULES = ['lastWriterWins', 'sourceWins', 'systemPriority'] as const;
export type SecondaryRule = (typeof SECONDARY_RULES)[number];
export const FIELD_RULES = [
	'max',
	'min',
	'counter',
	'arrayUnion',
	'preferNonEmpty',
	...SECONDARY_RULES,
] as const;
export type FieldRule = (typeof FIELD_RULES)[number];

export interface ResolveOptions {
	strategy: Strategy;
	/** Used where the strategy cannot decide, and by field merge for conflicting fields. */
	secondary: SecondaryRule;
	/** System names, highest priority first. */
	priority: string[];
	fieldRules: Record<string, FieldRule>;
}

export interface FieldWinner {
	/** Systems whose value was taken, or 'base'. */
	from: string[] | 'base';
	rule: string;
}

export interface Audit {
	strategy: Strategy | 'cleanChange';
	/** The system whose record won, or 'merged' when fields came from several. */
	winner: string;
	fieldWinners: Record<string, FieldWinner>;
	/** Every value a system held that the resolution replaces: nothing is overwritten unrecorded. */
	losingValues: Record<string, Record<string, Json>>;
	tieBreak?: 'priority' | 'source' | 'name';
	notes: string[];
}

export type Resolution =
	| { review: true; reason: string }
	| { review: false; record: RecordData | null; deleted: boolean; audit: Audit };

export class ResolveError extends Error {
	constructor(
		message: string,
		readonly field: string,
	) {
		super(message);
	}
}

const CHANGED: ReadonlySet<SystemState> = new Set(['changed', 'created', 'deleted']);

interface Ctx {
	input: CheckedKey;
	options: ResolveOptions;
	ignored: ReadonlySet<string>;
	/** Deterministic tie-break order: priority list, then the source, then names ascending. */
	order: string[];
	notes: string[];
}

const copy = <T>(value: T): T =>
	value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
const isDeleted = (ctx: Ctx, system: string) =>
	ctx.input.states[system] === 'deleted' || ctx.input.deleted?.[system] === true;
/** Systems holding a live record, in the deterministic tie-break order. */
const live = (ctx: Ctx, systems: string[]) =>
	ctx.order.filter(
		(s) => systems.includes(s) && ctx.input.records[s] !== null && !isDeleted(ctx, s),
	);

function tieOrder(input: CheckedKey, priority: string[]): string[] {
	const order = priority.filter((s) => input.systems.includes(s));
	if (!order.includes(input.sourceSystem)) order.push(input.sourceSystem);
	for (const s of [...input.systems].sort()) if (!order.includes(s)) order.push(s);
	return order;
}

function timeOf(ctx: Ctx, system: string): number {
	const t = ctx.input.updatedAt[system];
	return t === null || t === undefined ? -Infinity : parseTimestamp(t)!;
}

/** An instant as the audit says it: ISO, or "no updated-at". */
const instant = (ms: number) => (ms === -Infinity ? 'no updated-at' : new Date(ms).toISOString());

/**
 * Picks one system by a record rule, and says why it won. For a record, the source wins whatever
 * its state (it is the system of record); for a field (onlyAmong), only a system that holds the
 * field can win.
 */
function pick(
	rule: SecondaryRule,
	among: string[],
	ctx: Ctx,
	onlyAmong = false,
): { winner: string; tieBreak?: Audit['tieBreak']; why: string } {
	const ordered = ctx.order.filter((s) => among.includes(s));
	const { input, options } = ctx;
	if (rule === 'sourceWins') {
		const source = input.sourceSystem;
		if (onlyAmong ? among.includes(source) : input.states[source] !== 'missing') {
			return { winner: source, why: `sourceWins: ${source} is the source system` };
		}
		ctx.notes.push(
			`source ${source} has no ${onlyAmong ? 'live value' : 'record'}: fell back to lastWriterWins`,
		);
	}
	if (rule === 'systemPriority') {
		const first = options.priority.find((s) => ordered.includes(s));
		if (first)
			return {
				winner: first,
				why: `systemPriority: ${first} comes first in the priority list (${options.priority.join(', ')}) among ${ordered.join(', ')}`,
			};
		ctx.notes.push(
			`none of ${ordered.join(', ')} is in the priority list: fell back to lastWriterWins`,
		);
	}
	let best = ordered[0];
	let bestTime = timeOf(ctx, best);
	let tied = false;
	for (const s of ordered.slice(1)) {
		const t = timeOf(ctx, s);
		if (t > bestTime) {
			best = s;
			bestTime = t;
			tied = false;
		} else if (t === bestTime) tied = true;
	}
	if (bestTime === -Infinity)
		ctx.notes.push('no updated-at on the contenders: the tie-break order decided');
	const others = ordered
		.filter((s) => s !== best)
		.map((s) => `${s} ${instant(timeOf(ctx, s))}`)
		.join(', ');
	const latest = `lastWriterWins: ${best} has the latest updated-at (${instant(bestTime)}; ${others || 'no other contender'})`;
	if (!tied) return { winner: best, why: latest };
	const tieBreak = options.priority.includes(best)
		? 'priority'
		: best === input.sourceSystem
			? 'source'
			: 'name';
	return {
		winner: best,
		tieBreak,
		why: `${latest}, a tie broken by ${tieBreak === 'name' ? 'system name' : tieBreak}`,
	};
}

function comparable(values: unknown[]): ((v: unknown) => number | string) | undefined {
	if (values.every((v) => typeof v === 'number')) return (v) => v as number;
	// Strict: only what parseTimestamp reads is a timestamp; "Gold 1" is text.
	if (values.every((v) => typeof v === 'string' && readTimestamp(v).ms !== undefined)) {
		return (v) => parseTimestamp(v)!;
	}
	if (values.every((v) => typeof v === 'string')) return (v) => v as string;
	return undefined;
}

/** Applies a per-field rule to the values the live systems hold for one field. */
function applyFieldRule(
	field: string,
	rule: FieldRule,
	holders: string[],
	recordWinner: string,
	ctx: Ctx,
): { value: unknown; from: string[] | 'base' } {
	const valueOf = (s: string) => ctx.input.records[s]![field];
	const present = holders.filter((s) => valueOf(s) !== undefined && valueOf(s) !== null);
	const baseValue = ctx.input.base?.values?.[field];
	switch (rule) {
		case 'max':
		case 'min': {
			if (present.length === 0) return { value: valueOf(recordWinner), from: [recordWinner] };
			const key = comparable(present.map(valueOf));
			if (!key) {
				throw new ResolveError(
					`field "${field}": rule "${rule}" needs numbers, timestamps or strings, got mixed values`,
					field,
				);
			}
			let best = present[0];
			for (const s of present.slice(1)) {
				const a = key(valueOf(s));
				const b = key(valueOf(best));
				if (rule === 'max' ? a > b : a < b) best = s;
			}
			return {
				value: valueOf(best),
				from: present.filter((s) => sameValue(valueOf(s), valueOf(best))),
			};
		}
		case 'counter': {
			if (typeof baseValue !== 'number') {
				ctx.notes.push(
					`field "${field}": counter merge needs a numeric base value; took the max instead`,
				);
				return applyFieldRule(field, 'max', holders, recordWinner, ctx);
			}
			const numbers = present.filter((s) => typeof valueOf(s) === 'number');
			if (numbers.length !== present.length) {
				throw new ResolveError(
					`field "${field}": counter merge needs numbers on every system`,
					field,
				);
			}
			// base + every system's delta: concurrent increments all survive.
			const value = numbers.reduce(
				(sum, s) => sum + ((valueOf(s) as number) - baseValue),
				baseValue,
			);
			return { value, from: numbers.filter((s) => valueOf(s) !== baseValue) };
		}
		case 'arrayUnion': {
			const seen = new Set<string>();
			const value: unknown[] = [];
			const add = (v: unknown) => {
				for (const item of Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]) {
					const c = canonicalJson(item);
					if (!seen.has(c)) {
						seen.add(c);
						value.push(item);
					}
				}
			};
			add(baseValue);
			for (const s of present) add(valueOf(s));
			return { value, from: present };
		}
		case 'preferNonEmpty': {
			if (!isEmptyValue(valueOf(recordWinner)))
				return { value: valueOf(recordWinner), from: [recordWinner] };
			const first = holders.find((s) => !isEmptyValue(valueOf(s)));
			return first
				? { value: valueOf(first), from: [first] }
				: { value: valueOf(recordWinner), from: [recordWinner] };
		}
		default: {
			const { winner, why } = pick(rule, holders, ctx, true);
			ctx.notes.push(`field "${field}": ${why}`);
			return { value: valueOf(winner), from: [winner] };
		}
	}
}

function losingValues(ctx: Ctx, record: RecordData | null): Record<string, Record<string, Json>> {
	const losers: Record<string, Record<string, Json>> = {};
	for (const system of ctx.order) {
		const held = ctx.input.records[system];
		const lost: Record<string, Json> = {};
		if (isDeleted(ctx, system)) {
			// A delete (tombstone or, with missingMeansDeleted, absence) that loses is a loss too.
			if (record !== null) lost['(deleted)'] = true;
		} else if (held !== null && held !== undefined) {
			const fields = new Set([...Object.keys(held), ...Object.keys(record ?? {})]);
			for (const f of [...fields].sort()) {
				if (ctx.ignored.has(f)) continue;
				if (record === null || !sameValue(held[f], record[f]))
					lost[f] = copy((held[f] ?? null) as Json);
			}
		}
		if (Object.keys(lost).length) losers[system] = lost;
	}
	return losers;
}

function fieldsOf(ctx: Ctx, systems: string[], extra?: Record<string, unknown>): string[] {
	const fields = new Set<string>(extra ? Object.keys(extra) : []);
	for (const s of systems) for (const f of Object.keys(ctx.input.records[s] ?? {})) fields.add(f);
	return [...fields].filter((f) => !ctx.ignored.has(f)).sort();
}

/** The contenders that changed the field from its base value, in the tie-break order. */
const changersOf = (ctx: Ctx, contenders: string[], field: string, base: Record<string, Json>) =>
	ctx.order.filter(
		(s) => contenders.includes(s) && !sameValue(ctx.input.records[s]![field], base[field]),
	);

/**
 * True when the record-level winner's record lacks a change the field-wise merge keeps: one made
 * on one side only by another system, or a contested field the winner did not touch (decided
 * among those who did; under sourceWins the source's value stands, as the system of record).
 */
function winnerLacksAChange(
	ctx: Ctx,
	contenders: string[],
	winner: string,
	rule: SecondaryRule,
): boolean {
	const base = ctx.input.base!.values!;
	const systemOfRecord = rule === 'sourceWins' && winner === ctx.input.sourceSystem;
	return fieldsOf(ctx, contenders, base).some((field) => {
		const changers = changersOf(ctx, contenders, field, base);
		if (changers.length === 0 || changers.includes(winner)) return false;
		const values = new Set(changers.map((s) => canonicalJson(ctx.input.records[s]![field])));
		return values.size === 1 || !systemOfRecord;
	});
}

/**
 * Field by field over the base values: a change made on one side only is kept, a field changed
 * to different values goes to `rule`, a field rule decides its field. The key, updated-at and
 * version come from `lead`, the record `rule` prefers.
 */
function fieldMerge(
	ctx: Ctx,
	contenders: string[],
	rule: SecondaryRule,
	{ winner: lead, tieBreak }: { winner: string; tieBreak?: Audit['tieBreak'] } = pick(
		rule,
		contenders,
		ctx,
	),
): { record: RecordData; audit: Partial<Audit> } {
	const { input, options } = ctx;
	const baseValues = input.base!.values!;
	const record: RecordData = {};
	// Key, updated-at and version come from the record the secondary rule prefers.
	for (const f of Object.keys(input.records[lead]!))
		if (ctx.ignored.has(f)) record[f] = copy(input.records[lead]![f]);
	const fieldWinners: Record<string, FieldWinner> = {};
	const holders = live(ctx, input.systems);
	for (const field of fieldsOf(ctx, contenders, baseValues)) {
		const changers = changersOf(ctx, contenders, field, baseValues);
		// Nobody changed it: keep the spelling a system holds, not the base's canonical form.
		const keeper = [lead, ...holders].find((s) =>
			sameValue(input.records[s]![field], baseValues[field]),
		);
		let value: unknown = keeper ? input.records[keeper]![field] : baseValues[field];
		if (changers.length > 0) {
			const distinct = new Set(changers.map((s) => canonicalJson(input.records[s]![field])));
			const fieldRule = options.fieldRules[field];
			if (fieldRule) {
				const applied = applyFieldRule(field, fieldRule, holders, lead, ctx);
				value = applied.value;
				fieldWinners[field] = { from: applied.from, rule: fieldRule };
			} else if (distinct.size === 1) {
				value = input.records[changers[0]]![field];
				fieldWinners[field] = {
					from: changers,
					rule: changers.length > 1 ? 'same_change' : 'one_sided',
				};
				ctx.notes.push(
					`field "${field}": ${changers.length > 1 ? `${changers.join(' and ')} made the same change` : `only ${changers[0]} changed it`}, kept`,
				);
			} else {
				const { winner, why } = pick(rule, changers, ctx);
				ctx.notes.push(
					`field "${field}": ${changers.join(' and ')} changed it differently; ${why}`,
				);
				value = input.records[winner]![field];
				fieldWinners[field] = { from: [winner], rule };
			}
		}
		if (value !== undefined) record[field] = copy(value);
	}
	const sources = new Set(
		Object.values(fieldWinners).flatMap((w) => (w.from === 'base' ? [] : w.from)),
	);
	return {
		record,
		audit: { winner: sources.size === 1 ? [...sources][0] : 'merged', fieldWinners, tieBreak },
	};
}

/** A clean change resolves the same whatever the parameters: these stand in for them. */
const CLEAN: ResolveOptions = {
	strategy: 'lastWriterWins',
	secondary: 'lastWriterWins',
	priority: [],
	fieldRules: {},
};

/**
 * A clean change: the proposing system's record, or (MERGED: systems changed different fields)
 * the field-wise merge over the base values, each field's contributor in the audit.
 */
function cleanChange(input: CheckedKey, ctx: Ctx): Resolution {
	const notes = [`clean change: ${input.reason}`];
	if (input.proposedFrom === MERGED) {
		const merge: Ctx = { ...ctx, options: CLEAN, order: tieOrder(input, []), notes: [] };
		const contenders = merge.order.filter((s) => CHANGED.has(input.states[s]));
		if (input.base?.values === undefined || live(merge, contenders).length < contenders.length) {
			throw new ResolveError(
				'a merged change needs the base values it was checked against and a live record on every system that changed it',
				'base',
			);
		}
		const { record, audit } = fieldMerge(merge, contenders, CLEAN.secondary);
		return {
			review: false,
			record,
			deleted: false,
			audit: {
				strategy: 'cleanChange',
				winner: audit.winner!,
				fieldWinners: audit.fieldWinners!,
				losingValues: losingValues(merge, record),
				notes: [...new Set([...notes, ...merge.notes])],
			},
		};
	}
	const winner = input.proposedFrom ?? input.sourceSystem;
	const deleted = isDeleted(ctx, winner) || input.records[winner] === null;
	const record = deleted ? null : copy(input.records[winner]!);
	return {
		review: false,
		record,
		deleted,
		audit: {
			strategy: 'cleanChange',
			winner,
			fieldWinners: {},
			losingValues: losingValues(ctx, record),
			notes,
		},
	};
}

/** The record-level winner's record, with the field rules applied over it. */
function winnerRecord(
	ctx: Ctx,
	winner: string,
): { record: RecordData | null; fieldWinners: Audit['fieldWinners'] } {
	const { input, options } = ctx;
	const record = isDeleted(ctx, winner) ? null : copy(input.records[winner]!);
	const fieldWinners: Record<string, FieldWinner> = {};
	if (record !== null) {
		const holders = live(ctx, input.systems);
		for (const [field, fieldRule] of Object.entries(options.fieldRules).sort(([a], [b]) =>
			a < b ? -1 : 1,
		)) {
			if (ctx.ignored.has(field)) continue;
			const values = new Set(holders.map((s) => canonicalJson(input.records[s]![field])));
			if (values.size < 2) continue;
			const applied = applyFieldRule(field, fieldRule, holders, winner, ctx);
			if (applied.value === undefined) delete record[field];
			else record[field] = copy(applied.value);
			fieldWinners[field] = { from: applied.from, rule: fieldRule };
		}
	}
	return { record, fieldWinners };
}

/**
 * Resolves one key to a single record (or a delete) with an audit of how, or routes it to
 * review. Pure and deterministic: the same input gives the same result anywhere.
 */
export function resolveKey(input: CheckedKey, options: ResolveOptions): Resolution {
	const known = (value: string, allowed: readonly string[], field: string, what: string) => {
		if (!allowed.includes(value)) {
			throw new ResolveError(`unknown ${what} "${value}": use one of ${allowed.join(', ')}`, field);
		}
	};
	known(options.strategy, STRATEGIES, 'strategy', 'strategy');
	known(options.secondary, SECONDARY_RULES, 'secondaryRule', 'secondary rule');
	for (const [field, rule] of Object.entries(options.fieldRules)) {
		known(rule, FIELD_RULES, field, `rule for field "${field}"`);
	}
	const ctx: Ctx = {
		input,
		options,
		ignored: ignoredSet(input.ignoredFields),
		order: tieOrder(input, options.priority),
		notes: [],
	};
	if (input.kind !== 'conflict') return cleanChange(input, ctx);
	if (options.strategy === 'manualReview')
		return { review: true, reason: 'strategy is manual review' };

	let contenders = ctx.order.filter((s) => CHANGED.has(input.states[s]));
	if (contenders.length === 0) contenders = ctx.order.filter((s) => input.states[s] !== 'missing');
	const liveContenders = live(ctx, contenders);

	let record: RecordData | null;
	let partial: Partial<Audit>;
	const noDelete = liveContenders.length === contenders.length;
	const canMerge = input.base?.values !== undefined && noDelete;
	const rule: SecondaryRule =
		options.strategy === 'fieldMerge' ? options.secondary : options.strategy;
	if (options.strategy === 'fieldMerge' && canMerge) {
		({ record, audit: partial } = fieldMerge(ctx, contenders, rule));
	} else {
		if (options.strategy === 'fieldMerge') {
			ctx.notes.push(
				input.base?.values === undefined
					? `no base values to merge against: resolved by ${options.secondary}`
					: `a delete cannot be merged field by field: resolved by ${options.secondary}`,
			);
		} else if (!canMerge && noDelete) {
			ctx.notes.push(`${NO_BASE_VALUES}; decided for the whole record`);
		}
		const lead = pick(rule, contenders, ctx);
		ctx.notes.push(lead.why);
		// The winner decides the fields changed to different values; what another system changed
		// alone is kept, not lost to the winner's record.
		if (canMerge && winnerLacksAChange(ctx, contenders, lead.winner, rule)) {
			({ record, audit: partial } = fieldMerge(ctx, contenders, rule, lead));
		} else {
			let fieldWinners: Audit['fieldWinners'];
			({ record, fieldWinners } = winnerRecord(ctx, lead.winner));
			partial = { winner: lead.winner, fieldWinners, tieBreak: lead.tieBreak };
		}
	}
	const audit: Audit = {
		strategy: options.strategy,
		winner: partial.winner!,
		fieldWinners: partial.fieldWinners ?? {},
		losingValues: losingValues(ctx, record),
		...(partial.tieBreak ? { tieBreak: partial.tieBreak } : {}),
		notes: [...new Set(ctx.notes)],
	};
	return { review: false, record, deleted: record === null, audit };
}
