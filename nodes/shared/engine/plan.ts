import { createHash } from 'node:crypto';

import { DELETED_FINGERPRINT, fingerprint, ignoredSet, type RecordData } from './canonical';
import type { CheckedKey, ResolvedKey } from './items';

export type SyncMode = 'bidirectional' | 'oneWay';
export type WriteOp = 'create' | 'update' | 'delete';

export interface PlannedWrite {
	key: string;
	system: string;
	op: WriteOp;
	/** The record to write (absent for a delete). */
	record?: RecordData;
	/** The version the system held at the check: the write applies only if it still does. */
	ifMatch?: string | number;
	/** Create only if the system still has no live record. */
	ifNoneMatch?: boolean;
	/** Same write, same key: a retry or a re-run is recognised and applied once. */
	idempotencyKey: string;
	expectedFingerprint: string;
}

export interface PlannedSkip {
	key: string;
	system: string;
	action: 'unchanged' | 'skipped';
	reason: string;
	expectedFingerprint: string;
}

export interface PlanOptions {
	mode: SyncMode;
	targets: string[];
	propagateDeletes: boolean;
	/** Send If-Match / If-None-Match so a system that changed after the check is not overwritten. */
	optimistic: boolean;
}

export class PlanError extends Error {
	constructor(
		message: string,
		readonly field: string,
	) {
		super(message);
	}
}

function idempotencyKey(parts: Array<string | number | undefined>): string {
	return createHash('sha256')
		.update(parts.map((p) => String(p ?? '')).join('\n'))
		.digest('base64url')
		.slice(0, 32);
}

/** The systems a key is written to: the targets, and in bidirectional mode the source too. */
export function writeSystems(input: CheckedKey, options: PlanOptions): string[] {
	const systems = options.targets.filter((t) => t !== input.sourceSystem);
	if (options.mode === 'bidirectional') systems.unshift(input.sourceSystem);
	for (const s of systems) {
		if (!input.systems.includes(s)) {
			throw new PlanError(
				`target "${s}" was not part of the conflict check (checked: ${input.systems.join(', ')}), so its current state is unknown`,
				'target_systems',
			);
		}
	}
	return systems;
}

/**
 * What to write where for one resolved key: only what differs. A system already holding the
 * resolved data gets nothing; one-way never writes the source.
 */
export function planKey(
	input: ResolvedKey,
	options: PlanOptions,
): { writes: PlannedWrite[]; skips: PlannedSkip[] } {
	const ignored = ignoredSet(input.ignoredFields);
	const desired = input.resolvedDeleted || input.resolved === null ? null : input.resolved;
	const expectedFingerprint = desired ? fingerprint(desired, ignored) : DELETED_FINGERPRINT;
	const writes: PlannedWrite[] = [];
	const skips: PlannedSkip[] = [];
	const skip = (system: string, action: PlannedSkip['action'], reason: string) =>
		skips.push({ key: input.key, system, action, reason, expectedFingerprint });

	for (const system of writeSystems(input, options)) {
		const current = input.records[system];
		const tombstone =
			current !== null && (input.deleted?.[system] === true || input.states[system] === 'deleted');
		const live = current !== null && !tombstone;
		const rawVersion = current && input.versionField ? current[input.versionField] : undefined;
		const version =
			typeof rawVersion === 'number' || typeof rawVersion === 'string' ? rawVersion : undefined;
		const guard = options.optimistic ? version : undefined;
		if (desired === null) {
			if (!live) skip(system, 'unchanged', 'already deleted or absent');
			else if (!options.propagateDeletes) skip(system, 'skipped', 'deletes are not propagated');
			else {
				writes.push({
					key: input.key,
					system,
					op: 'delete',
					ifMatch: guard,
					idempotencyKey: idempotencyKey([system, input.key, 'delete', guard]),
					expectedFingerprint,
				});
			}
			continue;
		}
		if (live && fingerprint(current, ignored) === expectedFingerprint) {
			skip(system, 'unchanged', 'already holds the resolved data');
			continue;
		}
		const op: WriteOp = live ? 'update' : 'create';
		writes.push({
			key: input.key,
			system,
			op,
			record: desired,
			...(guard !== undefined ? { ifMatch: guard } : {}),
			...(options.optimistic && current === null ? { ifNoneMatch: true } : {}),
			idempotencyKey: idempotencyKey([system, input.key, op, expectedFingerprint, guard]),
			expectedFingerprint,
		});
	}
	return { writes, skips };
}
