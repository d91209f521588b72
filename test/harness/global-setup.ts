/**
 * Jest globalSetup: one temp N8N_USER_FOLDER for the whole run, created in the parent process
 * before any worker starts (workers inherit the environment), removed by global-teardown.ts.
 * n8n-core writes `<N8N_USER_FOLDER>/.n8n/config` the first time it builds InstanceSettings.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function globalSetup(): void {
	if (process.env.N8N_USER_FOLDER) return; // caller chose one: leave it alone
	const dir = mkdtempSync(path.join(tmpdir(), 'n8n-data-sync-harness-'));
	process.env.N8N_USER_FOLDER = dir;
	process.env.N8N_HARNESS_REMOVE_USER_FOLDER = dir;
}
