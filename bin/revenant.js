#!/usr/bin/env node
require('../dist/client/cli.js').main(process.argv.slice(2)).then((code) => process.exit(code));
