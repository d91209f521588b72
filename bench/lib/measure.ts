/** Small helpers shared by the benchmark tasks (run inside worker processes). */
import { createHash } from 'node:crypto';

const MB = 1024 * 1024;

export function gc(): void {
	const g = (globalThis as { gc?: () => void }).gc;
	if (g) {
		g();
		g();
	}
}

export const rssMb = () => process.memoryUsage().rss / MB;
export const heapMb = () => process.memoryUsage().heapUsed / MB;
/** Peak resident set size of this process so far (the kernel's high-water mark), in MB. */
export const maxRssMb = () => process.resourceUsage().maxRSS / 1024;

export const now = () => performance.now();

/** Order-independent digest of a key set, to compare groupings across processes. */
export function digest(keys: Iterable<string>): string {
	return createHash('sha1')
		.update([...keys].sort().join('\n'))
		.digest('hex')
		.slice(0, 16);
}

export function median(values: number[]): number {
	const s = [...values].sort((a, b) => a - b);
	const m = Math.floor(s.length / 2);
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const log = (...parts: unknown[]) =>
	process.stderr.write(`[bench ${process.pid}] ${parts.map(String).join(' ')}\n`);

/**
 * Runs fn under the V8 CPU profiler when BENCH_PROFILE_DIR is set (only that region, not module
 * loading or data generation), writes `<dir>/<label>.cpuprofile` and returns its summary.
 */
export async function profiled<T>(
	label: string,
	fn: () => Promise<T>,
): Promise<{ value: T; profile?: import('./profile.ts').ProfileSummary }> {
	const dir = process.env.BENCH_PROFILE_DIR;
	if (!dir) return { value: await fn() };
	const { Session } = await import('node:inspector/promises');
	const { mkdirSync, writeFileSync } = await import('node:fs');
	const path = await import('node:path');
	const { summarize } = await import('./profile.ts');
	const session = new Session();
	session.connect();
	await session.post('Profiler.enable');
	await session.post('Profiler.setSamplingInterval', { interval: 250 });
	await session.post('Profiler.start');
	const file = path.join(dir, `${label}.cpuprofile`);
	let value: T;
	try {
		value = await fn();
	} finally {
		const { profile } = await session.post('Profiler.stop');
		session.disconnect();
		mkdirSync(dir, { recursive: true });
		writeFileSync(file, JSON.stringify(profile));
	}
	return { value, profile: summarize(file) };
}
