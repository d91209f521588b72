import { SystemCredential } from '../nodes/shared/transport/credential';

export class DataSyncSystemApi extends SystemCredential {
	name = 'dataSyncSystemApi';

	displayName = 'Data Sync System 1 API';
}
