import { NodeOperationError, type IExecuteFunctions, type IPollFunctions } from 'n8n-workflow';

/** The slot credential types, in slot order: one node can hold up to this many systems. */
export const SYSTEM_CREDENTIAL_TYPES = [
	'dataSyncSystemApi',
	'dataSyncSystem2Api',
	'dataSyncSystem3Api',
	'dataSyncSystem4Api',
] as const;

/** How a system speaks REST: configuration with defaults matching the bundled demo systems. */
export interface RestShape {
	recordsPath: string;
	lookupPath: string;
	batchPath: string;
	/** Range checksums for validation by bisection; empty = the system has none. */
	checksumPath: string;
	dataPath: string;
	nextCursorPath: string;
	pageSize: number;
}

export interface SystemConnection {
	name: string;
	credentialType: string;
	baseUrl: string;
	shape: RestShape;
}

const text = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);

/**
 * The systems this node can reach, by the name each credential gives. Names come from the
 * credentials, never from the payload, so data cannot point a request anywhere else.
 */
export async function connectedSystems(
	ctx: IExecuteFunctions | IPollFunctions,
): Promise<Map<string, SystemConnection>> {
	const systems = new Map<string, SystemConnection>();
	const attached = ctx.getNode().credentials ?? {};
	for (const type of SYSTEM_CREDENTIAL_TYPES) {
		if (!attached[type]) continue;
		const c = await ctx.getCredentials(type);
		const name = text(c.systemName, '').trim();
		const baseUrl = text(c.baseUrl, '').trim().replace(/\/+$/, '');
		if (!name || !baseUrl) {
			throw new NodeOperationError(
				ctx.getNode(),
				`The ${type} credential needs a System Name and a Base URL`,
			);
		}
		if (systems.has(name)) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Two credentials both name the system "${name}"`,
				{
					description: 'Each connected system needs its own System Name.',
				},
			);
		}
		systems.set(name, {
			name,
			credentialType: type,
			baseUrl,
			shape: {
				recordsPath: text(c.recordsPath, '/records'),
				lookupPath: text(c.lookupPath, '/records/lookup'),
				batchPath: text(c.batchPath, '/records/batch'),
				checksumPath: text(c.checksumPath, '/records/checksums'),
				dataPath: text(c.dataPath, 'data'),
				nextCursorPath: text(c.nextCursorPath, 'next_cursor'),
				pageSize: Number(c.pageSize) > 0 ? Number(c.pageSize) : 500,
			},
		});
	}
	return systems;
}

/** Looks up named systems; an unknown name stops the node before anything is written. */
export function requireSystems(
	ctx: IExecuteFunctions,
	systems: Map<string, SystemConnection>,
	names: string[],
	field: string,
	itemIndex = 0,
): SystemConnection[] {
	return names.map((name) => {
		const system = systems.get(name);
		if (!system) {
			throw new NodeOperationError(ctx.getNode(), `Unknown system "${name}" in ${field}`, {
				itemIndex,
				description: `Field: ${field}. Connected systems: ${[...systems.keys()].join(', ') || 'none'}. Add a Data Sync System credential whose System Name is "${name}".`,
			});
		}
		return system;
	});
}
