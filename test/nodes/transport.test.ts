import { authenticateSystem } from '../../nodes/shared/systemCredential';
import { backoffMs, DEFAULT_RETRY, keySegment, retryAfterMs } from '../../nodes/shared/transport';

describe('retry policy', () => {
	it('reads Retry-After in both forms', () => {
		const now = Date.parse('2026-11-24T12:00:00Z');
		expect(retryAfterMs('2', now)).toBe(2000);
		expect(retryAfterMs('0.5', now)).toBe(500);
		expect(retryAfterMs('Tue, 24 Nov 2026 12:00:03 GMT', now)).toBe(3000);
		expect(retryAfterMs('Tue, 24 Nov 2026 11:59:00 GMT', now)).toBe(0);
		expect(retryAfterMs(undefined, now)).toBeUndefined();
		expect(retryAfterMs('soon', now)).toBeUndefined();
	});

	it('backs off exponentially with equal jitter, capped', () => {
		const low = () => 0;
		const high = () => 1;
		expect([1, 2, 3, 4].map((a) => backoffMs(a, DEFAULT_RETRY, low))).toEqual([
			125, 250, 500, 1000,
		]);
		expect([1, 2, 3, 4].map((a) => backoffMs(a, DEFAULT_RETRY, high))).toEqual([
			250, 500, 1000, 2000,
		]);
		expect(backoffMs(20, DEFAULT_RETRY, high)).toBe(DEFAULT_RETRY.maxDelayMs);
	});

	it('puts a key in one path segment that cannot climb the path', () => {
		expect(keySegment('..')).toBe('%2E%2E');
		expect(keySegment('a/../../admin')).toBe('a%2F%2E%2E%2F%2E%2E%2Fadmin');
		expect(keySegment('C-1 ?#')).toBe('C-1%20%3F%23');
	});
});

describe('system credential', () => {
	const credentials = {
		systemName: 'system_b',
		baseUrl: 'http://127.0.0.1:5702/',
		authType: 'bearer',
		token: 'tok-123',
	};

	it('adds each kind of auth to requests for its own base URL', async () => {
		const bearer = await authenticateSystem(credentials, { url: 'http://127.0.0.1:5702/records' });
		expect(bearer.headers).toEqual({ Authorization: 'Bearer tok-123' });
		const apiKey = await authenticateSystem(
			{ ...credentials, authType: 'apiKey', headerName: 'X-Key', apiKey: 'k' },
			{ url: 'http://127.0.0.1:5702/records/lookup', headers: { accept: 'application/json' } },
		);
		expect(apiKey.headers).toEqual({ accept: 'application/json', 'X-Key': 'k' });
		const basic = await authenticateSystem(
			{ ...credentials, authType: 'basic', username: 'u', password: 'p' },
			{ url: 'http://127.0.0.1:5702/records' },
		);
		expect(basic.auth).toEqual({ username: 'u', password: 'p' });
		const none = await authenticateSystem(
			{ ...credentials, authType: 'none' },
			{ url: 'http://127.0.0.1:5702/records' },
		);
		expect(none.headers).toEqual({});
	});

	it.each([
		'http://127.0.0.1:5703/records',
		'http://127.0.0.1:57021/records',
		'http://127.0.0.1:5702.evil.example/records',
		'http://evil.example/?u=http://127.0.0.1:5702/',
	])('refuses to send the secret to %s', async (url) => {
		await expect(authenticateSystem(credentials, { url })).rejects.toThrow(
			'refused to send the credential of "system_b" outside its base URL',
		);
	});
});
