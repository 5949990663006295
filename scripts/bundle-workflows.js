// Builds the workflow bundle ahead of time, so workers start in a second instead of bundling.
const { bundleWorkflowCode } = require('@temporalio/worker');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
(async () => {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(join(__dirname, '..', 'dist', 'workflows')) , logger: { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} } });
  writeFileSync(join(__dirname, '..', 'dist', 'workflow-bundle.js'), code);
})().catch((e) => { console.error(e); process.exit(1); });
