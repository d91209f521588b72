/**
 * Starts the three demo systems, each in its own process with its own SQLite file, and keeps
 * them up until SIGINT/SIGTERM.
 *
 *   node demo/systems/start.ts [--config demo/systems/systems.json] [--data-dir .data/systems]
 *     [--base-port 5701] [--seed-demo] [--latency-ms N] [--error-rate X] [--throttle-rate X]
 *     [--retry-after-seconds N] [--reset-rate X] [--slow-rate X] [--slow-ms N]
 *     [--fail-after-commit-rate X] [--fault-seed N]
 *
 * Fault switches can also come from the environment (SYSTEMS_LATENCY_MS, SYSTEMS_ERROR_RATE,
 * SYSTEMS_THROTTLE_RATE, SYSTEMS_RETRY_AFTER_SECONDS, SYSTEMS_RESET_RATE, SYSTEMS_SLOW_RATE,
 * SYSTEMS_SLOW_MS, SYSTEMS_FAIL_AFTER_COMMIT_RATE, SYSTEMS_FAULT_SEED); flags win over env, env
 * wins over a system's "faults" in the config file. They apply to every system.
 *
 * stdout: one line per system, `system_a http://127.0.0.1:5701 (apiKey)`; other messages go to
 * stderr. Secrets are never printed.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import type { AuthConfig, FaultSettings, SystemServerOptions } from './server.ts';

interface SystemConfig {
	name: string;
	port?: number;
	auth?: AuthConfig;
	faults?: Partial<FaultSettings>;
}

interface Running {
	name: string;
	child: ChildProcess;
	url: string;
	auth: AuthConfig;
}

// process.argv[1] is this file: works whether Node runs it as ESM or CommonJS.
const HERE = path.dirname(path.resolve(process.argv[1] ?? 'demo/systems/start.ts'));

const FAULT_FLAGS: Array<[flag: string, env: string, key: keyof FaultSettings]> = [
	['latency-ms', 'SYSTEMS_LATENCY_MS', 'latencyMs'],
	['error-rate', 'SYSTEMS_ERROR_RATE', 'errorRate'],
	['throttle-rate', 'SYSTEMS_THROTTLE_RATE', 'throttleRate'],
	['retry-after-seconds', 'SYSTEMS_RETRY_AFTER_SECONDS', 'retryAfterSeconds'],
	['reset-rate', 'SYSTEMS_RESET_RATE', 'resetRate'],
	['slow-rate', 'SYSTEMS_SLOW_RATE', 'slowRate'],
	['slow-ms', 'SYSTEMS_SLOW_MS', 'slowMs'],
	['fail-after-commit-rate', 'SYSTEMS_FAIL_AFTER_COMMIT_RATE', 'failAfterCommitRate'],
	['fault-seed', 'SYSTEMS_FAULT_SEED', 'seed'],
];

function fail(message: string): never {
	process.stderr.write(`[systems] ${message}\n`);
	process.exit(1);
}

function parseCli() {
	const options: Record<string, { type: 'string' | 'boolean' }> = {
		config: { type: 'string' },
		'data-dir': { type: 'string' },
		'base-port': { type: 'string' },
		'seed-demo': { type: 'boolean' },
		help: { type: 'boolean' },
	};
	for (const [flag] of FAULT_FLAGS) options[flag] = { type: 'string' };
	try {
		return parseArgs({ options, allowPositionals: false }).values as Record<
			string,
			string | boolean | undefined
		>;
	} catch (err) {
		return fail(`${(err as Error).message} (see --help)`);
	}
}

function faultsFromFlags(
	values: Record<string, string | boolean | undefined>,
): Partial<FaultSettings> {
	const out: Partial<FaultSettings> = {};
	for (const [flag, env, key] of FAULT_FLAGS) {
		const raw = values[flag] ?? process.env[env];
		if (raw === undefined || raw === '') continue;
		const n = Number(raw);
		if (!Number.isFinite(n) || n < 0) fail(`--${flag} / ${env} must be a number >= 0`);
		out[key] = n;
	}
	return out;
}

function startChild(options: SystemServerOptions): Promise<{ child: ChildProcess; url: string }> {
	const child = fork(path.join(HERE, 'system-process.ts'), [], {
		execArgv: ['--disable-warning=ExperimentalWarning'],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	return new Promise((resolve, reject) => {
		const onExit = (code: number | null) =>
			reject(new Error(`${options.name} exited before listening (code ${code})`));
		child.once('exit', onExit);
		child.on('message', (raw: unknown) => {
			const msg = raw as { type?: string; url?: string; message?: string };
			if (msg.type === 'listening' && msg.url) {
				child.off('exit', onExit);
				resolve({ child, url: msg.url });
			} else if (msg.type === 'error') {
				child.off('exit', onExit);
				reject(new Error(`${options.name}: ${msg.message}`));
			}
		});
		child.send({ type: 'start', options });
	});
}

async function admin(url: string, pathName: string, body: unknown): Promise<unknown> {
	const res = await fetch(`${url}${pathName}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify(body),
	});
	if (!res.ok) throw new Error(`${pathName} -> ${res.status} ${await res.text()}`);
	return res.json();
}

async function main(): Promise<void> {
	const values = parseCli();
	if (values.help) {
		process.stdout.write(
			[
				'usage: node demo/systems/start.ts [--config FILE] [--data-dir DIR] [--base-port N] [--seed-demo]',
				'         [--latency-ms N] [--error-rate X] [--throttle-rate X] [--retry-after-seconds N]',
				'         [--reset-rate X] [--slow-rate X] [--slow-ms N] [--fail-after-commit-rate X] [--fault-seed N]',
				'',
			].join('\n'),
		);
		return;
	}
	const configFile = path.resolve(
		(values.config as string | undefined) ?? path.join(HERE, 'systems.json'),
	);
	let config: { systems?: SystemConfig[] };
	try {
		config = JSON.parse(readFileSync(configFile, 'utf8')) as { systems?: SystemConfig[] };
	} catch (err) {
		return fail(`cannot read ${configFile}: ${(err as Error).message}`);
	}
	const systems = config.systems ?? [];
	if (systems.length === 0) fail(`${configFile} lists no systems`);

	const dataDir = path.resolve(
		(values['data-dir'] as string | undefined) ?? path.join('.data', 'systems'),
	);
	let basePort: number | undefined;
	if (values['base-port'] !== undefined) {
		basePort = Number(values['base-port']);
		if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65535)
			fail('--base-port must be a port number');
	}
	const cliFaults = faultsFromFlags(values);

	const running: Running[] = [];
	let stopping = false;
	const stopAll = async (code: number) => {
		if (stopping) return;
		stopping = true;
		await Promise.all(
			running.map(
				(r) =>
					new Promise<void>((resolve) => {
						if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
						const timer = setTimeout(() => r.child.kill('SIGKILL'), 5000);
						r.child.once('exit', () => {
							clearTimeout(timer);
							resolve();
						});
						r.child.kill('SIGTERM');
					}),
			),
		);
		process.exit(code);
	};
	process.on('SIGINT', () => void stopAll(0));
	process.on('SIGTERM', () => void stopAll(0));

	try {
		for (const [i, sys] of systems.entries()) {
			const auth: AuthConfig = sys.auth ?? { type: 'none' };
			const faults: Partial<FaultSettings> = { seed: i + 1, ...(sys.faults ?? {}), ...cliFaults };
			// One PRNG stream per system: the same --fault-seed must not fault all three in lockstep.
			if (cliFaults.seed !== undefined) faults.seed = cliFaults.seed + i;
			const port = basePort !== undefined ? (basePort === 0 ? 0 : basePort + i) : (sys.port ?? 0);
			const { child, url } = await startChild({ name: sys.name, port, dataDir, auth, faults });
			running.push({ name: sys.name, child, url, auth });
			child.on('exit', (code, signal) => {
				if (stopping) return;
				// code 0: it was asked to stop (e.g. Ctrl+C reaches the whole process group).
				if (code !== 0) {
					process.stderr.write(
						`[systems] ${sys.name} stopped unexpectedly (${signal ?? code}); stopping all\n`,
					);
				}
				void stopAll(code === 0 ? 0 : 1);
			});
		}

		if (values['seed-demo']) {
			const seedFile = path.join(HERE, 'seed.json');
			const seed = JSON.parse(readFileSync(seedFile, 'utf8')) as Record<string, unknown>;
			for (const r of running) {
				const records = seed[r.name];
				if (!Array.isArray(records)) continue;
				await admin(r.url, '/_admin/reset', {});
				await admin(r.url, '/_admin/seed', { records });
			}
			process.stderr.write(
				`[systems] --seed-demo: stores wiped and loaded from ${path.relative(process.cwd(), seedFile)}\n`,
			);
		}
	} catch (err) {
		process.stderr.write(`[systems] ${(err as Error).message}\n`);
		await stopAll(1);
		return;
	}

	for (const r of running) process.stdout.write(`${r.name} ${r.url} (${r.auth.type})\n`);
	process.stderr.write(`[systems] data in ${dataDir}; Ctrl+C stops all\n`);
}

void main();
