/**
 * Every bundled workflow (workflows/*.json) is one n8n can import: node ids and names unique,
 * every connection between nodes that exist, each node of this package one it ships. n8n's
 * `import:workflow` refuses a workflow with a duplicate node id; this finds it in a second.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const PREFIX = 'n8n-nodes-data-sync.';

interface WorkflowNode {
	id: string;
	name: string;
	type: string;
}
interface Workflow {
	id: string;
	name: string;
	nodes: WorkflowNode[];
	connections: Record<string, { main: Array<Array<{ node: string }> | null> }>;
}

const files = readdirSync(path.join(ROOT, 'workflows')).filter((f) => f.endsWith('.json'));
const shipped = new Set(
	(
		JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
			n8n: { nodes: string[] };
		}
	).n8n.nodes.map((file) => {
		const base = path.basename(file, '.node.js');
		return PREFIX + base.charAt(0).toLowerCase() + base.slice(1);
	}),
);

const repeated = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

describe.each(files)('workflows/%s', (file) => {
	const wf = JSON.parse(readFileSync(path.join(ROOT, 'workflows', file), 'utf8')) as Workflow;

	it('has an id, a name, and unique node ids and names', () => {
		expect(wf.id).toMatch(/\S/);
		expect(wf.name).toMatch(/\S/);
		expect(repeated(wf.nodes.map((n) => n.id))).toEqual([]);
		expect(repeated(wf.nodes.map((n) => n.name))).toEqual([]);
	});

	it('connects only nodes it has', () => {
		const names = new Set(wf.nodes.map((n) => n.name));
		const dangling: string[] = [];
		for (const [from, outputs] of Object.entries(wf.connections)) {
			if (!names.has(from)) dangling.push(`from ${from}`);
			for (const output of outputs.main)
				for (const to of output ?? [])
					if (!names.has(to.node)) dangling.push(`${from} -> ${to.node}`);
		}
		expect(dangling).toEqual([]);
	});

	it("uses only this package's nodes that it ships", () => {
		const ours = wf.nodes.filter((n) => n.type.startsWith(PREFIX)).map((n) => n.type);
		expect(ours.filter((type) => !shipped.has(type))).toEqual([]);
	});
});
