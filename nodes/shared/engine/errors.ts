/** A record the engine cannot use. Carries where it came from so the node can name item and field. */
export class SyncInputError extends Error {
	constructor(
		message: string,
		readonly itemIndex: number,
		readonly field: string,
		readonly system?: string,
		readonly inputIndex = 0,
		/** The record's key where it could be read, so the key can be held back everywhere. */
		readonly key?: string,
	) {
		super(message);
		this.name = 'SyncInputError';
	}
}
