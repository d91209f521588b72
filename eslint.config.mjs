import { config } from '@n8n/node-cli/eslint';

// nodes/ and credentials/ get n8n's community-node rules unchanged. Tests, demo systems and
// tooling run in plain Node (timers, process, n8n-core, axios), so only there are the
// cloud-runtime restrictions lifted.
export default [
	...config,
	{
		files: ['test/**/*.ts', 'demo/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
		rules: {
			'@n8n/community-nodes/no-restricted-globals': 'off',
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
			// Tests and the demo start real processes (demo systems, n8n); nodes never may.
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
			],
			'import-x/no-unresolved': 'off',
			// Benchmarks, the demo and some tests print figures.
			'no-console': 'off',
		},
	},
];
