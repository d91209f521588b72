import { SystemCredential } from '../nodes/shared/transport/credential';

export class DataSyncSystem4Api extends SystemCredential {
	name = 'dataSyncSystem4Api';

	displayName = 'Data Sync System 4 API';
}
