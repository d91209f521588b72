import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { MIN_SECRET_LENGTH } from '../shared/engine';

/**
 * The webhook credential is checked where it is used, on requests coming in; what can be tested
 * before is that its secret is one worth having.
 */
export async function dataSyncWebhookSecret(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const data = credential.data ?? {};
	const secret = typeof data.secret === 'string' ? data.secret : '';
	if (secret.length < MIN_SECRET_LENGTH)
		return {
			status: 'Error',
			message: `The secret has ${secret.length} characters: use at least ${MIN_SECRET_LENGTH}, such as a random 32-character string`,
		};
	if (data.authMethod === 'headerSecret' && String(data.headerName ?? '').trim() === '')
		return { status: 'Error', message: 'Name the header that carries the secret' };
	return { status: 'OK', message: 'The secret is set; requests are checked as they arrive' };
}
