/**
 * Process environment for running n8n-core in-process.
 *
 * This module must be loaded BEFORE anything reads n8n's configuration: n8n-core (through
 * `@n8n/config`'s `getN8nFolder()`) falls back to `$HOME/.n8n` when `N8N_USER_FOLDER` is unset
 * and writes a config file / encryption key there. `test/harness/index.ts` imports it first,
 * and `jest.config.js` also lists it in `setupFiles` so it runs before every test file,
 * whatever that file imports first.
 *
 * Only sets variables that are still unset, so a caller can override any of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function setDefault(name: string, value: string): void {
	if (process.env[name] === undefined || process.env[name] === '') process.env[name] = value;
}

if (!process.env.N8N_USER_FOLDER) {
	const dir = mkdtempSync(path.join(tmpdir(), 'n8n-data-sync-harness-'));
	process.env.N8N_USER_FOLDER = dir;
	// Best effort: remove it when this (worker) process exits.
	process.once('exit', () => {
		try {
			rmSync(dir, { recursive: true, force: true });
		} catch {
			// ignore
		}
	});
}

// Keep n8n quiet and offline; none of these change how the engine runs a workflow.
setDefault('N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS', 'false');
setDefault('N8N_DIAGNOSTICS_ENABLED', 'false');
setDefault('N8N_VERSION_NOTIFICATIONS_ENABLED', 'false');
// A fixed key: n8n-core would otherwise generate one and persist it in the user folder.
setDefault('N8N_ENCRYPTION_KEY', 'n8n-nodes-data-sync-test-harness-key');
// Keep engine log output (LoggerProxy / Logger) out of test output unless asked for.
setDefault('N8N_LOG_LEVEL', 'silent');

export const harnessUserFolder: string = process.env.N8N_USER_FOLDER as string;
