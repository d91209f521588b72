import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';

import { SYSTEM_CREDENTIAL_TYPES } from '../transport/systems';

type Condition = Record<string, Array<string | number | boolean>>;

/**
 * Credentials for the node description: slot n shows when at least n systems are connected,
 * labelled with its number. Connected Systems is a number, not a list: n8n's editor takes an
 * options parameter whose every value a credential names for the node's authentication selector,
 * and hides it (and each parameter it depends on) from the panel.
 */
export function systemCredentials(show: Condition, hide?: Condition): INodeCredentialDescription[] {
	return SYSTEM_CREDENTIAL_TYPES.map((name, i) => ({
		name,
		displayName: `Connected System ${i + 1}`,
		required: true,
		displayOptions: {
			show: { ...show, connectedSystems: [1, 2, 3, 4].filter((n) => n > i) },
			...(hide ? { hide } : {}),
		},
	}));
}

export function connectedSystemsProperty(show: Condition, hide?: Condition): INodeProperties {
	return {
		displayName: 'Connected Systems',
		name: 'connectedSystems',
		type: 'number',
		default: 3,
		noDataExpression: true,
		typeOptions: { minValue: 1, maxValue: SYSTEM_CREDENTIAL_TYPES.length, numberPrecision: 0 },
		displayOptions: { show, ...(hide ? { hide } : {}) },
		hint: 'Each gets a credential slot above: Connected System 1, 2 ...',
		description:
			'How many systems this node reaches over HTTP (1-4). Each gets a Data Sync System credential whose System Name is the name the data and the parameters use (system_a, crm ...); the slot order does not matter.',
	};
}
