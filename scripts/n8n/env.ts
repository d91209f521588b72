/**
 * The environment of a local n8n process (the demo's and the e2e tests'): the parent's environment
 * without n8n settings of its own (the in-process test harness sets N8N_USER_FOLDER,
 * N8N_LOG_LEVEL...), plus the offline and quiet switches from N8N-RUNTIME.md, on 127.0.0.1.
 */
export function n8nEnv(options: {
	userFolder: string;
	port: number;
	encryptionKey: string;
	extra?: NodeJS.ProcessEnv;
}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [name, value] of Object.entries(process.env)) {
		if (/^(N8N_|DB_|EXECUTIONS_|QUEUE_|NODE_OPTIONS$|NODE_ENV$)/.test(name)) continue;
		env[name] = value;
	}
	const { userFolder, port, encryptionKey } = options;
	return {
		...env,
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: encryptionKey,
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_HOST: '127.0.0.1',
		N8N_PORT: String(port),
		N8N_RUNNERS_BROKER_PORT: String(port + 1),
		N8N_WEBHOOK_URL: `http://127.0.0.1:${port}/`,
		N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}/`,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_DISABLED_MODULES: 'mcp-registry',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_SECURE_COOKIE: 'false',
		// n8n 2.41 warns that this default will become false; this package is unverified.
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		...options.extra,
	};
}
