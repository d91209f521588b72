import type { IExecuteFunctions } from 'n8n-workflow';

import type { RecordSpec } from '../engine';

/** "a, b ,c" -> ['a', 'b', 'c']; empty parts dropped. */
export function splitList(value: unknown): string[] {
	if (Array.isArray(value))
		return value
			.map(String)
			.map((s) => s.trim())
			.filter(Boolean);
	if (typeof value !== 'string') return [];
	return value
		.split(',')
		.map((s) => s.trim())
		.filter(Boolean);
}

/**
 * System names from a parameter: a comma-separated text (as typed in the editor), or an array
 * (as a payload sends it), where every entry must be a non-empty name: `["system_b", ""]` is an
 * error, not one target less.
 */
export function systemList(value: unknown, field: string): string[] {
	if (!Array.isArray(value)) return splitList(value);
	return value.map((v, i) => {
		if (typeof v !== 'string' || !v.trim()) {
			throw new Error(
				`${field}[${i}] must be a system name, got ${typeof v === 'string' ? 'an empty string' : (JSON.stringify(v) ?? typeof v)}`,
			);
		}
		return v.trim();
	});
}

export function readRecordSpec(ctx: IExecuteFunctions, itemIndex = 0): RecordSpec {
	const text = (name: string) => String(ctx.getNodeParameter(name, itemIndex, '') ?? '').trim();
	return {
		keyFields: splitList(ctx.getNodeParameter('keyFields', itemIndex)),
		updatedAtField: text('updatedAtField') || undefined,
		versionField: text('versionField') || undefined,
		tombstoneField: text('tombstoneField') || undefined,
		ignoreFields: splitList(ctx.getNodeParameter('ignoreFields', itemIndex, '')),
	};
}

/** The static-data slot of one named sync's base. */
export function baseSlot(syncName: string): string {
	return `dataSync:${syncName}`;
}

// An expression that reads the current item (or its pairing) can differ per item; any other
// (a literal, or `$('Webhook').first()...`) is the same for every item of the run.
const ITEM_DEPENDENT = /\$json|\$binary|\$itemIndex|\$input\.item|\.item\b|\$item\(|\$node\[/;

/**
 * A parameter read per item, but evaluated once per run when it cannot differ between items:
 * an expression over a large webhook payload then costs one evaluation, not one per record.
 */
export function perRunParameter(ctx: IExecuteFunctions, name: string, fallback: unknown) {
	const raw = ctx.getNodeParameter(name, 0, fallback, { rawExpressions: true });
	const perItem = typeof raw === 'string' && raw.startsWith('=') && ITEM_DEPENDENT.test(raw);
	let once: { value: unknown } | undefined;
	return (itemIndex: number): unknown => {
		if (perItem) return ctx.getNodeParameter(name, itemIndex, fallback);
		once ??= { value: ctx.getNodeParameter(name, 0, fallback) };
		return once.value;
	};
}
