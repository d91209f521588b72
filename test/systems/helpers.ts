/**
 * Starts the demo systems (demo/systems) as real child processes for tests and benchmarks:
 * one process and one SQLite file per system, each on a free port (the child reports its port
 * over IPC), with the auth of demo/systems/systems.json.
 *
 *   const sys = await startSystems({ names: ['system_a'], faults: { errorRate: 1 } });
 *   afterAll(() => sys.stop());
 *   await fetch(`${sys.systems.system_a.url}/records`, { headers: sys.systems.system_a.headers });
 *
 * stop() always ends the children; the children also stop by themselves when this process goes
 * away (IPC disconnect), so a crashed test run leaves nothing behind.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { DeliverySettings } from '../../demo/systems/deliveries.ts';
import type { AuthConfig, FaultSettings, SystemStats } from '../../demo/systems/server.ts';

export type { AuthConfig, DeliverySettings, FaultSettings, SystemStats };

export const SYSTEMS_DIR = path.resolve(__dirname, '../../demo/systems');
const SYSTEM_PROCESS = path.join(SYSTEMS_DIR, 'system-process.ts');

export type SystemName = 'system_a' | 'system_b' | 'system_c';

export interface RunningSystem {
	name: string;
	url: string;
	port: number;
	auth: AuthConfig;
	/** Request headers that authenticate against this system. */
	headers: Record<string, string>;
	dbFile: string;
}

export interface StartedSystems {
	systems: Record<string, RunningSystem>;
	dataDir: string;
	stats(name: string): Promise<SystemStats>;
	setFaults(name: string, faults: Partial<FaultSettings>): Promise<FaultSettings>;
	/** Outbound events: retries, timeout, coalescing (POST /_admin/delivery). */
	setDelivery(name: string, settings: Partial<DeliverySettings>): Promise<DeliverySettings>;
	/** POST /_admin/subscriptions: the new subscription's id. */
	subscribe(name: string, url: string, secret: string): Promise<string>;
	unsubscribe(name: string, id: string): Promise<void>;
	/** Every change after `since`, page by page (GET /records/changes). */
	changes(name: string, since?: number): Promise<FeedChange[]>;
	/** Wipes every system's records, idempotency keys and stats, and turns faults off. */
	reset(): Promise<void>;
	stop(): Promise<void>;
}

export interface StartSystemsOptions {
	names?: string[];
	faults?: Partial<FaultSettings>;
	/** Reuse a data dir (e.g. to restart on the same data). Default: a fresh temp dir, removed by stop(). */
	dataDir?: string;
	/** Default: demo/systems/systems.json (for the auth of each system). */
	configFile?: string;
	/** Outbound change events (default: deliveries.ts DEFAULT_DELIVERY). */
	delivery?: Partial<DeliverySettings>;
}

/** One entry of GET /records/changes. */
export interface FeedChange {
	seq: number;
	key: string;
	op: 'upsert' | 'delete';
	origin: string | null;
	at: string;
	record: Record<string, unknown> | null;
}

interface SystemConfig {
	name: string;
	auth?: AuthConfig;
}

/** A customer record as the sync tests seed and send it; `fields` overrides or adds fields. */
export const customer = <T extends object = Record<string, never>>(id: string, fields?: T) => ({
	id,
	name: `Customer ${id}`,
	email: `${id}@example.com`,
	tier: 'silver',
	balance: 10,
	...fields,
});

/** A request through a running system's own API with its own auth, as a client or person sends it. */
export async function systemApi(
	system: RunningSystem,
	method: string,
	path: string,
	body?: unknown,
): Promise<Record<string, unknown>> {
	const res = await fetch(`${system.url}${path}`, {
		method,
		headers: {
			...system.headers,
			...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
		},
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

export function authHeaders(auth: AuthConfig): Record<string, string> {
	switch (auth.type) {
		case 'apiKey':
			return { [auth.header ?? 'X-API-Key']: auth.value };
		case 'bearer':
			return { Authorization: `Bearer ${auth.token}` };
		case 'basic':
			return {
				Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
			};
		default:
			return {};
	}
}

export function loadSystemsConfig(
	configFile = path.join(SYSTEMS_DIR, 'systems.json'),
): SystemConfig[] {
	return (JSON.parse(readFileSync(configFile, 'utf8')) as { systems: SystemConfig[] }).systems;
}

function spawnSystem(
	name: string,
	dataDir: string,
	auth: AuthConfig,
	faults: Partial<FaultSettings>,
	delivery?: Partial<DeliverySettings>,
): Promise<{ child: ChildProcess; url: string; port: number }> {
	const child = fork(SYSTEM_PROCESS, [], {
		execPath: process.execPath,
		execArgv: ['--disable-warning=ExperimentalWarning'],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`${name} did not start within 10 s`));
		}, 10000);
		const onExit = (code: number | null, signal: string | null) => {
			clearTimeout(timer);
			reject(new Error(`${name} exited before listening (${signal ?? code})`));
		};
		child.once('exit', onExit);
		child.on('message', (raw: unknown) => {
			const msg = raw as { type?: string; url?: string; port?: number; message?: string };
			if (msg.type === 'listening' && msg.url && msg.port) {
				clearTimeout(timer);
				child.off('exit', onExit);
				resolve({ child, url: msg.url, port: msg.port });
			} else if (msg.type === 'error') {
				clearTimeout(timer);
				child.off('exit', onExit);
				reject(new Error(`${name}: ${msg.message}`));
			}
		});
		child.send({ type: 'start', options: { name, port: 0, dataDir, auth, faults, delivery } });
	});
}

async function waitHealthy(url: string): Promise<void> {
	const deadline = Date.now() + 10000;
	for (;;) {
		try {
			const res = await fetch(`${url}/health`);
			if (res.ok) return;
		} catch {
			// not yet
		}
		if (Date.now() > deadline) throw new Error(`${url}/health did not answer`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

function stopChild(child: ChildProcess): Promise<void> {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve();
		const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
		child.once('exit', () => {
			clearTimeout(timer);
			resolve();
		});
		child.kill('SIGTERM');
	});
}

async function adminCall(
	url: string,
	pathName: string,
	method: string,
	body?: unknown,
): Promise<unknown> {
	const res = await fetch(`${url}${pathName}`, {
		method,
		headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`${method} ${pathName} -> ${res.status} ${text}`);
	return JSON.parse(text) as unknown;
}

export async function startSystems(options: StartSystemsOptions = {}): Promise<StartedSystems> {
	const config = loadSystemsConfig(options.configFile);
	const names = options.names ?? config.map((s) => s.name);
	const ownDir = options.dataDir === undefined;
	const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'data-sync-systems-'));
	const children = new Map<string, ChildProcess>();
	const systems: Record<string, RunningSystem> = {};

	const stop = async () => {
		await Promise.all([...children.values()].map(stopChild));
		children.clear();
		if (ownDir) rmSync(dataDir, { recursive: true, force: true });
	};

	try {
		await Promise.all(
			names.map(async (name, i) => {
				const cfg = config.find((s) => s.name === name);
				if (!cfg) throw new Error(`unknown system ${name} (not in systems.json)`);
				const auth = cfg.auth ?? { type: 'none' };
				const { child, url, port } = await spawnSystem(
					name,
					dataDir,
					auth,
					{ seed: i + 1, ...(options.faults ?? {}) },
					options.delivery,
				);
				children.set(name, child);
				// Do not keep the test process alive for the children: a forgotten stop() still
				// lets jest exit, and the children then stop on the IPC disconnect.
				child.unref();
				child.channel?.unref();
				systems[name] = {
					name,
					url,
					port,
					auth,
					headers: authHeaders(auth),
					dbFile: path.join(dataDir, `${name}.sqlite`),
				};
				await waitHealthy(url);
			}),
		);
	} catch (err) {
		await stop();
		throw err;
	}

	const urlOf = (name: string): string => {
		const s = systems[name];
		if (!s) throw new Error(`system ${name} is not running`);
		return s.url;
	};

	return {
		systems,
		dataDir,
		stats: async (name) => (await adminCall(urlOf(name), '/_admin/stats', 'GET')) as SystemStats,
		setFaults: async (name, faults) =>
			(await adminCall(urlOf(name), '/_admin/faults', 'POST', faults)) as FaultSettings,
		setDelivery: async (name, settings) =>
			(await adminCall(urlOf(name), '/_admin/delivery', 'POST', settings)) as DeliverySettings,
		subscribe: async (name, url, secret) =>
			(
				(await adminCall(urlOf(name), '/_admin/subscriptions', 'POST', { url, secret })) as {
					id: string;
				}
			).id,
		unsubscribe: async (name, id) => {
			await adminCall(urlOf(name), `/_admin/subscriptions/${encodeURIComponent(id)}`, 'DELETE');
		},
		changes: async (name, since = 0) => {
			const s = systems[name];
			const out: FeedChange[] = [];
			for (let cursor = since; ; ) {
				const res = await fetch(`${urlOf(name)}/records/changes?since=${cursor}`, {
					headers: s.headers,
				});
				if (!res.ok) throw new Error(`changes ${name} -> ${res.status} ${await res.text()}`);
				const page = (await res.json()) as {
					changes: FeedChange[];
					last_seq: number;
					has_more: boolean;
				};
				out.push(...page.changes);
				cursor = page.last_seq;
				if (!page.has_more) return out;
			}
		},
		reset: async () => {
			await Promise.all(
				Object.values(systems).map(async (s) => {
					await adminCall(s.url, '/_admin/faults', 'POST', {
						latencyMs: 0,
						errorRate: 0,
						throttleRate: 0,
						resetRate: 0,
						slowRate: 0,
						failAfterCommitRate: 0,
					});
					await adminCall(s.url, '/_admin/reset', 'POST', {});
				}),
			);
		},
		stop,
	};
}

/** One outbound event as a receiver got it. */
export interface ReceivedEvent {
	headers: IncomingHttpHeaders;
	/** The body exactly as sent: the signature covers these bytes. */
	raw: string;
	body: {
		type: string;
		system: string;
		changes: Array<Omit<FeedChange, 'record'>>;
		records: Array<Record<string, unknown>>;
	};
	/** When it arrived (Date.now()). */
	at: number;
}

export interface EventReceiver {
	url: string;
	/** Every request, in arrival order (failed attempts included). */
	received: ReceivedEvent[];
	/** Events answered 2xx, in arrival order. */
	accepted: ReceivedEvent[];
	/**
	 * How to answer the next request: a status (default 200), or 'hang' (never answer). Called
	 * with the request; may return a promise (to hold the answer).
	 */
	answer: (event: ReceivedEvent) => number | 'hang' | Promise<number | 'hang'>;
	/** Resolves once `accepted` satisfies the predicate (polls; rejects after timeoutMs). */
	waitFor(predicate: (accepted: ReceivedEvent[]) => boolean, timeoutMs?: number): Promise<void>;
	/** Resolves once at least n requests arrived, answered or not. */
	waitForRequests(n: number, timeoutMs?: number): Promise<void>;
	close(): Promise<void>;
}

/**
 * A subscriber on a free loopback port for the systems' outbound events: keeps every request
 * and answers as `answer` says (200 unless told otherwise).
 */
export async function startReceiver(): Promise<EventReceiver> {
	const receiver = {
		received: [] as ReceivedEvent[],
		accepted: [] as ReceivedEvent[],
		answer: (() => 200) as EventReceiver['answer'],
	};
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const raw = Buffer.concat(chunks).toString('utf8');
			const event: ReceivedEvent = {
				headers: req.headers,
				raw,
				body: JSON.parse(raw) as ReceivedEvent['body'],
				at: Date.now(),
			};
			receiver.received.push(event);
			void Promise.resolve(receiver.answer(event)).then((status) => {
				if (status === 'hang') return;
				if (status >= 200 && status < 300) receiver.accepted.push(event);
				res.writeHead(status, { 'Content-Type': 'application/json' });
				res.end('{}');
			});
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	const until = async (done: () => boolean, timeoutMs: number) => {
		const deadline = Date.now() + timeoutMs;
		while (!done()) {
			if (Date.now() > deadline) {
				throw new Error(
					`receiver: condition not met within ${timeoutMs} ms (${receiver.received.length} requests, ${receiver.accepted.length} accepted)`,
				);
			}
			await new Promise((r) => setTimeout(r, 20));
		}
	};
	return Object.assign(receiver, {
		url: `http://127.0.0.1:${port}/hook`,
		waitFor: (predicate: (accepted: ReceivedEvent[]) => boolean, timeoutMs = 10000) =>
			until(() => predicate(receiver.accepted), timeoutMs),
		waitForRequests: (n: number, timeoutMs = 10000) =>
			until(() => receiver.received.length >= n, timeoutMs),
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	});
}

/**
 * Checks an event's signature as a subscriber should: v1=<hex HMAC-SHA256(secret,
 * "<timestamp>.<raw body>")>, compared in constant time.
 */
export function signatureValid(event: ReceivedEvent, secret: string): boolean {
	const timestamp = String(event.headers['x-data-sync-timestamp'] ?? '');
	const given = String(event.headers['x-data-sync-signature'] ?? '');
	const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${event.raw}`).digest('hex')}`;
	return (
		given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))
	);
}
