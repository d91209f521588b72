/**
 * The benchmarks' one command: `node bench/run.js [--only compare,scale,writes,validate,e2e]
 * [--quick] [--profile] [--out file]` (npm run bench). Prints every figure with its ratio and
 * writes bench/results.json. See bench/README.md.
 */
'use strict';
require('./lib/register.js');

require('./main.ts')
	.main(process.argv.slice(2))
	.catch((error) => {
		console.error(error);
		process.exitCode = 1;
	});
