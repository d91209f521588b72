import { SystemCredential } from '../nodes/shared/systemCredential';

export class DataSyncSystemApi extends SystemCredential {
	name = 'dataSyncSystemApi';

	displayName = 'Data Sync System 1 API';
}
