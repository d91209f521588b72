import {
	NodeConnectionTypes,
	type IConnections,
	type INode,
	type INodeExecutionData,
	type IRunData,
} from 'n8n-workflow';

let nodeCounter = 0;

/** One node of workflow JSON, with a unique id and position. */
export function node(
	name: string,
	type: string,
	parameters: INode['parameters'] = {},
	extra: Partial<INode> = {},
): INode {
	nodeCounter++;
	return {
		id: `00000000-0000-4000-8000-${String(nodeCounter).padStart(12, '0')}`,
		name,
		type,
		typeVersion: 1,
		position: [nodeCounter * 200, 0],
		parameters,
		...extra,
	};
}

/** Connections from [from, to, fromOutput?, toInput?] tuples. */
export function connect(...edges: Array<[string, string, number?, number?]>): IConnections {
	const connections: IConnections = {};
	for (const [from, to, fromOutput = 0, toInput = 0] of edges) {
		const main = (connections[from] ??= { main: [] }).main;
		while (main.length <= fromOutput) main.push([]);
		main[fromOutput]!.push({ node: to, type: NodeConnectionTypes.Main, index: toInput });
	}
	return connections;
}

export const json = (items: INodeExecutionData[]) => items.map((item) => item.json);

/** Items of one output across every run of a node (a node fed twice on one input runs twice). */
export function allRuns(
	result: { runData: IRunData },
	nodeName: string,
	outputIndex = 0,
): INodeExecutionData[] {
	return (result.runData[nodeName] ?? []).flatMap((run) => run.data?.main?.[outputIndex] ?? []);
}
