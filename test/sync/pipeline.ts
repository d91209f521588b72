import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	INode,
	INodeParameters,
} from 'n8n-workflow';

import { DataSyncSystem2Api } from '../../credentials/DataSyncSystem2Api.credentials';
import { DataSyncSystem3Api } from '../../credentials/DataSyncSystem3Api.credentials';
import { DataSyncSystemApi } from '../../credentials/DataSyncSystemApi.credentials';
import { MultiTargetSync } from '../../nodes/MultiTargetSync/MultiTargetSync.node';
import { SyncValidate } from '../../nodes/SyncValidate/SyncValidate.node';
import { runWorkflow, TEST_ITEMS_TYPE, TEST_TRIGGER_TYPE, type RunResult } from '../harness';
import { connect, json, node } from '../harness/build';
import {
	CHECK_TYPE,
	nodeTypes as checkAndResolveTypes,
	RESOLVE_TYPE,
} from '../nodes/sync-workflow';
import { credentialData } from '../../demo/systems/credentials.ts';
import { systemApi, type RunningSystem, type StartedSystems } from '../systems/helpers';

export const SYNC_TYPE = 'n8n-nodes-data-sync.multiTargetSync';
export const VALIDATE_TYPE = 'n8n-nodes-data-sync.syncValidate';

export const nodeTypes = {
	...checkAndResolveTypes,
	[SYNC_TYPE]: new MultiTargetSync(),
	[VALIDATE_TYPE]: new SyncValidate(),
};
export const credentialTypes = [
	new DataSyncSystemApi(),
	new DataSyncSystem2Api(),
	new DataSyncSystem3Api(),
];
const SLOTS = ['dataSyncSystemApi', 'dataSyncSystem2Api', 'dataSyncSystem3Api'];
export const SYSTEM_NAMES = ['system_a', 'system_b', 'system_c'];

const params = (p: object) => p as INodeParameters;

/** The credential data of a running demo system, as a user would enter it. */
export function credentialFor(system: RunningSystem): ICredentialDataDecryptedObject {
	return credentialData(system.name, system.url, system.auth);
}

export function credentialsFor(
	started: StartedSystems,
): Record<string, ICredentialDataDecryptedObject> {
	return Object.fromEntries(
		SYSTEM_NAMES.map((name, i) => [SLOTS[i], credentialFor(started.systems[name])]),
	);
}

/** Every secret of the running systems: none may appear in any output or error. */
export function secretsOf(started: StartedSystems): string[] {
	return Object.values(started.systems).flatMap((s) => {
		const a = s.auth;
		return a.type === 'apiKey'
			? [a.value]
			: a.type === 'bearer'
				? [a.token]
				: a.type === 'basic'
					? [a.password]
					: [];
	});
}

/**
 * For a test file against the demo systems: `keep(value)` holds each node output, error or report
 * the file checks, and after the file no secret of the systems may appear in any of them.
 */
export function keptOutputs(systems: () => StartedSystems | undefined): <T>(value: T) => T {
	const outputs: unknown[] = [];
	afterAll(() => {
		const started = systems();
		if (!started) return;
		const text = JSON.stringify(outputs);
		for (const secret of secretsOf(started)) expect(text).not.toContain(secret);
	});
	return (value) => {
		outputs.push(value);
		return value;
	};
}

const nodeCredentials = Object.fromEntries(
	SLOTS.map((type, i) => [type, { id: String(i + 1), name: SYSTEM_NAMES[i] }]),
);

export interface PipelineOptions {
	check?: IDataObject;
	resolve?: IDataObject;
	sync?: IDataObject;
	validate?: IDataObject;
	/** Leave Multi Target Sync and Sync Validate out (check and resolve only). */
	stopAfterResolve?: boolean;
}

/** The Day 66 pipeline as workflow JSON: payload -> check -> resolve -> sync -> validate. */
export function pipeline(payload: IDataObject, o: PipelineOptions = {}) {
	const nodes: INode[] = [
		node('Trigger', TEST_TRIGGER_TYPE, params({ items: [{ body: payload }] })),
		node(
			'Conflict Check',
			CHECK_TYPE,
			params({
				sourceSystem: '={{ $json.body.source_system }}',
				recordsField: 'body.sync_data',
				systemsFrom: 'http',
				httpSystems: '={{ $json.body.target_systems }}',
				connectedSystems: 3,
				...o.check,
			}),
			{ credentials: nodeCredentials },
		),
		node('Conflict Resolve', RESOLVE_TYPE, params({ strategy: 'lastWriterWins', ...o.resolve })),
	];
	const edges: Array<[string, string, number?, number?]> = [
		['Trigger', 'Conflict Check'],
		['Conflict Check', 'Conflict Resolve', 0, 0],
		['Conflict Check', 'Conflict Resolve', 1, 1],
	];
	if (!o.stopAfterResolve) {
		nodes.push(
			node(
				'Multi Target Sync',
				SYNC_TYPE,
				params({
					writeMode: 'write',
					syncType: "={{ $('Trigger').first().json.body.sync_type }}",
					targetSystems: "={{ $('Trigger').first().json.body.target_systems }}",
					connectedSystems: 3,
					...o.sync,
				}),
				{ credentials: nodeCredentials },
			),
			node('Sync Validate', VALIDATE_TYPE, params({ connectedSystems: 3, ...o.validate }), {
				credentials: nodeCredentials,
			}),
		);
		edges.push(
			['Conflict Resolve', 'Multi Target Sync', 0, 0],
			['Multi Target Sync', 'Sync Validate', 0, 0],
			['Conflict Check', 'Sync Validate', 2, 1],
		);
	}
	return { nodes, connections: connect(...edges) };
}

/** Write-only workflow: resolved items (from an earlier run) -> Multi Target Sync -> Sync Validate. */
export function writeOnly(resolvedItems: IDataObject[], o: PipelineOptions = {}) {
	return {
		nodes: [
			node('Trigger', TEST_TRIGGER_TYPE, params({ items: [{}] })),
			node('Resolved', TEST_ITEMS_TYPE, params({ items: resolvedItems })),
			node(
				'Multi Target Sync',
				SYNC_TYPE,
				params({
					writeMode: 'write',
					syncType: 'bidirectional',
					targetSystems: 'system_b, system_c',
					connectedSystems: 3,
					...o.sync,
				}),
				{ credentials: nodeCredentials },
			),
			node(
				'Sync Validate',
				VALIDATE_TYPE,
				params({ connectedSystems: 3, baseTarget: 'output', ...o.validate }),
				{
					credentials: nodeCredentials,
				},
			),
		],
		connections: connect(
			['Trigger', 'Resolved'],
			['Resolved', 'Multi Target Sync'],
			['Multi Target Sync', 'Sync Validate'],
		),
	};
}

export async function run(
	started: StartedSystems,
	workflow: ReturnType<typeof pipeline>,
	staticData?: IDataObject,
	credentials = credentialsFor(started),
): Promise<RunResult> {
	return runWorkflow({
		workflow: { ...workflow, staticData },
		nodeTypes,
		credentials,
		credentialTypes,
		mode: 'webhook',
	});
}

export const report = (result: RunResult) => json(result.output('Sync Validate', 0))[0];

/** Through the system's own API with its own auth (what a person would see). */
export const api = systemApi;

export async function allRecords(system: RunningSystem): Promise<IDataObject[]> {
	return (await api(system, 'GET', '/records?limit=1000')).data as IDataObject[];
}

/** A system's records without the fields each system manages for itself. */
export async function comparable(system: RunningSystem): Promise<Record<string, IDataObject>> {
	const out: Record<string, IDataObject> = {};
	for (const { version: _v, updated_at: _u, deleted_at: _d, ...rest } of await allRecords(system))
		out[String(rest.id)] = rest;
	return out;
}

export async function seed(
	started: StartedSystems,
	name: string,
	records: IDataObject[],
): Promise<void> {
	const res = await fetch(`${started.systems[name].url}/_admin/seed`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ records }),
	});
	if (!res.ok) throw new Error(`seed ${name}: ${res.status} ${await res.text()}`);
}

/** The payload the source would send: its current records. */
export async function payload(
	started: StartedSystems,
	extra: IDataObject = {},
): Promise<IDataObject> {
	return {
		source_system: 'system_a',
		target_systems: ['system_b', 'system_c'],
		sync_type: 'bidirectional',
		sync_data: (await allRecords(started.systems.system_a)) as IDataObject[],
		...extra,
	};
}

/** Every system holds the same records for these keys (as system_a has them); system_a's records. */
export async function expectConverged(
	started: StartedSystems,
	keys: string[],
): Promise<Record<string, IDataObject>> {
	const [a, b, c] = await Promise.all(
		SYSTEM_NAMES.map((name) => comparable(started.systems[name])),
	);
	for (const key of keys) {
		expect(b[key]).toEqual(a[key]);
		expect(c[key]).toEqual(a[key]);
	}
	return a;
}
