import { newSyncId } from '../../nodes/shared/engine';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('newSyncId', () => {
	test('is a UUIDv7 (version 7, RFC 4122 variant)', () => {
		for (let i = 0; i < 100; i++) expect(newSyncId()).toMatch(UUID_V7);
	});

	test('carries its millisecond in the first 48 bits', () => {
		const now = Date.UTC(2024, 0, 1, 10, 0, 0, 123);
		const id = newSyncId(now);
		expect(id.slice(0, 13)).toBe(
			`${now.toString(16).padStart(12, '0').slice(0, 8)}-${now.toString(16).padStart(12, '0').slice(8)}`,
		);
		expect(msOf(id)).toBe(now);
		const before = Date.now();
		const fresh = msOf(newSyncId());
		expect(fresh).toBeGreaterThanOrEqual(before);
		expect(fresh).toBeLessThanOrEqual(Date.now());
	});

	test('1000 ids in the same millisecond are all unique', () => {
		const now = Date.UTC(2024, 0, 1);
		const ids = Array.from({ length: 1000 }, () => newSyncId(now));
		expect(new Set(ids).size).toBe(1000);
		for (const id of ids) {
			expect(id).toMatch(UUID_V7);
			expect(msOf(id)).toBe(now);
		}
	});

	test('two syncs in the same second do not share an id', () => {
		const second = Date.UTC(2024, 0, 1, 12, 0, 0);
		expect(newSyncId(second)).not.toBe(newSyncId(second + 999));
		expect(newSyncId(second)).not.toBe(newSyncId(second));
	});

	test('ids sort by time across milliseconds', () => {
		const start = Date.UTC(2024, 0, 1);
		const ids: string[] = [];
		for (let i = 0; i < 500; i++) ids.push(newSyncId(start + i * 7), newSyncId(start + i * 7 + 1));
		expect([...ids].sort()).toEqual(ids);
		// Including across a hex digit carry and across years.
		expect(newSyncId(0xfffffff) < newSyncId(0x10000000)).toBe(true);
		expect(
			newSyncId(Date.UTC(2024, 11, 31, 23, 59, 59, 999)) < newSyncId(Date.UTC(2025, 0, 1)),
		).toBe(true);
	});
});
