/** A record the engine cannot use. Carries where it came from so the node can name item and field. */
export class SyncInputError extends Error {
	constructor(
		message: string,
		readonly itemIndex: number,
		readonly field: string,
		readonly system?: string,
		readonly inputIndex = 0,
	) {
		super(message);
		this.name = 'SyncInputError';
	}
}
