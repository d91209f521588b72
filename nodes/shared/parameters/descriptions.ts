import type { INodeProperties } from 'n8n-workflow';

/** Defaults that a parameter and the code reading it must agree on: defined once. */
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_MAX_BASE_KEYS = 10000;
/** How many keys a report lists of each kind (counts are always whole). */
export const REPORT_LIST_CAP = 50;

/** How records are read: the same on every node of one sync, so defined once. */
export const recordSpecProperties: INodeProperties[] = [
	{
		displayName: 'Key Fields',
		name: 'keyFields',
		type: 'string',
		default: 'id',
		required: true,
		placeholder: 'e.g. customer_id, or region, customer_id',
		description:
			'Field that identifies a record on every system. Separate several with commas for a composite key.',
	},
	{
		displayName: 'Updated-At Field',
		name: 'updatedAtField',
		type: 'string',
		default: 'updated_at',
		description:
			'Field holding when the record last changed: ISO 8601, epoch seconds or epoch milliseconds. Leave empty if the systems keep none.',
	},
	{
		displayName: 'Version Field',
		name: 'versionField',
		type: 'string',
		default: 'version',
		description: 'Field holding the record version or ETag. Leave empty if the systems keep none.',
	},
	{
		displayName: 'Tombstone Field',
		name: 'tombstoneField',
		type: 'string',
		default: '_deleted',
		description:
			'Field that marks a deleted record when it is true (or holds a deletion time). Leave empty if deletes are not synced.',
	},
	{
		displayName: 'Ignore Fields',
		name: 'ignoreFields',
		type: 'string',
		default: '',
		placeholder: 'e.g. last_seen, etl_batch',
		description:
			'Comma-separated fields left out of comparison. The key, updated-at, version and tombstone fields are never compared.',
	},
];

export const syncNameProperty: INodeProperties = {
	displayName: 'Sync Name',
	name: 'syncName',
	type: 'string',
	default: 'default',
	noDataExpression: true,
	description:
		'Names this sync’s base (its memory of the last validated sync) in the workflow static data. Use the same name on Conflict Check and Sync Validate, and different names for different syncs in one workflow.',
};

export const staticDataNotice: INodeProperties = {
	displayName:
		'The base is kept in the workflow static data, which n8n saves only for production runs of an active workflow. A manual test run has no base unless one arrives on the Base input.',
	name: 'staticDataNotice',
	type: 'notice',
	default: '',
	displayOptions: { show: { baseSource: ['staticData'] } },
};

export const recordSpecNotice: INodeProperties = {
	displayName:
		'Records are compared by the fingerprint Conflict Check computed, with the same ignored fields, so nothing here needs to repeat its key or field settings.',
	name: 'recordSpecNotice',
	type: 'notice',
	default: '',
};
