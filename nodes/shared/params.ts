import type { IExecuteFunctions } from 'n8n-workflow';

import type { RecordSpec } from './engine';

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

/** Reads a dotted path ("body.sync_data") from an item; own properties only. */
export function getPath(value: unknown, path: string): unknown {
	let current = value;
	for (const part of path.split('.')) {
		if (current === null || typeof current !== 'object') return undefined;
		if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
		current = (current as Record<string, unknown>)[part];
	}
	return current;
}

/** The static-data slot of one named sync's base. */
export function baseSlot(syncName: string): string {
	return `dataSync:${syncName}`;
}
