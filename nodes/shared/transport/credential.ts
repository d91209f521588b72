import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

/**
 * One system reached over HTTP. The same fields serve every slot credential type, so that one
 * node can hold several systems, each with its own secret (n8n allows one credential per type
 * per node).
 */
export const systemProperties: INodeProperties[] = [
	{
		displayName: 'System Name',
		name: 'systemName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. system_b',
		description:
			'The name this system has in the sync data (source_system, target_systems) and in the node parameters',
	},
	{
		displayName: 'Base URL',
		name: 'baseUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. http://127.0.0.1:5702',
		description: 'Every request for this system goes under this URL, and its secret only there',
	},
	{
		displayName: 'Authentication',
		name: 'authType',
		type: 'options',
		default: 'apiKey',
		options: [
			{ name: 'API Key Header', value: 'apiKey' },
			{ name: 'Basic Auth', value: 'basic' },
			{ name: 'Bearer Token', value: 'bearer' },
			{ name: 'None', value: 'none' },
		],
	},
	{
		displayName: 'Header Name',
		name: 'headerName',
		type: 'string',
		default: 'X-API-Key',
		displayOptions: { show: { authType: ['apiKey'] } },
	},
	{
		displayName: 'API Key',
		name: 'apiKey',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		displayOptions: { show: { authType: ['apiKey'] } },
	},
	{
		displayName: 'Token',
		name: 'token',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		displayOptions: { show: { authType: ['bearer'] } },
	},
	{
		displayName: 'Username',
		name: 'username',
		type: 'string',
		default: '',
		displayOptions: { show: { authType: ['basic'] } },
	},
	{
		displayName: 'Password',
		name: 'password',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		displayOptions: { show: { authType: ['basic'] } },
	},
	{
		displayName: 'Records Path',
		name: 'recordsPath',
		type: 'string',
		default: '/records',
		description:
			'Path of the record collection: GET lists (paged), GET/PUT/DELETE {path}/{key} read and write one record',
	},
	{
		displayName: 'Lookup Path',
		name: 'lookupPath',
		type: 'string',
		default: '/records/lookup',
		description: 'POST {"keys": [...]} returns those records. Leave empty to read one by one.',
	},
	{
		displayName: 'Batch Path',
		name: 'batchPath',
		type: 'string',
		default: '/records/batch',
		description:
			'POST {"operations": [...]} writes many records in one request. Leave empty if the system has no batch endpoint.',
	},
	{
		displayName: 'Range Checksum Path',
		name: 'checksumPath',
		type: 'string',
		default: '/records/checksums',
		description:
			'POST {"ranges": [...], "segments": n} returns the count and content hash of the records in key ranges: Sync Validate compares every record by bisection through it. Leave empty if the system has none (then it reads every record).',
	},
	{
		displayName: 'Response Data Path',
		name: 'dataPath',
		type: 'string',
		default: 'data',
		description: 'Where the records are in a list or lookup response',
	},
	{
		displayName: 'Next Cursor Path',
		name: 'nextCursorPath',
		type: 'string',
		default: 'next_cursor',
		description:
			'Where a list response holds the cursor of the next page (empty or null on the last)',
	},
	{
		displayName: 'Page Size',
		name: 'pageSize',
		type: 'number',
		default: 500,
		typeOptions: { minValue: 1 },
	},
];

/** The secret-bearing headers or auth for a request to this system, and only to its base URL. */
export async function authenticateSystem(
	credentials: ICredentialDataDecryptedObject,
	requestOptions: IHttpRequestOptions,
): Promise<IHttpRequestOptions> {
	const base = String(credentials.baseUrl ?? '').replace(/\/+$/, '');
	const target = `${requestOptions.baseURL ?? ''}${requestOptions.url}`;
	// A secret goes nowhere but its own system, whatever URL a caller builds.
	if (
		!base ||
		!(target === base || target.startsWith(`${base}/`) || target.startsWith(`${base}?`))
	) {
		throw new Error(
			`refused to send the credential of "${String(credentials.systemName)}" outside its base URL`,
		);
	}
	const headers = { ...(requestOptions.headers ?? {}) };
	switch (credentials.authType) {
		case 'apiKey':
			headers[String(credentials.headerName || 'X-API-Key')] = String(credentials.apiKey ?? '');
			break;
		case 'bearer':
			headers.Authorization = `Bearer ${String(credentials.token ?? '')}`;
			break;
		case 'basic':
			return {
				...requestOptions,
				headers,
				auth: {
					username: String(credentials.username ?? ''),
					password: String(credentials.password ?? ''),
				},
			};
	}
	return { ...requestOptions, headers };
}

/** Lists one record: proves the URL, the auth and the records path at once. */
export const systemTest: ICredentialTestRequest = {
	request: {
		baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
		url: '={{$credentials.recordsPath}}',
		qs: { limit: 1 },
	},
};

/** Everything a system slot credential has but its name: the slots differ only in that. */
export abstract class SystemCredential implements ICredentialType {
	abstract name: string;

	abstract displayName: string;

	icon = {
		light: 'file:../nodes/MultiTargetSync/multiTargetSync.svg',
		dark: 'file:../nodes/MultiTargetSync/multiTargetSync.dark.svg',
	} as const;

	documentationUrl = 'https://www.npmjs.com/package/n8n-nodes-data-sync#systems-over-http';

	properties: INodeProperties[] = systemProperties;

	authenticate: IAuthenticate = authenticateSystem;

	test: ICredentialTestRequest = systemTest;
}
