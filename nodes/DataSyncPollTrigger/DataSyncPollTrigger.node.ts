import {
	NodeConnectionTypes,
	type INodeCredentialDescription,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
} from 'n8n-workflow';

import { SYSTEM_CREDENTIAL_TYPES } from '../shared/transport/systems';
import { pollChanges } from './poll';
import { properties } from './properties';

/**
 * A separate node from the Data Sync Trigger: n8n runs a node's poll() instead of passing its
 * webhook's data on whenever the node has both (WorkflowExecute.runNode checks poll first), and
 * registers every node with poll() as a poller and every node with webhooks as a webhook,
 * whatever its parameters say. One node cannot be both.
 */
/** The system whose feed is read: the first Data Sync System credential slot. */
const credentials: INodeCredentialDescription[] = [
	{ name: SYSTEM_CREDENTIAL_TYPES[0], displayName: 'Polled System', required: true },
];

export class DataSyncPollTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Data Sync Poll Trigger',
		name: 'dataSyncPollTrigger',
		icon: { light: 'file:dataSyncPollTrigger.svg', dark: 'file:dataSyncPollTrigger.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{"Change feed " + $parameter["changesPath"]}}',
		description:
			'Polls a system’s change feed from a cursor and starts a real-time sync of the changed keys, without the echoes of its own writes',
		defaults: { name: 'Data Sync Poll Trigger' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials,
		properties,
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		return await pollChanges.call(this);
	}
}
