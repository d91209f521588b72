import { SystemCredential } from '../nodes/shared/transport/credential';

export class DataSyncSystem3Api extends SystemCredential {
	name = 'dataSyncSystem3Api';

	displayName = 'Data Sync System 3 API';
}
