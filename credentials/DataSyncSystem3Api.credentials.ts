import type {
	IAuthenticate,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

import { authenticateSystem, systemProperties, systemTest } from './systemCredential';

export class DataSyncSystem3Api implements ICredentialType {
	name = 'dataSyncSystem3Api';

	displayName = 'Data Sync 3rd System API';

	icon = {
		light: 'file:../nodes/MultiTargetSync/multiTargetSync.svg',
		dark: 'file:../nodes/MultiTargetSync/multiTargetSync.dark.svg',
	} as const;

	documentationUrl = 'https://github.com/n8n-nodes-data-sync/n8n-nodes-data-sync#systems-over-http';

	properties: INodeProperties[] = systemProperties;

	authenticate: IAuthenticate = authenticateSystem;

	test: ICredentialTestRequest = systemTest;
}
