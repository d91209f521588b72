import { sleep, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import type { PlannedWrite } from '../shared/engine';
import { failedItem, itemError } from '../shared/errors';
import { planDeferred, type Planned } from './plan';

/** Keys planned between two yields to the event loop, so answers of other requests get read. */
const PLAN_SLICE = 200;

/** One system's planned writes; those before `head` were handed out. */
interface Queue {
	writes: PlannedWrite[];
	head: number;
}

/**
 * Hands out each system's writes in input order, planning deferred keys only as their writes are
 * needed: a batch is planned just before it is sent, while the batches before it are in flight.
 */
export class WriteQueue {
	/** Keys that could not be planned, under continue-on-fail: error items for Failed. */
	readonly failed: INodeExecutionData[] = [];
	/** Without continue-on-fail, the error of a key that could not be planned: nothing more goes out. */
	error?: Error;
	private readonly queues = new Map<string, Queue>();
	private next = 0;

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly planned: Planned[],
		/** Called with every write as it is planned. */
		private readonly onWrite: (p: Planned, w: PlannedWrite) => void,
	) {}

	/** Every system a write may go to: those of the planned writes and of the deferred keys. */
	systems(): string[] {
		const names = new Set<string>();
		for (const p of this.planned) {
			for (const w of p.writes) names.add(w.system);
			for (const s of p.deferred?.systems ?? []) names.add(s);
		}
		return [...names];
	}

	/** Plans every key not planned yet. */
	planAll(): void {
		while (this.next < this.planned.length && !this.error) this.advance();
	}

	/** The next `size` writes to `system` (fewer at the end, none once stopped). */
	async take(system: string, size: number): Promise<PlannedWrite[]> {
		const queue = this.queue(system);
		let sliced = 0;
		while (queue.writes.length - queue.head < size && this.next < this.planned.length) {
			if (this.error) return [];
			this.advance();
			// A system with few writes may plan far ahead: let the others' requests go on meanwhile.
			if (++sliced % PLAN_SLICE === 0) await sleep(0);
		}
		if (this.error) return [];
		const chunk = queue.writes.slice(queue.head, queue.head + size);
		queue.head += chunk.length;
		if (queue.head >= 1024) {
			queue.writes = queue.writes.slice(queue.head);
			queue.head = 0;
		}
		return chunk;
	}

	private queue(system: string): Queue {
		let queue = this.queues.get(system);
		if (!queue) this.queues.set(system, (queue = { writes: [], head: 0 }));
		return queue;
	}

	private advance(): void {
		const p = this.planned[this.next++];
		if (p.deferred) this.plan(p);
		for (const w of p.writes) {
			this.onWrite(p, w);
			this.queue(w.system).writes.push(w);
		}
	}

	/** A deferred key's plan; one that fails goes to Failed, or stops the run, as planRun would. */
	private plan(p: Planned): void {
		try {
			planDeferred(p);
		} catch (error) {
			const nodeError = itemError(this.ctx, error, p.itemIndex);
			if (this.ctx.continueOnFail()) this.failed.push(failedItem(nodeError, { item: p.itemIndex }));
			else this.error = nodeError;
		}
	}
}
