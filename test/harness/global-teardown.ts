import { rmSync } from 'node:fs';

/** Jest globalTeardown: removes the temp N8N_USER_FOLDER made by global-setup.ts. */
export default function globalTeardown(): void {
	const dir = process.env.N8N_HARNESS_REMOVE_USER_FOLDER;
	if (dir) rmSync(dir, { recursive: true, force: true });
}
