/**
 * Outbound change events of one demo system: every subscription gets the system's changes
 * pushed to its URL, signed with its secret, in seq order, one event at a time.
 *
 * A write never waits for this: the server calls wake() after the commit, and each
 * subscription's pump reads the change log from its cursor on its own. Changes committed while
 * an event is on its way (or within `coalesceMs` of the first) go out together in the next one.
 * A failed attempt (non-2xx, network error, timeout) is retried with exponential backoff and
 * jitter, up to `maxAttempts`; then the event is dropped (counted) and the pump goes on, so a
 * dead subscriber costs retries, never writes. Dropped changes are still in the change feed
 * (GET /records/changes), which is how a subscriber catches up.
 *
 * The cursor (last seq delivered or dropped) is kept per subscription in the store, so after a
 * restart the pump resumes where it stopped: an event may then be delivered twice, never skipped.
 *
 * Erasable TypeScript only (Node 24 runs this file directly).
 */
import { createHmac, randomUUID } from 'node:crypto';

import type { ChangeEntry, JsonObject, Subscription, SystemStore } from './store.ts';

export interface DeliverySettings {
	/** Attempts per event, the first included; then the event is dropped. */
	maxAttempts: number;
	/** Backoff before retry n: min(retryMaxMs, retryBaseMs * 2^(n-1)), half of it jittered. */
	retryBaseMs: number;
	retryMaxMs: number;
	/** One attempt's time limit (connect, send and answer). */
	timeoutMs: number;
	/** How long a pump waits after a wake-up before it reads, so a burst becomes one event. */
	coalesceMs: number;
	/** Most changes in one event. */
	maxChangesPerEvent: number;
}

export const DEFAULT_DELIVERY: DeliverySettings = {
	maxAttempts: 8,
	retryBaseMs: 500,
	retryMaxMs: 30000,
	timeoutMs: 10000,
	coalesceMs: 25,
	maxChangesPerEvent: 500,
};

export interface DeliveryCounters {
	/** Events a subscriber answered with 2xx. */
	delivered: number;
	/** Attempts that failed (non-2xx, network error, timeout). */
	failed: number;
	/** Events given up after maxAttempts. */
	dropped: number;
}

export interface DeliveryStats extends DeliveryCounters {
	subscriptions: number;
	/** Changes not yet delivered, summed over the subscriptions. */
	pending: number;
}

/** What GET /_admin/subscriptions shows of one subscription: never its secret. */
export interface SubscriptionView extends DeliveryCounters {
	id: string;
	url: string;
	created_at: string;
	last_seq: number;
	pending: number;
	last_error: string | null;
}

/** The signature header's value: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>. */
export function signEvent(secret: string, timestamp: number, body: string): string {
	return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function normalizeDelivery(
	given: Partial<DeliverySettings>,
	base: DeliverySettings,
): DeliverySettings {
	const out: DeliverySettings = { ...base };
	const check = (key: keyof DeliverySettings, min: number, max: number) => {
		const v = given[key];
		if (v === undefined) return;
		const n = Number(v);
		if (!Number.isInteger(n) || n < min || n > max)
			throw new RangeError(`${key} must be an integer from ${min} to ${max}`);
		out[key] = n;
	};
	check('maxAttempts', 1, 100);
	check('retryBaseMs', 0, 3600000);
	check('retryMaxMs', 0, 3600000);
	check('timeoutMs', 1, 600000);
	check('coalesceMs', 0, 60000);
	check('maxChangesPerEvent', 1, 5000);
	return out;
}

/** A wait that close() or a reset can cut short. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted || ms <= 0) return resolve();
		const done = () => {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal.addEventListener('abort', done, { once: true });
	});
}

/** Retry-After in seconds or as an HTTP-date, in ms (undefined when absent or unreadable). */
function retryAfterMs(value: string | null): number | undefined {
	if (!value) return undefined;
	if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
	const at = Date.parse(value);
	return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

interface Event {
	id: string;
	lastSeq: number;
	body: string;
}

/** One subscription's sender: reads from its cursor, sends one event at a time. */
class Pump {
	readonly sub: Subscription;
	readonly counters: DeliveryCounters = { delivered: 0, failed: 0, dropped: 0 };
	lastError: string | null = null;
	/** The run in progress (at most one: events go out one at a time, in seq order). */
	private active: object | undefined;
	private stop = new AbortController();
	private readonly owner: Deliveries;

	constructor(owner: Deliveries, sub: Subscription) {
		this.owner = owner;
		this.sub = sub;
	}

	wake(): void {
		if (this.active || this.stop.signal.aborted) return;
		const run = {};
		this.active = run;
		this.run(run, this.stop.signal).catch((err: unknown) => {
			// A store that failed under it (closed, disk full): the next commit tries again.
			this.lastError = (err as Error).message;
			if (this.active === run) this.active = undefined;
		});
	}

	/** Stops at once: a pending retry or an attempt in flight is abandoned, the cursor kept. */
	halt(): void {
		this.stop.abort();
	}

	/** After a reset: forget the event in hand, go on from the new cursor. */
	restart(cursor: number): void {
		this.stop.abort();
		this.stop = new AbortController();
		this.active = undefined;
		this.sub.cursor = cursor;
		this.wake();
	}

	private async run(run: object, signal: AbortSignal): Promise<void> {
		await pause(this.owner.settings.coalesceMs, signal);
		while (!signal.aborted) {
			const event = this.owner.nextEvent(this.sub.cursor);
			if (!event) break;
			await this.send(event, signal);
			if (signal.aborted) break;
			this.sub.cursor = event.lastSeq;
			this.owner.store.setSubscriptionCursor(this.sub.id, event.lastSeq);
		}
		// Synchronously after the last read: a commit after it wakes a new run.
		if (this.active === run) this.active = undefined;
	}

	/** Every attempt carries the same body and delivery id, a fresh timestamp and signature. */
	private async send(event: Event, signal: AbortSignal): Promise<void> {
		const { settings, counters } = this.owner;
		for (let attempt = 1; ; attempt++) {
			let wait: number | undefined;
			try {
				const timestamp = Math.floor(Date.now() / 1000);
				const res = await fetch(this.sub.url, {
					method: 'POST',
					headers: {
						'Content-Type': 'application/json',
						'User-Agent': `data-sync-demo-system/${this.owner.system}`,
						'X-Data-Sync-Delivery': event.id,
						'X-Data-Sync-Timestamp': String(timestamp),
						'X-Data-Sync-Signature': signEvent(this.sub.secret, timestamp, event.body),
					},
					body: event.body,
					redirect: 'manual',
					signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
				});
				await res.arrayBuffer().catch(() => undefined);
				if (res.status >= 200 && res.status < 300) {
					this.counters.delivered++;
					counters.delivered++;
					this.lastError = null;
					return;
				}
				this.lastError = `HTTP ${res.status}`;
				wait = retryAfterMs(res.headers.get('retry-after'));
			} catch (err) {
				if (signal.aborted) return;
				const cause = (err as { cause?: { code?: string } }).cause;
				this.lastError =
					(err as Error).name === 'TimeoutError'
						? `no answer within ${settings.timeoutMs} ms`
						: (cause?.code ?? (err as Error).message);
			}
			this.counters.failed++;
			counters.failed++;
			if (attempt >= settings.maxAttempts) {
				this.counters.dropped++;
				counters.dropped++;
				return;
			}
			const backoff = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** (attempt - 1));
			const jittered = backoff / 2 + Math.random() * (backoff / 2);
			await pause(Math.min(settings.retryMaxMs, Math.max(jittered, wait ?? 0)), signal);
			if (signal.aborted) return;
		}
	}
}

export class Deliveries {
	readonly store: SystemStore;
	readonly system: string;
	settings: DeliverySettings;
	readonly counters: DeliveryCounters = { delivered: 0, failed: 0, dropped: 0 };
	private readonly pumps = new Map<string, Pump>();

	constructor(store: SystemStore, system: string, settings: Partial<DeliverySettings> = {}) {
		this.store = store;
		this.system = system;
		this.settings = normalizeDelivery(settings, DEFAULT_DELIVERY);
		for (const sub of store.subscriptions()) this.pumps.set(sub.id, new Pump(this, sub));
		// Changes committed before a restart and not yet delivered go out now.
		this.wake();
	}

	/** After every commit (and at start): each pump sends what is new, in its own time. */
	wake(): void {
		for (const pump of this.pumps.values()) pump.wake();
	}

	/** The next event after `cursor`: its changes and the current records of their keys. */
	nextEvent(cursor: number): Event | undefined {
		const { changes } = this.store.changesSince(cursor, this.settings.maxChangesPerEvent);
		if (changes.length === 0) return undefined;
		const records = new Map<string, JsonObject>();
		for (const c of changes) if (c.record && !records.has(c.key)) records.set(c.key, c.record);
		const body = JSON.stringify({
			type: 'changes',
			system: this.system,
			changes: changes.map(
				({ seq, key, op, origin, at }): ChangeEntry => ({ seq, key, op, origin, at }),
			),
			records: [...records.values()],
		});
		return { id: randomUUID(), lastSeq: changes[changes.length - 1].seq, body };
	}

	subscribe(url: string, secret: string): Subscription {
		const sub = this.store.addSubscription(`sub_${randomUUID()}`, url, secret);
		this.pumps.set(sub.id, new Pump(this, sub));
		return sub;
	}

	unsubscribe(id: string): boolean {
		this.pumps.get(id)?.halt();
		this.pumps.delete(id);
		return this.store.deleteSubscription(id);
	}

	list(): SubscriptionView[] {
		return [...this.pumps.values()].map((p) => ({
			id: p.sub.id,
			url: p.sub.url,
			created_at: new Date(p.sub.createdMs).toISOString(),
			last_seq: p.sub.cursor,
			pending: this.store.countChangesAfter(p.sub.cursor),
			...p.counters,
			last_error: p.lastError,
		}));
	}

	stats(): DeliveryStats {
		let pending = 0;
		for (const p of this.pumps.values()) pending += this.store.countChangesAfter(p.sub.cursor);
		return { subscriptions: this.pumps.size, pending, ...this.counters };
	}

	/** After the store's reset: counters to 0, every pump from the end of the (empty) log. */
	reset(): void {
		this.counters.delivered = this.counters.failed = this.counters.dropped = 0;
		const head = this.store.lastSeq();
		for (const p of this.pumps.values()) {
			p.counters.delivered = p.counters.failed = p.counters.dropped = 0;
			p.lastError = null;
			p.restart(head);
		}
	}

	close(): void {
		for (const p of this.pumps.values()) p.halt();
	}
}
