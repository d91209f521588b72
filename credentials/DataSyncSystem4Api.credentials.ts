import type {
	IAuthenticate,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { authenticateSystem, systemProperties, systemTest } from './systemCredential';

export class DataSyncSystem4Api implements ICredentialType {
	name = 'dataSyncSystem4Api';

	displayName = 'Data Sync 4th System API';

	icon = {
		light: 'file:../nodes/MultiTargetSync/multiTargetSync.svg',
		dark: 'file:../nodes/MultiTargetSync/multiTargetSync.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/n8n-nodes-data-sync/n8n-nodes-data-sync#systems-over-http';

	properties: INodeProperties[] = systemProperties;

	authenticate: IAuthenticate = authenticateSystem;

	test: ICredentialTestRequest = systemTest;
}
