/**
 * One demo system as its own process. Started by start.ts (or test/systems/helpers.ts) with
 * child_process.fork, which gives it an IPC channel:
 *
 *   parent -> child  { type: 'start', options: SystemServerOptions }
 *   child -> parent  { type: 'listening', name, url, port }   or   { type: 'error', message }
 *
 * Options travel over IPC rather than argv/env so that secrets do not show up in `ps`.
 * Stops on SIGINT/SIGTERM, or when the parent goes away (IPC disconnect).
 */
import { createSystemServer } from './server.ts';
import type { SystemServer, SystemServerOptions } from './server.ts';

interface StartMessage {
	type: 'start';
	options: SystemServerOptions;
}

if (typeof process.send !== 'function') {
	process.stderr.write(
		'system-process.ts runs under start.ts (needs an IPC channel): node demo/systems/start.ts\n',
	);
	process.exit(2);
}

let system: SystemServer | undefined;
let stopping = false;

function reply(message: unknown): void {
	if (process.connected && process.send) process.send(message);
}

async function stop(code: number): Promise<void> {
	if (stopping) return;
	stopping = true;
	try {
		await system?.close();
	} finally {
		process.exit(code);
	}
}

process.on('message', (raw: unknown) => {
	const msg = raw as StartMessage;
	if (!msg || msg.type !== 'start' || system) return;
	createSystemServer(msg.options).then(
		(s) => {
			system = s;
			reply({ type: 'listening', name: s.name, url: s.url, port: s.port });
		},
		(err: unknown) => {
			reply({ type: 'error', message: (err as Error).message ?? String(err) });
			setTimeout(() => process.exit(1), 50);
		},
	);
});

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('disconnect', () => void stop(0));
