import { NodeOperationError, type INodeExecutionData, type IPollFunctions } from 'n8n-workflow';

import {
	feedCursor,
	newSyncId,
	requestFromFeed,
	type FeedChange,
	type FeedPage,
	type TriggerSettings,
} from '../shared/engine';
import { itemJson } from '../shared/errors';
import { splitList } from '../shared/parameters/read';
import { readChangesPage } from '../shared/transport/changes';
import { TransportError } from '../shared/transport/request';
import { connectedSystems, type SystemConnection } from '../shared/transport/systems';
import { readTriggerSettings } from '../DataSyncTrigger/parameters';
import { DEFAULT_MAX_CHANGES, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './properties';

/** Pages read per poll while finding the feed's end on the first poll; then the next poll goes on. */
const MAX_PAGES_TO_END = 100;

/** Where the poll is in the system's feed: kept in the node's static data between polls. */
interface FeedPosition {
	/** The seq the next read starts after. */
	cursor?: number;
	/** True while the first polls still look for the feed's end (nothing is emitted). */
	seeking?: boolean;
}

interface Feed {
	system: SystemConnection;
	path: string;
	pageSize: number;
	read(since: number, limit: number): Promise<FeedPage>;
	next(page: FeedPage, since: number): number;
}

async function openFeed(ctx: IPollFunctions): Promise<{ feed: Feed; settings: TriggerSettings }> {
	const node = ctx.getNode();
	const [system] = (await connectedSystems(ctx)).values();
	if (!system)
		throw new NodeOperationError(node, 'No Data Sync System credential', {
			description: 'Add the credential of the system whose change feed this trigger reads.',
		});
	const options = ctx.getNodeParameter('options', {}) as { pageSize?: number; maxRecords?: number };
	const path = String(ctx.getNodeParameter('changesPath', '/records/changes')).trim();
	const settings = readTriggerSettings(
		node,
		(name, fallback) => ctx.getNodeParameter(name, fallback),
		system.name,
		splitList(ctx.getNodeParameter('systems', '')),
	);
	settings.maxRecords = Number(options.maxRecords ?? DEFAULT_MAX_CHANGES);
	if (settings.targetSystems.length === 0)
		throw new NodeOperationError(node, `No system to sync "${system.name}" to`, {
			description:
				'Name every system of this sync in Systems, the credential’s system and the others.',
		});
	const pageSize = Math.min(
		MAX_PAGE_SIZE,
		Math.max(1, Number(options.pageSize ?? DEFAULT_PAGE_SIZE)),
	);
	const feed: Feed = {
		system,
		path: path.startsWith('/') ? path : `/${path}`,
		pageSize,
		read: async (since, limit) => {
			try {
				return await readChangesPage(ctx, system, feed.path, since, limit);
			} catch (error) {
				throw new NodeOperationError(
					node,
					error instanceof TransportError ? error.message : (error as Error),
				);
			}
		},
		next: (page, since) => {
			const next = feedCursor(page, since);
			if (typeof next === 'number') return next;
			throw new NodeOperationError(node, `${system.name}: ${feed.path}: ${next.stuck}`);
		},
	};
	return { feed, settings };
}

/** The first polls: page to the feed's current end without emitting (n8n's convention). */
async function seekEnd(feed: Feed, position: FeedPosition): Promise<void> {
	let since = position.cursor ?? 0;
	for (let pages = 0; pages < MAX_PAGES_TO_END; pages++) {
		const page = await feed.read(since, MAX_PAGE_SIZE);
		since = feed.next(page, since);
		if (!page.hasMore) {
			position.cursor = since;
			position.seeking = false;
			return;
		}
	}
	position.cursor = since;
	position.seeking = true;
}

/** Changes after `since`, page by page, up to `max`; and where the next poll starts. */
async function readChanges(
	feed: Feed,
	since: number,
	max: number,
	onePage: boolean,
): Promise<{ changes: FeedChange[]; cursor: number }> {
	const changes: FeedChange[] = [];
	let cursor = since;
	while (changes.length < max) {
		const page = await feed.read(cursor, Math.min(feed.pageSize, max - changes.length));
		changes.push(...page.changes);
		cursor = feed.next(page, cursor);
		if (!page.hasMore || onePage) break;
	}
	return { changes, cursor };
}

/**
 * One poll: the changes since the stored cursor become one real-time sync request; echoes of
 * the sync's own writes are dropped, and a poll with nothing else emits nothing. The cursor
 * advances only once the changes were read and understood.
 */
export async function pollChanges(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
	const { feed, settings } = await openFeed(this);
	const position = this.getWorkflowStaticData('node') as FeedPosition;
	const manual = this.getMode() === 'manual';
	if (!manual && (position.cursor === undefined || position.seeking)) {
		await seekEnd(feed, position);
		return null;
	}
	const { changes, cursor } = await readChanges(
		feed,
		position.cursor ?? 0,
		settings.maxRecords,
		manual,
	);
	if (changes.length === 0) {
		if (!manual) position.cursor = cursor;
		return null;
	}
	const stamp = { syncId: newSyncId(), receivedAt: new Date().toISOString() };
	const verdict = requestFromFeed(feed.system.name, changes, settings, stamp);
	if (verdict.kind === 'invalid')
		throw new NodeOperationError(
			this.getNode(),
			`${feed.system.name}: ${feed.path} gave changes that cannot be synced`,
			{ description: verdict.reasons.join('\n') },
		);
	// A manual run (Fetch Test Event) shows what would start, and leaves the cursor alone.
	if (!manual) position.cursor = cursor;
	if (verdict.kind === 'echoes') return null;
	return [[{ json: itemJson(verdict.request) }]];
}
