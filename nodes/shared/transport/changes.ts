import type { IExecuteFunctions, IPollFunctions } from 'n8n-workflow';

import { readFeedPage, type FeedPage } from '../engine';
import {
	DEFAULT_RETRY,
	expectSuccess,
	systemRequest,
	TransportError,
	type RetryPolicy,
} from './request';
import type { SystemConnection } from './systems';

/**
 * One page of a system's change feed: `GET <path>?since=<seq>&limit=<n>` answers
 * `{changes: [{seq, key, op, origin, at, record}], last_seq, has_more}`. An answer of another
 * shape is a TransportError listing what is wrong with it.
 */
export async function readChangesPage(
	ctx: IExecuteFunctions | IPollFunctions,
	system: SystemConnection,
	path: string,
	since: number,
	limit: number,
	policy: RetryPolicy = DEFAULT_RETRY,
): Promise<FeedPage> {
	const what = `GET ${path}`;
	const response = await systemRequest(
		ctx,
		system,
		{ method: 'GET', path, qs: { since, limit } },
		policy,
	);
	expectSuccess(system, what, response);
	const read = readFeedPage(response.body);
	if ('problems' in read)
		throw new TransportError(
			`${system.name}: ${what} did not answer as a change feed: ${read.problems.join('; ')}`,
			system.name,
			response.attempts,
			response.status,
		);
	return read.page;
}
