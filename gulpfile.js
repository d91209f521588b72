// Runs after `n8n-node build` (tsc + icon copy). It adds what that step does not do:
// ships the bundled workflows inside the package, and checks that every path in package.json's
// `n8n` field was built and every icon a node names is in dist/, so a broken package never packs.
const { src, dest, series } = require('gulp');
const fs = require('node:fs');
const path = require('node:path');

function copyWorkflows() {
	return src('workflows/*.json', { allowEmpty: true }).pipe(dest('dist/workflows'));
}

function checkPackage(done) {
	const pkg = require('./package.json');
	const problems = [];
	for (const file of [...pkg.n8n.nodes, ...pkg.n8n.credentials]) {
		if (!fs.existsSync(file)) {
			problems.push(`${file} is listed in package.json but was not built`);
			continue;
		}
		const exported = require(path.resolve(file));
		for (const Type of Object.values(exported)) {
			const icon = new Type().description?.icon ?? new Type().icon;
			const files = typeof icon === 'string' ? [icon] : Object.values(icon ?? {});
			for (const name of files.filter((f) => f.startsWith('file:'))) {
				const iconPath = path.join(path.dirname(file), name.slice(5));
				if (!fs.existsSync(iconPath))
					problems.push(`${file} names icon ${name}, missing at ${iconPath}`);
			}
		}
	}
	done(problems.length ? new Error(problems.join('\n')) : undefined);
}

exports.default = series(copyWorkflows, checkPackage);
