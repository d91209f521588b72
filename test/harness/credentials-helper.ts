import { getAdditionalKeys } from 'n8n-core';
import { ICredentials, ICredentialsHelper, NodeHelpers, isExpression } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentialsEncrypted,
	ICredentialsExpressionResolveValues,
	ICredentialType,
	IExecuteData,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeParameters,
	INodeProperties,
	IRequestOptionsSimplified,
	IWorkflowDataProxyAdditionalKeys,
	IWorkflowExecuteAdditionalData,
	Workflow,
	WorkflowExecuteMode,
} from 'n8n-workflow';

/** Test credentials, keyed by credential type name. */
export interface HarnessCredentials {
	[credentialType: string]: ICredentialDataDecryptedObject;
}

/** In-memory stand-in for n8n-core's encrypted `Credentials` (no cipher, no database). */
class InMemoryCredentials extends ICredentials {
	constructor(
		details: INodeCredentialsDetails,
		type: string,
		private store: HarnessCredentials,
	) {
		super(details, type);
	}

	async getData(): Promise<ICredentialDataDecryptedObject> {
		return { ...(this.store[this.type] ?? {}) };
	}

	getDataToSave(): ICredentialsEncrypted {
		return {
			id: this.id,
			name: this.name,
			type: this.type,
			data: JSON.stringify(this.store[this.type] ?? {}),
		};
	}

	async setData(data: ICredentialDataDecryptedObject): Promise<void> {
		this.store[this.type] = { ...data };
	}

	async updateData(
		toUpdate: Partial<ICredentialDataDecryptedObject>,
		toDelete: string[] = [],
	): Promise<void> {
		const next = {
			...(this.store[this.type] ?? {}),
			...toUpdate,
		} as ICredentialDataDecryptedObject;
		for (const key of toDelete) delete next[key];
		this.store[this.type] = next;
	}
}

/**
 * `ICredentialsHelper` for the harness, modelled on n8n's `packages/cli/src/credentials-helper.ts`
 * (minus database, encryption, overwrites, external secrets, dynamic credentials):
 *
 * - `getDecrypted` returns the test credentials for the requested TYPE (the node's
 *   `credentials.<type>` {id,name} reference is not used to look them up), with the credential
 *   type's property defaults applied and expressions in the values resolved, like n8n.
 * - `authenticate` applies the credential type's `authenticate`: a function is called; a
 *   declarative `{ type: 'generic', properties: { headers|qs|body|auth: {...} } }` is applied with
 *   `={{$credentials.x}}` expressions resolved through the workflow's expression engine, exactly
 *   the way n8n's CLI does it.
 * - `preAuthentication` / `runPreAuthentication` are no-ops (return undefined).
 */
export class HarnessCredentialsHelper extends ICredentialsHelper {
	private readonly credentialTypes: Map<string, ICredentialType>;

	constructor(
		private readonly credentials: HarnessCredentials = {},
		credentialTypes: ICredentialType[] = [],
	) {
		super();
		this.credentialTypes = new Map(credentialTypes.map((type) => [type.name, type]));
	}

	private getType(typeName: string): ICredentialType | undefined {
		return this.credentialTypes.get(typeName);
	}

	getParentTypes(typeName: string): string[] {
		const type = this.getType(typeName);
		if (!type?.extends) return [];
		const parents: string[] = [];
		for (const parent of type.extends) {
			parents.push(parent, ...this.getParentTypes(parent));
		}
		return parents;
	}

	isCredentialUsableByNode(credentialType: string, nodeType: string): boolean {
		const type = this.getType(credentialType);
		if (!type?.restrictToSupportedNodes) return true;
		const supported = type.supportedNodes ?? [];
		const shortName = nodeType.includes('.')
			? nodeType.slice(nodeType.lastIndexOf('.') + 1)
			: nodeType;
		return supported.includes(nodeType) || supported.includes(shortName);
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		incomingRequestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const requestOptions = incomingRequestOptions;
		const credentialType = this.getType(typeName);
		const authenticate = credentialType?.authenticate;
		if (!authenticate) return requestOptions as IHttpRequestOptions;

		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions as IHttpRequestOptions);
		}

		if (typeof authenticate === 'object') {
			if (!workflow || !node) {
				throw new Error('Workflow and node are required for declarative credential authentication');
			}
			if (requestOptions.headers === undefined) requestOptions.headers = {};
			if (authenticate.type === 'generic') {
				const target = requestOptions as unknown as Record<string, Record<string, unknown>>;
				for (const [outerKey, outerValue] of Object.entries(authenticate.properties)) {
					for (const [key, value] of Object.entries(outerValue as Record<string, unknown>)) {
						const keyResolved = this.resolveValue(
							key,
							{ $credentials: credentials },
							workflow,
							node,
						);
						const valueResolved = this.resolveValue(
							value as string,
							{ $credentials: credentials },
							workflow,
							node,
						);
						if (!target[outerKey]) target[outerKey] = {};
						target[outerKey][keyResolved] = valueResolved;
					}
				}
			}
		}
		return requestOptions as IHttpRequestOptions;
	}

	/** Same as the CLI: non-expressions pass through, expressions resolve to a string. */
	private resolveValue(
		parameterValue: string,
		additionalKeys: IWorkflowDataProxyAdditionalKeys,
		workflow: Workflow,
		node: INode,
	): string {
		if (!isExpression(parameterValue)) return parameterValue;
		const returnValue = workflow.expression.getSimpleParameterValue(
			node,
			parameterValue,
			'internal',
			additionalKeys,
			undefined,
			'',
		);
		if (!returnValue) return '';
		return returnValue.toString();
	}

	async preAuthentication(
		_helpers: IHttpRequestHelper,
		_credentials: ICredentialDataDecryptedObject,
		_typeName: string,
		_node: INode,
		_credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async runPreAuthentication(
		_helpers: IHttpRequestHelper,
		_credentials: ICredentialDataDecryptedObject,
		_typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		return undefined;
	}

	async getCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentials> {
		this.assertKnown(type, nodeCredentials);
		return new InMemoryCredentials(nodeCredentials, type, this.credentials);
	}

	async getDecrypted(
		additionalData: IWorkflowExecuteAdditionalData,
		nodeCredentials: INodeCredentialsDetails,
		type: string,
		mode: WorkflowExecuteMode,
		executeData?: IExecuteData,
		raw?: boolean,
		expressionResolveValues?: ICredentialsExpressionResolveValues,
	): Promise<ICredentialDataDecryptedObject> {
		this.assertKnown(type, nodeCredentials);
		const original = { ...this.credentials[type] };
		if (raw === true) return original;

		// Add the default values of the credential type's properties (as n8n does).
		const properties = this.getCredentialsProperties(type);
		let data = (
			properties.length > 0
				? NodeHelpers.getNodeParameters(
						properties,
						original as INodeParameters,
						true,
						false,
						null,
						null,
					)
				: original
		) as ICredentialDataDecryptedObject;
		// getNodeParameters drops values that are not declared properties: keep them.
		data = { ...original, ...data };

		// Resolve expressions in credential values, with the node's item context.
		if (expressionResolveValues) {
			const additionalKeys = getAdditionalKeys(additionalData, mode, null, { isCredential: true });
			data = expressionResolveValues.workflow.expression.getParameterValue(
				data as INodeParameters,
				expressionResolveValues.runExecutionData,
				expressionResolveValues.runIndex,
				expressionResolveValues.itemIndex,
				expressionResolveValues.node.name,
				expressionResolveValues.connectionInputData,
				mode,
				additionalKeys,
				executeData,
				false,
				data,
			) as ICredentialDataDecryptedObject;
		}
		return data;
	}

	async updateCredentials(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.credentials[type] = { ...data };
	}

	async updateCredentialsOauthTokenData(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.credentials[type] = { ...this.credentials[type], oauthTokenData: data.oauthTokenData };
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		const credentialType = this.getType(type);
		if (!credentialType) return [];
		if (!credentialType.extends) return credentialType.properties;
		const combined: INodeProperties[] = [];
		for (const parent of credentialType.extends) {
			NodeHelpers.mergeNodeProperties(combined, this.getCredentialsProperties(parent));
		}
		NodeHelpers.mergeNodeProperties(combined, credentialType.properties);
		return combined;
	}

	private assertKnown(type: string, nodeCredentials: INodeCredentialsDetails | undefined): void {
		if (this.credentials[type] === undefined) {
			throw new Error(
				`Test harness has no credentials of type "${type}"` +
					(nodeCredentials?.name ? ` (node references "${nodeCredentials.name}")` : '') +
					'; pass them in RunOptions.credentials',
			);
		}
	}
}
