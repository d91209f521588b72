import { SystemCredential } from '../nodes/shared/systemCredential';

export class DataSyncSystem3Api extends SystemCredential {
	name = 'dataSyncSystem3Api';

	displayName = 'Data Sync System 3 API';
}
