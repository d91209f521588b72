import { N8N_DIR, N8N_VERSION, n8nInstalled } from './n8n';

/**
 * `describe` for tests that need a real n8n, and whatever else `missing` names: skipped, saying
 * why, when something is missing, unless E2E_REQUIRED=1 (npm test) makes that a failure.
 */
export function describeWithN8n(label: string, missing: string[] = []): typeof describe {
	const why = [
		...(n8nInstalled()
			? []
			: [
					`n8n ${N8N_VERSION} is not installed in ${N8N_DIR} (run scripts/n8n/install.sh, or npm test does it)`,
				]),
		...missing,
	];
	if (why.length === 0 || process.env.E2E_REQUIRED === '1') return describe;
	console.log(`SKIPPED ${label}: ${why.join('; ')}`);
	return describe.skip;
}
