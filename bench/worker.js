/**
 * One benchmark measurement in its own process (a clean peak RSS): bench/main.ts forks this
 * with `{ task, args }` as argv[2]; it runs bench/tasks/<task>.ts and sends the figures back over
 * IPC, with this process's peak RSS.
 */
'use strict';
require('./lib/register.js');

const spec = JSON.parse(process.argv[2]);

(async () => {
	let message;
	try {
		const task = require(`./tasks/${spec.task}.ts`);
		const result = await task.run(spec.args ?? {});
		message = { ok: true, result, maxRssMb: process.resourceUsage().maxRSS / 1024 };
	} catch (error) {
		message = { ok: false, error: String((error && error.stack) || error) };
	}
	if (process.send) process.send(message, () => process.exit(message.ok ? 0 : 1));
	else {
		console.log(JSON.stringify(message));
		process.exit(message.ok ? 0 : 1);
	}
})();
