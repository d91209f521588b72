/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area (this
 * package's nodes, n8n-core, n8n-workflow, other node_modules, Node internals, GC/idle), and the
 * inclusive time of this package's top-level node functions.
 */
import { readFileSync } from 'node:fs';
import { findSourceMap } from 'node:module';
import path from 'node:path';

interface CallFrame {
	functionName: string;
	url: string;
	lineNumber: number;
	columnNumber: number;
}
interface ProfileNode {
	id: number;
	callFrame: CallFrame;
	children?: number[];
}
interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

export interface ProfileSummary {
	file: string;
	totalMs: number;
	byArea: Array<{ area: string; ms: number; share: number }>;
	topSelf: Array<{ fn: string; where: string; ms: number; share: number }>;
	/** Inclusive time of functions in this package's code (nodes/), largest first. */
	topInclusiveOurs: Array<{ fn: string; where: string; ms: number; share: number }>;
	/** Samples with this package's code anywhere on the stack (what it runs, n8n helpers included). */
	oursInclusiveMs: number;
	idleMs: number;
}

const ROOT = path.resolve(__dirname, '../..');

/** The package a file belongs to, from its last node_modules segment ("@n8n/x", "lodash"). */
function packageOf(file: string): string | undefined {
	const at = file.lastIndexOf('/node_modules/');
	if (at < 0) return undefined;
	const parts = file.slice(at + '/node_modules/'.length).split('/');
	return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** This package's code: the sources here, or the built package installed into an n8n. */
const isOurs = (file: string) =>
	file.startsWith(`${ROOT}/nodes/`) || file.includes('/n8n-nodes-data-sync/dist/nodes/');

function areaOf(url: string, fn: string): string {
	if (!url) {
		if (fn === '(garbage collector)') return 'GC';
		if (fn === '(idle)' || fn === '(program)') return fn;
		return 'V8/native (builtins, JSON, isolated-vm calls ...)';
	}
	const file = url.replace(/^file:\/\//, '');
	if (isOurs(file)) return 'this package (nodes/)';
	if (file.startsWith('node:')) return 'Node internals';
	const pkg = packageOf(file);
	if (pkg === 'lodash' || pkg?.startsWith('lodash.')) return 'lodash';
	if (pkg) return pkg;
	if (file.startsWith(`${ROOT}/`)) return `repo ${path.relative(ROOT, file).split('/')[0]}/`;
	return 'other';
}

/**
 * file:line of a call frame, in the TypeScript source where the transpiled module carries an
 * inline source map (bench/lib/register.js enables source maps when profiling).
 */
const short = (url: string, line: number, column = 0) => {
	const file = url.replace(/^file:\/\//, '');
	const rel = file.includes('/node_modules/')
		? file.slice(file.lastIndexOf('/node_modules/') + '/node_modules/'.length)
		: file.startsWith(ROOT)
			? path.relative(ROOT, file)
			: file;
	if (file.endsWith('.ts')) {
		try {
			const entry = findSourceMap(file)?.findEntry(line, column) as
				| { originalLine?: number }
				| undefined;
			if (entry && typeof entry.originalLine === 'number')
				return `${rel}:${entry.originalLine + 1}`;
		} catch {
			// no map: the transpiled line
		}
	}
	return `${rel}:${line + 1}`;
};

export function summarize(file: string, top = 15): ProfileSummary {
	const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const self = new Map<number, number>();
	for (let i = 0; i < profile.samples.length; i++) {
		const dt = (profile.timeDeltas[i] ?? 0) / 1000;
		self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
	}
	const totalMs = [...self.values()].reduce((a, b) => a + b, 0);
	const areas = new Map<string, number>();
	const fns = new Map<string, { fn: string; where: string; ms: number }>();
	for (const [id, ms] of self) {
		const n = byId.get(id)!;
		const { functionName, url, lineNumber, columnNumber } = n.callFrame;
		const area = areaOf(url, functionName);
		areas.set(area, (areas.get(area) ?? 0) + ms);
		const key = `${functionName}@${url}:${lineNumber}:${columnNumber}`;
		const e = fns.get(key) ?? {
			fn: functionName || '(anonymous)',
			where: url ? short(url, lineNumber, columnNumber) : area,
			ms: 0,
		};
		e.ms += ms;
		fns.set(key, e);
	}
	// Inclusive time of our functions: walk the tree, counting a function once per stack.
	const parent = new Map<number, number>();
	for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const inclusive = new Map<string, { fn: string; where: string; ms: number }>();
	let oursInclusiveMs = 0;
	for (const [id, ms] of self) {
		const seen = new Set<string>();
		let underOurs = false;
		for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
			const { functionName, url, lineNumber, columnNumber } = byId.get(cur)!.callFrame;
			if (!isOurs(url.replace(/^file:\/\//, ''))) continue;
			underOurs = true;
			const key = `${functionName}@${url}:${lineNumber}:${columnNumber}`;
			if (seen.has(key)) continue;
			seen.add(key);
			const e = inclusive.get(key) ?? {
				fn: functionName || '(anonymous)',
				where: short(url, lineNumber, columnNumber),
				ms: 0,
			};
			e.ms += ms;
			inclusive.set(key, e);
		}
		if (underOurs) oursInclusiveMs += ms;
	}
	const share = (ms: number) => ms / totalMs;
	return {
		file,
		totalMs,
		oursInclusiveMs,
		idleMs: areas.get('(idle)') ?? 0,
		byArea: [...areas]
			.map(([area, ms]) => ({ area, ms, share: share(ms) }))
			.sort((a, b) => b.ms - a.ms),
		topSelf: [...fns.values()]
			.sort((a, b) => b.ms - a.ms)
			.slice(0, top)
			.map((e) => ({ ...e, share: share(e.ms) })),
		topInclusiveOurs: [...inclusive.values()]
			.sort((a, b) => b.ms - a.ms)
			.slice(0, top)
			.map((e) => ({ ...e, share: share(e.ms) })),
	};
}

export function printSummary(s: ProfileSummary, print: (line: string) => void = console.log): void {
	const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(6);
	const ms = (x: number) => `${x.toFixed(0)} ms`.padStart(9);
	print(`profile ${path.relative(process.cwd(), s.file)} (${s.totalMs.toFixed(0)} ms sampled)`);
	print('  self time by area:');
	for (const a of s.byArea.slice(0, 10)) print(`    ${ms(a.ms)} ${pct(a.share)}  ${a.area}`);
	print('  top functions by self time:');
	for (const f of s.topSelf) print(`    ${ms(f.ms)} ${pct(f.share)}  ${f.fn}  ${f.where}`);
	print('  this package, inclusive time:');
	for (const f of s.topInclusiveOurs) print(`    ${ms(f.ms)} ${pct(f.share)}  ${f.fn}  ${f.where}`);
}
