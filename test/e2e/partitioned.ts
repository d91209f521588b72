/**
 * The set-up of a partitioned sync (workflows/day66-partitioned-sync.json calling
 * workflows/day66-sync-partition.json once per key range), shared by the e2e
 * (test/e2e/partitioned.test.ts) and the benchmark (bench/partitioned.ts): the two bundled
 * workflows, the credentials for the demo systems, the two webhook secrets and the base store (a
 * PostgreSQL database of its own per run), and the call that starts a partitioned sync.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';

import { demoCredentials } from '../../demo/systems/credentials.ts';
import type { StartedSystems } from '../systems/helpers';
import { ROOT } from './n8n';
import { postgresTarget, psql, psqlRows } from './queue';

export type Json = Record<string, unknown>;
export type Workflow = Json & {
	id: string;
	nodes: Array<Json & { name: string; parameters: Json }>;
};

export const SYSTEMS = ['system_a', 'system_b', 'system_c'];
export const REQUEST_VALUE = 'partitioned-e2e-request-value';
export const PARTITION_VALUE = 'partitioned-e2e-partition-value';
export const PARENT_ID = 'day66PartitionedSync1';

export const loadWorkflow = (file: string) =>
	JSON.parse(readFileSync(path.join(ROOT, 'workflows', file), 'utf8')) as Workflow;

/** The bundled parent workflow with this n8n's partition URL and the given Max Keys per Range. */
export function parentFor(partitionUrl: string, maxKeysPerRange: number): Workflow {
	const wf = loadWorkflow('day66-partitioned-sync.json');
	const settings = wf.nodes.find((n) => n.name === 'Settings')!;
	const assignments = (settings.parameters.assignments as { assignments: Json[] }).assignments;
	for (const a of assignments) {
		if (a.name === 'partitionUrl') a.value = partitionUrl;
		if (a.name === 'maxKeysPerRange') a.value = maxKeysPerRange;
	}
	return wf;
}

/** The bundled partition workflow (one key range per execution). */
export const partitionWorkflow = (): Workflow => loadWorkflow('day66-sync-partition.json');

/** The partition webhook of an n8n on `port` (the parent calls it once per range). */
export const partitionUrl = (port: number) =>
	`http://127.0.0.1:${port}/webhook/data-sync/partition`;

/** A PostgreSQL database of its own for one n8n's partition base (table data_sync_base). */
export interface BaseStore {
	database: string;
	/** The n8n credential "Data sync base store" (id dsBaseStore) pointing at it. */
	credential: object;
	/** Rows of a SELECT on it, through psql and json_agg. */
	query<T = Json>(sql: string): Promise<T[]>;
	/** Runs one SQL command on it (a fault to plant, say). */
	exec(sql: string): Promise<void>;
	/** Drops the database. */
	drop(): Promise<void>;
}

let stores = 0;

/** Creates an empty database for a partition base (the parent workflow creates the table). */
export async function createBaseStore(): Promise<BaseStore> {
	const pg = postgresTarget();
	const database = `ds_base_${process.pid}_${Date.now().toString(36)}_${stores++}`;
	await psql(pg, 'postgres', `CREATE DATABASE "${database}"`);
	return {
		database,
		credential: {
			id: 'dsBaseStore',
			name: 'Data sync base store',
			type: 'postgres',
			data: {
				host: pg.host,
				port: pg.port,
				database,
				user: pg.user,
				password: '',
				ssl: 'disable',
				allowUnauthorizedCerts: false,
				maxConnections: 10,
			},
		},
		query: <T = Json>(sql: string) => psqlRows<T>(pg, database, sql),
		exec: async (sql: string) => {
			await psql(pg, database, sql);
		},
		drop: async () => {
			await psql(pg, 'postgres', `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
		},
	};
}

/** The demo systems' credentials, the two webhook secrets and the base store both workflows use. */
export const credentials = (systems: StartedSystems, base: BaseStore) => [
	base.credential,
	...demoCredentials(Object.values(systems.systems)),
	{
		id: 'dsWebhookAuth',
		name: 'Data sync webhook secret',
		type: 'httpHeaderAuth',
		data: { name: 'X-Sync-Secret', value: REQUEST_VALUE },
	},
	{
		id: 'dsPartitionCall',
		name: 'Data sync partition calls',
		type: 'httpHeaderAuth',
		data: { name: 'X-Sync-Secret', value: PARTITION_VALUE },
	},
	{
		id: 'dsPartitionTrigger',
		name: 'Data sync partition calls',
		type: 'dataSyncWebhookApi',
		data: {
			authMethod: 'headerSecret',
			headerName: 'X-Sync-Secret',
			secret: PARTITION_VALUE,
			toleranceSeconds: 300,
		},
	},
];

/**
 * POST to the parent's webhook (data-sync/partitioned); its status and JSON report. Through
 * node:http with no timeout: a first sync of a million keys answers after many minutes, past
 * fetch's 300 s wait for the response headers.
 */
export function runPartitioned(url: string): Promise<{ status: number; body: Json }> {
	return new Promise((resolve, reject) => {
		const req = request(
			url,
			{
				method: 'POST',
				headers: { 'X-Sync-Secret': REQUEST_VALUE, 'Content-Type': 'application/json' },
			},
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (text += chunk));
				res.on('error', reject);
				res.on('end', () => {
					try {
						resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Json });
					} catch {
						reject(new Error(`the partitioned sync answered ${res.statusCode}: ${text}`));
					}
				});
			},
		);
		req.on('error', reject);
		req.end('{}');
	});
}
