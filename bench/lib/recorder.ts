/**
 * A recording HTTP proxy on loopback, and a bare client that replays what it recorded.
 *
 * Point a credential's Base URL at `recorder.url`: every request is forwarded to the system and
 * recorded (method, path and query, body, the headers that shape the request, answer status,
 * start and end). Authentication headers are not kept: the replay sends the system's own.
 * `replay` then sends the same requests with `fetch`, phase by phase with the concurrency the
 * recording showed, so a bare client does exactly the reads and writes n8n did.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { now } from './measure.ts';

/** Request headers that change what a system does; everything else (auth included) is left. */
const KEPT = [
	'content-type',
	'accept',
	'idempotency-key',
	'if-match',
	'if-none-match',
	'x-sync-origin',
];

export interface RecordedRequest {
	system: string;
	method: string;
	/** Path and query. */
	path: string;
	headers: Record<string, string>;
	body: Buffer;
	status: number;
	responseBytes: number;
	start: number;
	end: number;
}

export interface Recorder {
	url: string;
	requests: RecordedRequest[];
	close(): Promise<void>;
}

export async function recorder(system: string, targetUrl: string): Promise<Recorder> {
	const target = new URL(targetUrl);
	const agent = new http.Agent({ keepAlive: true });
	const requests: RecordedRequest[] = [];
	const server = http.createServer((req, res) => {
		const start = now();
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks);
			const headers: Record<string, string> = {};
			for (const [k, v] of Object.entries(req.headers))
				if (v !== undefined && k !== 'host' && k !== 'connection')
					headers[k] = Array.isArray(v) ? v.join(', ') : v;
			const send = (retried: boolean) => {
				const upstream = http.request(
					{
						host: target.hostname,
						port: target.port,
						method: req.method,
						path: req.url,
						headers: { ...headers, 'content-length': String(body.length) },
						agent,
					},
					(answer) => {
						const parts: Buffer[] = [];
						answer.on('data', (c: Buffer) => parts.push(c));
						answer.on('end', () => {
							const text = Buffer.concat(parts);
							const out: Record<string, string | string[]> = {};
							for (const [k, v] of Object.entries(answer.headers))
								if (v !== undefined && k !== 'connection' && k !== 'keep-alive') out[k] = v;
							res.writeHead(answer.statusCode ?? 502, out);
							res.end(text);
							requests.push({
								system,
								method: req.method ?? 'GET',
								path: req.url ?? '/',
								headers: Object.fromEntries(
									KEPT.filter((k) => headers[k] !== undefined).map((k) => [k, headers[k]]),
								),
								body,
								status: answer.statusCode ?? 0,
								responseBytes: text.length,
								start,
								end: now(),
							});
						});
					},
				);
				upstream.on('error', (error: NodeJS.ErrnoException) => {
					// A kept-alive socket the system closed as it was reused: the request never
					// reached the system, so it is sent once more on a fresh socket (as Node's docs
					// advise); any other error is answered with 502 and the error.
					if (!retried && upstream.reusedSocket && error.code === 'ECONNRESET') return send(true);
					res.writeHead(502);
					res.end(String(error));
				});
				upstream.end(body);
			};
			send(false);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		requests,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				agent.destroy();
				server.close(() => resolve());
			}),
	};
}

export interface Phase {
	requests: RecordedRequest[];
	/** Most requests in flight at once during the phase, as recorded. */
	concurrency: number;
}

/**
 * Splits a recording (every system's requests) into phases: a phase ends where nothing was in
 * flight, so what the nodes did one after the other stays sequential, and what overlapped is
 * sent with the most requests in flight the recording showed.
 */
export function phases(recorded: RecordedRequest[]): Phase[] {
	const sorted = [...recorded].sort((a, b) => a.start - b.start);
	const out: Phase[] = [];
	let current: RecordedRequest[] = [];
	let busyUntil = -Infinity;
	const close = () => {
		if (!current.length) return;
		const events = current.flatMap((r) => [
			{ t: r.start, d: 1 },
			{ t: r.end, d: -1 },
		]);
		events.sort((a, b) => a.t - b.t || a.d - b.d);
		let inFlight = 0;
		let most = 0;
		for (const e of events) most = Math.max(most, (inFlight += e.d));
		out.push({ requests: current, concurrency: most });
		current = [];
	};
	for (const r of sorted) {
		if (r.start >= busyUntil) close();
		current.push(r);
		busyUntil = Math.max(busyUntil, r.end);
	}
	close();
	return out;
}

/**
 * Sends the recorded requests again with fetch, phase after phase (each with its recorded
 * concurrency), to `urls[system]` with the system's own auth headers; reads and parses every
 * answer. Returns the time and this process's CPU, and how many answers differed in status.
 */
export async function replay(
	plan: Phase[],
	urls: Record<string, string>,
	auth: Record<string, Record<string, string>>,
): Promise<{ ms: number; cpuMs: number; requests: number; statusMismatches: number }> {
	let statusMismatches = 0;
	let requests = 0;
	const send = async (r: RecordedRequest) => {
		const res = await fetch(`${urls[r.system]}${r.path}`, {
			method: r.method,
			headers: { ...auth[r.system], ...r.headers },
			body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
		});
		const text = await res.text();
		if (text) JSON.parse(text);
		requests++;
		if (res.status !== r.status) statusMismatches++;
	};
	const cpu0 = process.cpuUsage();
	const t0 = now();
	for (const phase of plan) {
		let next = 0;
		const worker = async () => {
			while (next < phase.requests.length) await send(phase.requests[next++]);
		};
		await Promise.all(Array.from({ length: Math.max(1, phase.concurrency) }, worker));
	}
	const ms = now() - t0;
	const cpu = process.cpuUsage(cpu0);
	return { ms, cpuMs: (cpu.user + cpu.system) / 1000, requests, statusMismatches };
}
