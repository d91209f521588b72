/**
 * What n8n's own display rules show of a node, computed from its description with n8n-workflow's
 * helpers (the ones the editor calls), never from a hand-kept list: the browser tests compare the
 * parameter panel with this.
 */
import {
	NodeHelpers,
	type INodeParameters,
	type INodeProperties,
	type INodeTypeDescription,
} from 'n8n-workflow';

/** The parameters of a node dropped fresh: every default, as n8n fills them in. */
export function freshParameters(
	type: INodeTypeDescription,
	values: INodeParameters = {},
): INodeParameters {
	const version = Array.isArray(type.version) ? Math.max(...type.version) : type.version;
	return (
		NodeHelpers.getNodeParameters(
			type.properties,
			values,
			true,
			false,
			{ typeVersion: version },
			type,
		) ?? {}
	);
}

/** Top-level parameters that n8n-workflow's displayParameter shows for these values. */
export function shownParameters(
	type: INodeTypeDescription,
	parameters: INodeParameters,
): INodeProperties[] {
	const version = Array.isArray(type.version) ? Math.max(...type.version) : type.version;
	const seen = new Set<string>();
	return type.properties.filter((p) => {
		if (p.type === 'hidden' || seen.has(p.name)) return false;
		const shown = NodeHelpers.displayParameter(parameters, p, { typeVersion: version }, type);
		if (shown) seen.add(p.name);
		return shown;
	});
}

/** The credential slots shown for these values. */
export function shownCredentials(type: INodeTypeDescription, parameters: INodeParameters) {
	const version = Array.isArray(type.version) ? Math.max(...type.version) : type.version;
	return (type.credentials ?? []).filter(
		(c) =>
			!c.displayOptions ||
			NodeHelpers.displayParameter(parameters, c, { typeVersion: version }, type),
	);
}

/**
 * Parameters that switch what else is shown: options parameters that other parameters or
 * credential slots name in their display rules. Each is a mode selector the person must reach.
 */
export function modeSelectors(type: INodeTypeDescription): INodeProperties[] {
	const named = new Set<string>();
	const collect = (rules?: { show?: object; hide?: object }) => {
		for (const part of [rules?.show, rules?.hide])
			for (const name of Object.keys(part ?? {})) named.add(name);
	};
	for (const p of type.properties) collect(p.displayOptions);
	for (const c of type.credentials ?? []) collect(c.displayOptions);
	return type.properties.filter((p) => p.type === 'options' && named.has(p.name));
}
