/**
 * Lets plain `node` load this repository's TypeScript (bench/, test/harness, nodes/, test/...)
 * the way ts-jest does for the tests: each .ts file transpiled on its own to CommonJS with the
 * repo's `typescript` devDependency (transpile only, no type check; `npx tsc -p bench` checks).
 *
 * Why not Node 24's own type stripping: the harness and the nodes are written for ts-jest/tsc,
 * with extensionless and directory imports ('./env', '../shared/engine') and a parameter
 * property (test/harness/node-types.ts), none of which type stripping can load.
 *
 * Only files of this repository outside node_modules go through it; transpiled text is cached
 * by content hash under the OS temp dir, so child processes start fast.
 */
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
// Profiles then name TypeScript lines (bench/lib/profile.ts reads the inline source maps).
if (process.env.BENCH_PROFILE_DIR) process.setSourceMapsEnabled(true);
const CACHE = path.join(os.tmpdir(), 'n8n-data-sync-bench-tscache');
let ts;

function transpile(source, filename) {
	const hash = crypto.createHash('sha1').update(filename).update('\0').update(source).digest('hex');
	const cached = path.join(CACHE, `${hash}.js`);
	try {
		return fs.readFileSync(cached, 'utf8');
	} catch {
		// not cached yet
	}
	ts ??= require(path.join(ROOT, 'node_modules/typescript'));
	const out = ts.transpileModule(source, {
		fileName: filename,
		compilerOptions: {
			module: ts.ModuleKind.CommonJS,
			target: ts.ScriptTarget.ES2022,
			esModuleInterop: true,
			allowImportingTsExtensions: true,
			inlineSourceMap: true,
			inlineSources: false,
			useDefineForClassFields: false,
		},
	}).outputText;
	try {
		fs.mkdirSync(CACHE, { recursive: true });
		const tmp = `${cached}.${process.pid}`;
		fs.writeFileSync(tmp, out);
		fs.renameSync(tmp, cached);
	} catch {
		// a cache we cannot write is only slower
	}
	return out;
}

const ours = (filename) =>
	typeof filename === 'string' &&
	filename.startsWith(ROOT + path.sep) &&
	!filename.includes(`${path.sep}node_modules${path.sep}`);

// As ts-jest (moduleFileExtensions ts, js, json): an extensionless relative import from our
// TypeScript means the .ts file, even where a .json of the same stem sits next to it
// (nodes/X/X.node.ts beside the codex file X.node.json), which plain require would pick.
const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveTs(request, parent, ...rest) {
	if (parent && ours(parent.filename) && /^\.\.?\//.test(request)) {
		const base = path.resolve(path.dirname(parent.filename), request);
		if (!/\.(ts|js|cjs|mjs|json)$/.test(base) || !fs.existsSync(base)) {
			for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
				if (fs.existsSync(candidate)) return candidate;
			}
		}
	}
	return resolve.call(this, request, parent, ...rest);
};

const previous = Module._extensions['.ts'];
Module._extensions['.ts'] = function loadTs(module, filename) {
	if (!ours(filename)) {
		if (previous) return previous(module, filename);
		throw new Error(`bench/lib/register.js: will not load ${filename}`);
	}
	module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
