/**
 * End-to-end: workflows/day66-database-sync.json in a real n8n 2.41.1 (the packed package
 * installed as a community package), syncing a PostgreSQL table, a MariaDB table and the demo
 * system system_a through n8n's own Postgres, MySQL and HTTP Request nodes, driven through its
 * production webhook. Every check reads the stores directly (psql, mariadb, the demo's own API),
 * not only the report.
 *
 * Needs PostgreSQL and MariaDB answering (default 127.0.0.1:5432 user postgres, 127.0.0.1:3306
 * user root, database `test`; E2E_PG_* / E2E_MARIADB_* override) and their CLIs (psql, mariadb
 * or mysql). Skips itself, saying why, when either is missing or n8n is not installed, unless
 * E2E_REQUIRED=1. Each run uses its own tables (customers_e2e_<random>) and drops them.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

import {
	loadSystemsConfig,
	startSystems,
	systemApi,
	type StartedSystems,
} from '../systems/helpers';
import { describeWithN8n } from './describe';
import { packPackage, ROOT, startN8n, type RunningN8n } from './n8n';

type Json = Record<string, unknown>;

const WEBHOOK_SECRET = process.env.E2E_WEBHOOK_SECRET ?? 'e2e-db-webhook-header-value';
const PG = {
	host: process.env.E2E_PG_HOST ?? '127.0.0.1',
	port: Number(process.env.E2E_PG_PORT ?? 5432),
	user: process.env.E2E_PG_USER ?? 'postgres',
	password: process.env.E2E_PG_PASSWORD ?? '',
	database: process.env.E2E_PG_DATABASE ?? 'test',
};
const MARIADB = {
	host: process.env.E2E_MARIADB_HOST ?? '127.0.0.1',
	port: Number(process.env.E2E_MARIADB_PORT ?? 3306),
	user: process.env.E2E_MARIADB_USER ?? 'root',
	password: process.env.E2E_MARIADB_PASSWORD ?? '',
	database: process.env.E2E_MARIADB_DATABASE ?? 'test',
};
const SUFFIX = randomBytes(4).toString('hex');
const PG_TABLE = `customers_e2e_${SUFFIX}`;
const MARIADB_TABLE = `customers_e2e_${SUFFIX}`;

// ---------------------------------------------------------------------------------------------
// The databases, through their own command-line clients (no npm dependency).

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
	return spawnSync(cmd, args, {
		encoding: 'utf8',
		timeout: 15_000,
		env: { ...process.env, ...env },
	});
}

const MARIADB_CLI = ['mariadb', 'mysql'].find((cli) => run(cli, ['--version']).status === 0);

function psql(sql: string): string {
	const result = run(
		'psql',
		[
			'-h',
			PG.host,
			'-p',
			String(PG.port),
			'-U',
			PG.user,
			'-d',
			PG.database,
			'-X',
			'-q',
			'-A',
			'-t',
			'-v',
			'ON_ERROR_STOP=1',
			'-c',
			sql,
		],
		{ PGPASSWORD: PG.password, PGCONNECT_TIMEOUT: '3' },
	);
	if (result.status !== 0)
		throw new Error(`psql failed (${result.status ?? result.error?.message}): ${result.stderr}`);
	return result.stdout.trim();
}

function mariadb(sql: string): string {
	const result = run(
		MARIADB_CLI ?? 'mariadb',
		[
			'-h',
			MARIADB.host,
			'-P',
			String(MARIADB.port),
			'-u',
			MARIADB.user,
			'--protocol=TCP',
			'--connect-timeout=3',
			'-N',
			'-B',
			'-r',
			MARIADB.database,
			'-e',
			sql,
		],
		{ MYSQL_PWD: MARIADB.password },
	);
	if (result.status !== 0)
		throw new Error(`mariadb failed (${result.status ?? result.error?.message}): ${result.stderr}`);
	return result.stdout.trim();
}

const oneLine = (error: unknown) => (error as Error).message.replace(/\s+/g, ' ').trim();

/** Why the e2e cannot run here, or undefined when it can. */
/** What this test needs besides n8n: the database clients and servers. */
function unavailable(): string | undefined {
	if (run('psql', ['--version']).status !== 0) return 'the psql client is not installed';
	if (!MARIADB_CLI) return 'the mariadb (or mysql) client is not installed';
	try {
		if (psql('SELECT 1') !== '1') throw new Error('SELECT 1 did not answer 1');
	} catch (error) {
		return `PostgreSQL does not answer at ${PG.host}:${PG.port} (${oneLine(error)})`;
	}
	try {
		if (mariadb('SELECT 1') !== '1') throw new Error('SELECT 1 did not answer 1');
	} catch (error) {
		return `MariaDB does not answer at ${MARIADB.host}:${MARIADB.port} (${oneLine(error)})`;
	}
	return undefined;
}

const missing = unavailable();
const describeE2e = describeWithN8n('database e2e', missing ? [missing] : []);

const q = (value: unknown) =>
	value === null || value === undefined ? 'NULL' : `'${String(value).replace(/'/g, "''")}'`;

interface Row {
	id: string;
	name: string | null;
	email: string | null;
	tier: string | null;
	balance: number | null;
	updated_at: string;
	version: number;
}

const pgRows = (): Row[] =>
	JSON.parse(
		psql(
			`SELECT coalesce(json_agg(t ORDER BY t.id), '[]') FROM (SELECT id, name, email, tier, ` +
				`balance::float8 AS balance, to_char(updated_at AT TIME ZONE 'UTC', ` +
				`'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at, version FROM ${PG_TABLE}) t`,
		),
	) as Row[];

const mariadbRows = (): Row[] =>
	JSON.parse(
		mariadb(
			`SELECT coalesce(JSON_ARRAYAGG(JSON_OBJECT('id', id, 'name', name, 'email', email, ` +
				`'tier', tier, 'balance', CAST(balance AS DOUBLE), 'updated_at', ` +
				`CONCAT(LEFT(DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z'), ` +
				`'version', version) ORDER BY id), '[]') FROM ${MARIADB_TABLE}`,
		) || '[]',
	) as Row[];

function insertPg(rows: Row[]): void {
	psql(
		`INSERT INTO ${PG_TABLE} (id, name, email, tier, balance, updated_at, version) VALUES ` +
			rows
				.map(
					(r) =>
						`(${q(r.id)}, ${q(r.name)}, ${q(r.email)}, ${q(r.tier)}, ${q(r.balance)}, ` +
						`${q(r.updated_at)}::timestamptz, ${r.version})`,
				)
				.join(', '),
	);
}

function insertMariadb(rows: Row[]): void {
	mariadb(
		`INSERT INTO ${MARIADB_TABLE} (id, name, email, tier, balance, updated_at, version) VALUES ` +
			rows
				.map(
					(r) =>
						`(${q(r.id)}, ${q(r.name)}, ${q(r.email)}, ${q(r.tier)}, ${q(r.balance)}, ` +
						`${q(r.updated_at.replace('T', ' ').replace('Z', ''))}, ${r.version})`,
				)
				.join(', '),
	);
}

// ---------------------------------------------------------------------------------------------

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
		});
	});
}

const workflow = JSON.parse(
	readFileSync(path.join(ROOT, 'workflows/day66-database-sync.json'), 'utf8'),
) as { id: string; nodes: Array<{ name: string; parameters: Json }> };

/** The workflow as a user would set it up here: their table names and system_a's URL. */
function configured(systemAUrl: string) {
	const copy = JSON.parse(JSON.stringify(workflow)) as typeof workflow;
	const settings = copy.nodes.find((n) => n.name === 'Sync Settings')!;
	const { assignments } = settings.parameters.assignments as {
		assignments: Array<{ name: string; value: unknown }>;
	};
	const values: Json = {
		postgres_table: PG_TABLE,
		mariadb_table: MARIADB_TABLE,
		system_a_url: systemAUrl,
	};
	for (const a of assignments) {
		if (!(a.name in values)) throw new Error(`Sync Settings has an unexpected field ${a.name}`);
		a.value = values[a.name];
	}
	expect(assignments.map((a) => a.name).sort()).toEqual(Object.keys(values).sort());
	return copy;
}

const row = (id: string, fields: Partial<Row> = {}): Row => ({
	id,
	name: `Customer ${id}`,
	email: `${id}@example.com`,
	tier: 'silver',
	balance: 10,
	updated_at: '2026-01-01T00:00:00.000Z',
	version: 1,
	...fields,
});

/** What every system must hold after the first sync, key -> compared fields. */
const EXPECTED_FIRST: Record<string, Json> = {
	// c1: edited last in Postgres (email, tier, balance with cents): Postgres wins.
	c1: { name: 'Ada', email: 'ada@pg.io', tier: 'gold', balance: 120.5 },
	// c2: the same everywhere.
	c2: { name: 'Customer c2', email: 'c2@example.com', tier: 'silver', balance: 10 },
	// c3: deleted in system_a after the last edits anywhere: the delete wins (absent below).
	// c4: only in system_a.
	c4: { name: 'Dora', email: 'dora@a.io', tier: 'bronze', balance: 99.5 },
	// c5: edited last in MariaDB: MariaDB wins.
	c5: { name: 'Customer c5', email: 'c5@example.com', tier: 'platinum', balance: 7 },
	// c6: only in MariaDB.
	c6: { name: 'Eve', email: 'eve@m.io', tier: 'silver', balance: 0 },
};

const compared = (r: Json): Json => ({
	name: r.name,
	email: r.email,
	tier: r.tier,
	balance: r.balance,
});

describeE2e('the database sync workflow in a real n8n (PostgreSQL, MariaDB, system_a)', () => {
	let systems: StartedSystems;
	let n8n: RunningN8n;
	const timings: Record<string, number> = {};
	const demoKey = (() => {
		const auth = loadSystemsConfig().find((s) => s.name === 'system_a')!.auth!;
		if (auth.type !== 'apiKey') throw new Error('system_a is expected to use an API key');
		return auth;
	})();

	const demo = async (method: string, p: string, body?: unknown) =>
		(await systemApi(systems.systems.system_a, method, p, body)) as Json;
	const demoRecords = async () => ((await demo('GET', '/records?limit=1000')).data as Json[]) ?? [];
	const appliedWrites = async () => (await systems.stats('system_a')).applied_writes;

	/** Live records of every system, key -> compared fields. */
	async function holdings(): Promise<Record<string, Record<string, Json>>> {
		const live = (rows: Json[]) =>
			Object.fromEntries(
				rows.filter((r) => r._deleted !== true).map((r) => [String(r.id), compared(r)]),
			);
		return {
			postgres: live(pgRows() as unknown as Json[]),
			mariadb: live(mariadbRows() as unknown as Json[]),
			system_a: live(await demoRecords()),
		};
	}

	async function sync(label: string): Promise<{ status: number; body: Json }> {
		const t0 = Date.now();
		const res = await fetch(n8n.webhookUrl('database-sync'), {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-Sync-Secret': WEBHOOK_SECRET },
			body: '{}',
		});
		const text = await res.text();
		timings[label] = Date.now() - t0;
		let body: Json;
		try {
			body = JSON.parse(text) as Json;
		} catch {
			body = { text };
		}
		return { status: res.status, body };
	}

	beforeAll(async () => {
		const t0 = Date.now();
		psql(
			`CREATE TABLE ${PG_TABLE} (id text PRIMARY KEY, name text, email text, tier text, ` +
				`balance numeric(12,2), updated_at timestamptz NOT NULL DEFAULT now(), ` +
				`version int NOT NULL DEFAULT 1)`,
		);
		mariadb(
			`CREATE TABLE ${MARIADB_TABLE} (id varchar(191) PRIMARY KEY, name text, email text, ` +
				`tier text, balance decimal(12,2), updated_at datetime(3) NOT NULL DEFAULT ` +
				`(UTC_TIMESTAMP(3)), version int NOT NULL DEFAULT 1)`,
		);
		timings.createTables = Date.now() - t0;
		let t = Date.now();
		systems = await startSystems({ names: ['system_a'] });
		timings.startSystemA = Date.now() - t;
		t = Date.now();
		const wf = configured(systems.systems.system_a.url);
		n8n = await startN8n({
			packageTgz: packPackage(),
			workflows: [wf],
			credentials: [
				{
					id: 'dbSyncPostgres',
					name: 'Sync Postgres',
					type: 'postgres',
					data: { ...PG, ssl: 'disable', allowUnauthorizedCerts: false, maxConnections: 10 },
				},
				{ id: 'dbSyncMariadb', name: 'Sync MariaDB', type: 'mySql', data: MARIADB },
				{
					id: 'dbSystemAKey',
					name: 'system_a API key',
					type: 'httpHeaderAuth',
					data: { name: demoKey.header ?? 'X-API-Key', value: demoKey.value },
				},
				{
					id: 'dbWebhookAuth',
					name: 'Database sync webhook secret',
					type: 'httpHeaderAuth',
					data: { name: 'X-Sync-Secret', value: WEBHOOK_SECRET },
				},
			],
			publish: [wf.id],
		});
		await n8n.waitForWebhook('database-sync');
		timings.n8nReady = Date.now() - t;
		for (const [step, ms] of Object.entries(n8n.timings)) timings[`n8n.${step}`] = ms;
	}, 300_000);

	afterAll(async () => {
		const logs = n8n?.logs() ?? '';
		if (process.env.E2E_DEBUG) console.log(logs);
		await n8n?.stop();
		await systems?.stop();
		for (const drop of [
			() => psql(`DROP TABLE IF EXISTS ${PG_TABLE}`),
			() => mariadb(`DROP TABLE IF EXISTS ${MARIADB_TABLE}`),
		]) {
			try {
				drop();
			} catch (error) {
				console.log(`cleanup: ${(error as Error).message}`);
			}
		}
		console.log(
			`database e2e timings (ms): ${Object.entries(timings)
				.map(([k, v]) => `${k}=${v}`)
				.join(', ')}`,
		);
		for (const secret of [WEBHOOK_SECRET, demoKey.value]) expect(logs).not.toContain(secret);
	}, 60_000);

	it('the first sync makes all three systems hold the same rows, and the report says passed', async () => {
		insertPg([
			row('c1', {
				name: 'Ada',
				email: 'ada@pg.io',
				tier: 'gold',
				balance: 120.5,
				updated_at: '2026-03-01T10:00:00.000Z',
				version: 3,
			}),
			row('c2'),
			row('c3'),
			row('c5', { balance: 7 }),
		]);
		insertMariadb([
			row('c1', { name: 'Ada', email: 'ada@old.io', updated_at: '2026-02-01T10:00:00.000Z' }),
			row('c2', { version: 4, updated_at: '2026-01-02T00:00:00.000Z' }),
			row('c3'),
			row('c5', {
				balance: 7,
				tier: 'platinum',
				updated_at: '2026-03-03T12:00:00.123Z',
				version: 2,
			}),
			row('c6', { name: 'Eve', email: 'eve@m.io', balance: 0 }),
		]);
		const seed = await fetch(`${systems.systems.system_a.url}/_admin/seed`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({
				records: [
					{
						...row('c1', { name: 'Ada', email: 'ada@old.io' }),
						updated_at: '2026-01-15T00:00:00Z',
					},
					row('c2'),
					{ ...row('c3'), _deleted: true, updated_at: '2026-03-02T00:00:00.000Z' },
					row('c4', {
						name: 'Dora',
						email: 'dora@a.io',
						tier: 'bronze',
						balance: 99.5,
						updated_at: '2026-02-15T00:00:00.000Z',
					}),
					row('c5', { balance: 7 }),
				].map(({ version: _v, ...r }) => r),
			}),
		});
		expect(seed.status).toBe(200);

		const res = await sync('firstSync');
		// The whole answer in the assertion, so a failure shows the report's reasons.
		expect(res).toMatchObject({
			status: 200,
			body: {
				validation_status: 'passed',
				source_system: 'postgres',
				target_systems: ['mariadb', 'system_a'],
				systems: ['postgres', 'mariadb', 'system_a'],
				missing: [],
				extra: [],
				differing: [],
				counts: { validate: { failed: 0, missing: 0, extra: 0, differing: 0 } },
			},
		});
		// c1, c3, c4, c5 and c6 were written somewhere, and each validated.
		const validate = (res.body.counts as { validate: { passed: number } }).validate;
		expect(validate.passed).toBeGreaterThanOrEqual(5);

		const held = await holdings();
		for (const system of ['postgres', 'mariadb', 'system_a']) {
			expect({ system, rows: held[system] }).toEqual({ system, rows: EXPECTED_FIRST });
		}
		// The delete: gone from both tables, a tombstone in system_a.
		expect(pgRows().find((r) => r.id === 'c3')).toBeUndefined();
		expect(mariadbRows().find((r) => r.id === 'c3')).toBeUndefined();
		expect((await demoRecords()).find((r) => r.id === 'c3')).toMatchObject({ _deleted: true });
	}, 120_000);

	it('a second run writes nothing new', async () => {
		const stamp = (rows: Row[]) => rows.map((r) => `${r.id}@${r.version}@${r.updated_at}`);
		const before = { pg: stamp(pgRows()), maria: stamp(mariadbRows()), a: await appliedWrites() };
		const res = await sync('secondSync');
		expect(res).toMatchObject({
			status: 200,
			body: { validation_status: 'nothing_to_sync', records_written: 0 },
		});
		expect({ pg: stamp(pgRows()), maria: stamp(mariadbRows()), a: await appliedWrites() }).toEqual(
			before,
		);
	}, 120_000);

	it('a row deleted in Postgres and an edit in MariaDB propagate (the base knows the key)', async () => {
		// c4 was created in Postgres by the first sync, which validated it: the base knows it, so
		// its row missing from Postgres now reads as a delete there, not as a row to recreate.
		psql(`DELETE FROM ${PG_TABLE} WHERE id = 'c4'`);
		mariadb(
			`UPDATE ${MARIADB_TABLE} SET email = 'eve@new.io', version = version + 1, ` +
				`updated_at = UTC_TIMESTAMP(3) WHERE id = 'c6'`,
		);
		const writesBefore = await appliedWrites();
		const res = await sync('deleteAndEdit');
		expect(res).toMatchObject({
			status: 200,
			body: {
				validation_status: 'passed',
				conflicts_detected: 0,
				counts: { validate: { failed: 0 } },
			},
		});
		const expected: Record<string, Json> = {
			...EXPECTED_FIRST,
			c6: { ...EXPECTED_FIRST.c6, email: 'eve@new.io' },
		};
		delete expected.c4;
		const held = await holdings();
		for (const system of ['postgres', 'mariadb', 'system_a']) {
			expect({ system, rows: held[system] }).toEqual({ system, rows: expected });
		}
		expect((await demoRecords()).find((r) => r.id === 'c4')).toMatchObject({ _deleted: true });
		// system_a: one delete (c4) and one update (c6).
		expect((await appliedWrites()) - writesBefore).toBe(2);
	}, 120_000);

	it('the Manual Trigger path runs too, through the n8n CLI (n8n execute)', async () => {
		mariadb(
			`UPDATE ${MARIADB_TABLE} SET tier = 'diamond', version = version + 1, ` +
				`updated_at = UTC_TIMESTAMP(3) WHERE id = 'c5'`,
		);
		const t0 = Date.now();
		// `n8n execute` starts from the Manual Trigger; it needs its own task-runner broker port.
		const result = await n8n.cli(['execute', `--id=${workflow.id}`, '--rawOutput'], {
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
		});
		timings.cliExecute = Date.now() - t0;
		if (result.code !== 0)
			throw new Error(`n8n execute exited ${result.code}:\n${result.stdout}${result.stderr}`);
		// --rawOutput prints the run as JSON after any log lines.
		const run = JSON.parse(result.stdout.slice(result.stdout.indexOf('\n{') + 1)) as {
			data: { resultData: { runData: Record<string, Array<{ data: { main: Json[][] } }>> } };
		};
		const runData = run.data.resultData.runData;
		expect(runData['Run Manually']).toBeDefined();
		expect(runData['Sync Request']).toBeUndefined();
		const report = (runData['Sync Validate'][0].data.main[0][0] as { json: Json }).json;
		expect(report).toMatchObject({ validation_status: 'passed', differing: [] });
		const held = await holdings();
		for (const system of ['postgres', 'mariadb', 'system_a'])
			expect({ system, tier: held[system].c5?.tier }).toEqual({ system, tier: 'diamond' });
	}, 180_000);

	it('a write a database refuses does not stop the run: the report fails (207) and names it', async () => {
		// numeric(12,2) / decimal(12,2) cannot hold this balance: both upserts fail.
		await demo('PUT', '/records/c7', { ...row('c7'), balance: 1e13 });
		const res = await sync('refusedWrite');
		expect(res).toMatchObject({
			status: 207,
			body: {
				validation_status: 'failed',
				missing: expect.arrayContaining([
					{ key: 'c7', system: 'postgres' },
					{ key: 'c7', system: 'mariadb' },
				]),
				differing: [],
			},
		});
		expect(res.body.reasons).toContain('2 record(s) missing where they should exist');
		expect(pgRows().find((r) => r.id === 'c7')).toBeUndefined();
		expect(mariadbRows().find((r) => r.id === 'c7')).toBeUndefined();
		await demo('DELETE', '/records/c7');
	}, 120_000);

	// Keys every system already agreed on reach Sync Validate in plan-only mode too, so the base
	// learns them and a later row delete is a delete, not a missing row to recreate.
	it('a row deleted in Postgres that was in sync from the start propagates too', async () => {
		psql(`DELETE FROM ${PG_TABLE} WHERE id = 'c2'`);
		const res = await sync('deleteInSyncKey');
		expect(res).toMatchObject({ status: 200, body: { validation_status: 'passed' } });
		expect(pgRows().find((r) => r.id === 'c2')).toBeUndefined();
		expect(mariadbRows().find((r) => r.id === 'c2')).toBeUndefined();
		expect((await demoRecords()).find((r) => r.id === 'c2')).toMatchObject({ _deleted: true });
	}, 120_000);
});
