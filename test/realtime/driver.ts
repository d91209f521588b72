/**
 * The real-time suite's driver: edits records on the three demo systems as people would (read,
 * change, write back with If-Match; a refused write is read again and re-applied), at a steady
 * rate, and keeps a journal of every edit so the suite can account for each one afterwards.
 */
import { mulberry32 } from '../../demo/systems/prng.ts';
import type { ReceivedEvent, StartedSystems } from '../systems/helpers';

type Json = Record<string, unknown>;

export const SYSTEMS = ['system_a', 'system_b', 'system_c'];
/** The fields people edit; each edit writes a value no other edit writes. */
export const FIELDS = ['name', 'email', 'tier', 'note'];

export interface Edit {
	n: number;
	system: string;
	key: string;
	kind: 'field' | 'create' | 'delete';
	field?: string;
	value?: string;
	/** Epoch ms when the system answered the write. */
	doneAt: number;
	/** The system's updated_at for the write (its clock: the one last writer wins compares). */
	updatedAt?: string;
	/** 412s met (someone wrote between the read and the write). */
	refused: number;
	/** Part of a pair of edits to one record made at the same moment on two systems. */
	pair?: 'sameField' | 'otherField';
}

export interface DriverPlan {
	editsPerSecond: number;
	seconds: number;
	keys: string[];
	seed: number;
}

export class Driver {
	readonly journal: Edit[] = [];
	private n = 0;
	private readonly random: () => number;
	private readonly live: Set<string>;
	private created = 0;

	constructor(
		private readonly systems: StartedSystems,
		private readonly plan: DriverPlan,
	) {
		this.random = mulberry32(plan.seed);
		this.live = new Set(plan.keys);
	}

	private async call(system: string, method: string, path: string, body?: Json, ifMatch?: string) {
		const s = this.systems.systems[system];
		const res = await fetch(`${s.url}${path}`, {
			method,
			headers: {
				...s.headers,
				...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
				...(ifMatch === undefined ? {} : { 'If-Match': ifMatch }),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: res.status, body: (await res.json()) as Json };
	}

	/** Read, change one field, write back guarded by the version read; again on a 412. */
	async editField(system: string, key: string, field: string, pair?: Edit['pair']) {
		const value = `${field}-${++this.n}-${system}`;
		let refused = 0;
		for (let attempt = 0; attempt < 20; attempt++) {
			const read = await this.call(system, 'GET', `/records/${encodeURIComponent(key)}`);
			if (read.status !== 200 || read.body._deleted === true) return; // gone meanwhile: no edit
			const { updated_at: _u, version, ...rest } = read.body;
			const put = await this.call(
				system,
				'PUT',
				`/records/${encodeURIComponent(key)}`,
				{ ...rest, [field]: value },
				`"${String(version)}"`,
			);
			if (put.status === 412) {
				refused++;
				continue;
			}
			if (put.status >= 300) throw new Error(`${system} PUT ${key}: ${put.status}`);
			this.journal.push({
				n: this.n,
				system,
				key,
				kind: 'field',
				field,
				value,
				doneAt: Date.now(),
				updatedAt: String((put.body.data as Json).updated_at),
				refused,
				pair,
			});
			return;
		}
		throw new Error(`${system} PUT ${key}: refused 20 times`);
	}

	private async create(system: string) {
		const key = `rt-new-${++this.created}`;
		const put = await this.call(system, 'PUT', `/records/${key}`, {
			id: key,
			name: `New ${key}`,
			email: `${key}@example.com`,
			tier: 'bronze',
			note: `created on ${system}`,
		});
		if (put.status >= 300) throw new Error(`${system} create ${key}: ${put.status}`);
		this.live.add(key);
		this.journal.push({
			n: ++this.n,
			system,
			key,
			kind: 'create',
			doneAt: Date.now(),
			updatedAt: String((put.body.data as Json).updated_at),
			refused: 0,
		});
	}

	private async remove(system: string, key: string) {
		this.live.delete(key);
		const res = await this.call(system, 'DELETE', `/records/${encodeURIComponent(key)}`);
		if (res.status >= 300 && res.status !== 404) throw new Error(`${system} delete: ${res.status}`);
		this.journal.push({
			n: ++this.n,
			system,
			key,
			kind: 'delete',
			doneAt: Date.now(),
			refused: 0,
		});
	}

	private pick<T>(list: T[]): T {
		return list[Math.floor(this.random() * list.length)];
	}

	/** One step: mostly single field edits, some concurrent pairs, a few creates and deletes. */
	private async step(): Promise<void> {
		const r = this.random();
		const keys = [...this.live];
		const key = this.pick(keys);
		const [s1, s2] = [...SYSTEMS].sort(() => this.random() - 0.5);
		if (r < 0.1) {
			const field = this.pick(FIELDS);
			await Promise.all([
				this.editField(s1, key, field, 'sameField'),
				this.editField(s2, key, field, 'sameField'),
			]);
		} else if (r < 0.25) {
			const [f1, f2] = [...FIELDS].sort(() => this.random() - 0.5);
			await Promise.all([
				this.editField(s1, key, f1, 'otherField'),
				this.editField(s2, key, f2, 'otherField'),
			]);
		} else if (r < 0.3) await this.create(s1);
		else if (r < 0.33 && keys.length > this.plan.keys.length / 2) await this.remove(s1, key);
		else await this.editField(s1, key, this.pick(FIELDS));
	}

	/** Steps at the planned rate for the planned time; each step runs on its own. */
	async run(): Promise<void> {
		const total = this.plan.editsPerSecond * this.plan.seconds;
		const interval = 1000 / this.plan.editsPerSecond;
		const start = Date.now();
		const running: Array<Promise<void>> = [];
		for (let i = 0; i < total; i++) {
			const due = start + i * interval;
			const wait = due - Date.now();
			if (wait > 0) await new Promise((r) => setTimeout(r, wait));
			running.push(this.step());
		}
		await Promise.all(running);
	}
}

/** Percentile of a sorted list (nearest rank). */
export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Edit-to-everywhere latency of each field edit that reached every system: from the system's
 * updated-at for the edit to the last of the other systems' changes carrying the value, as their
 * outbound events report them (records as of the change; every clock on this one machine).
 */
export function latencies(journal: Edit[], events: ReceivedEvent[]): number[] {
	// system -> key -> [{at, record}] in arrival order
	const seen = new Map<string, Map<string, Array<{ at: number; record: Json }>>>();
	for (const { body } of events) {
		const records = new Map(body.records.map((r) => [String(r.id), r as Json]));
		let bySystem = seen.get(body.system);
		if (!bySystem) seen.set(body.system, (bySystem = new Map()));
		for (const change of body.changes) {
			const record = records.get(change.key);
			if (!record) continue;
			let list = bySystem.get(change.key);
			if (!list) bySystem.set(change.key, (list = []));
			list.push({ at: Date.parse(change.at), record });
		}
	}
	const out: number[] = [];
	for (const e of journal) {
		if (e.kind !== 'field') continue;
		const editedAt = Date.parse(e.updatedAt!);
		let last = 0;
		let everywhere = true;
		for (const system of SYSTEMS) {
			if (system === e.system) continue;
			const hit = seen
				.get(system)
				?.get(e.key)
				// An event carries each key's record as it is when the event is sent, so an earlier
				// write of the key can show the value: only a write after the edit carried it.
				?.find((c) => c.at >= editedAt && c.record[e.field!] === e.value);
			if (!hit) {
				everywhere = false;
				break;
			}
			last = Math.max(last, hit.at);
		}
		if (everywhere) out.push(last - editedAt);
	}
	return out.sort((a, b) => a - b);
}
