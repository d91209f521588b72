/**
 * How a demo system appears to n8n: the data of a Data Sync System credential as a user would
 * enter it, and the slot each demo system takes. One place for the demo, the tests and the
 * benchmarks.
 */
import type { AuthConfig } from './server.ts';

/** Slot credential type and import id per demo system. */
export const DEMO_SLOTS: Record<string, { type: string; id: string }> = {
	system_a: { type: 'dataSyncSystemApi', id: 'dsSystemA' },
	system_b: { type: 'dataSyncSystem2Api', id: 'dsSystemB' },
	system_c: { type: 'dataSyncSystem3Api', id: 'dsSystemC' },
};

export function credentialData(
	name: string,
	baseUrl: string,
	auth: AuthConfig,
): Record<string, string> {
	const base = { systemName: name, baseUrl };
	if (auth.type === 'apiKey')
		return {
			...base,
			authType: 'apiKey',
			headerName: auth.header ?? 'X-API-Key',
			apiKey: auth.value,
		};
	if (auth.type === 'bearer') return { ...base, authType: 'bearer', token: auth.token };
	if (auth.type === 'basic')
		return { ...base, authType: 'basic', username: auth.username, password: auth.password };
	return { ...base, authType: 'none' };
}

/** The credentials for `n8n import:credentials`, one per demo system in its slot. */
export function demoCredentials(systems: Array<{ name: string; url: string; auth: AuthConfig }>) {
	return systems
		.filter((s) => DEMO_SLOTS[s.name])
		.map((s) => ({
			id: DEMO_SLOTS[s.name].id,
			name: `Demo ${s.name}`,
			type: DEMO_SLOTS[s.name].type,
			data: credentialData(s.name, s.url, s.auth),
		}));
}
