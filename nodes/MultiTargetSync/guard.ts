import { NodeOperationError, type IDataObject, type IExecuteFunctions } from 'n8n-workflow';

import type { Planned } from './plan';

const increment = (counts: Map<string, number>, system: string) =>
	counts.set(system, (counts.get(system) ?? 0) + 1);

/** Live records each system holds among the keys this sync covers. */
function heldRecords(planned: Planned[]): Map<string, number> {
	const held = new Map<string, number>();
	for (const { input } of planned) {
		// Conflict Check says how many records each system held among all checked keys (in-sync
		// ones never reach this node); without it, count the records of the keys here.
		const checked = input.heldAmongCheckedKeys;
		for (const system of input.systems) {
			if (checked?.[system] !== undefined)
				held.set(system, Math.max(held.get(system) ?? 0, checked[system]));
			else if (input.records[system] && !input.deleted?.[system]) increment(held, system);
		}
	}
	return held;
}

/**
 * Stops a sync that would delete more than the allowed share of a system's records (among the
 * records this sync covers), before anything is written: a wiped source must not wipe the rest.
 */
export function massDeleteGuard(
	ctx: IExecuteFunctions,
	planned: Planned[],
	options: IDataObject,
): void {
	const maxShare = Number(options.maxDeleteShare ?? 50) / 100;
	const minDeletes = Number(options.guardFromDeletes ?? 10);
	const deletes = new Map<string, number>();
	for (const p of planned)
		for (const w of p.writes) if (w.op === 'delete') increment(deletes, w.system);
	// Most syncs delete nothing: no need to count what the systems hold.
	if (deletes.size === 0) return;
	const held = heldRecords(planned);
	for (const [system, count] of deletes) {
		const total = held.get(system) ?? count;
		if (count >= minDeletes && count > maxShare * total) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Mass-delete guard: this sync would delete ${count} of ${total} records on ${system} (${Math.round((100 * count) / total)}%, over the ${Math.round(maxShare * 100)}% limit). Nothing was written.`,
				{
					description:
						'If the deletes are intended, raise Max Delete Share in the options, or sync in smaller parts.',
				},
			);
		}
	}
}
