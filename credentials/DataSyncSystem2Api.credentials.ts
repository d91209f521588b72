import { SystemCredential } from '../nodes/shared/transport/credential';

export class DataSyncSystem2Api extends SystemCredential {
	name = 'dataSyncSystem2Api';

	displayName = 'Data Sync System 2 API';
}
