// The house's plan, checked on the TypeScript sources themselves (no build needed; `npm run
// lint` runs it): shared vocabulary (model/) at the bottom, the engine by concern above it, the
// Temporal surface (activities/) and the orchestration (workflows/) on top, neither importing
// the other, workflows/ importing only model/ and Temporal, and no import cycle anywhere.
// test/unit/layout.test.ts holds the same rules to account.
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { dirname, join, normalize } = require('node:path');

const ENGINE = ['runtime', 'mysql', 'binlog', 'table', 'control', 'checks'];
const SOURCE_FOLDERS = ['model', ...ENGINE, 'activities', 'workflows', 'worker', 'client'];

/** Who may import whom: a folder's rule, given the imported file's folder. */
const ALLOWED = {
  // Deterministic, pure: the workflow bundle holds it.
  model: (to) => to === 'model',
  workflows: (to) => to === 'model' || to === 'workflows',
  activities: (to) => to !== 'workflows' && to !== 'worker' && to !== 'client',
  worker: (to) => to !== 'client',
  client: () => true,
  ...Object.fromEntries(ENGINE.map((folder) => [folder, (to) => to === 'model' || ENGINE.includes(to)])),
};

const IMPORT = /^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gms;

function sourcesUnder(root, folder) {
  return readdirSync(join(root, folder)).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(join(root, path)).isDirectory()) return sourcesUnder(root, path);
    return name.endsWith('.ts') ? [path.slice(0, -3)] : [];
  });
}

/** Every source file (path without .ts) and what it imports, type-only imports marked. */
function importGraph(root) {
  const sources = SOURCE_FOLDERS.flatMap((folder) => sourcesUnder(root, folder));
  const graph = new Map();
  for (const file of sources) {
    const text = readFileSync(join(root, `${file}.ts`), 'utf8');
    graph.set(
      file,
      [...text.matchAll(IMPORT)].map((m) => {
        const names = (m[2] ?? '').replace(/^\{|\}$/g, '').split(',');
        const everyNameIsAType = /^\{/.test(m[2] ?? '') && names.every((n) => !n.trim() || /^type\s/.test(n.trim()));
        const to = normalize(join(dirname(file), m[3] ?? m[4]));
        return { to: sources.includes(to) ? to : join(to, 'index'), typeOnly: !!m[1] || everyNameIsAType };
      }),
    );
  }
  return graph;
}

/** The cycles (type-only imports aside), the imports that go up a layer, and those of files that do not exist. */
function layoutProblems(root) {
  const graph = importGraph(root);
  const state = new Map();
  const cycles = [];
  const visit = (file, path) => {
    state.set(file, 'open');
    for (const edge of graph.get(file) ?? []) {
      if (edge.typeOnly) continue;
      if (state.get(edge.to) === 'open') cycles.push([...path.slice(path.indexOf(edge.to)), edge.to].join(' → '));
      else if (!state.has(edge.to)) visit(edge.to, [...path, edge.to]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  const folderOf = (file) => file.split('/')[0];
  const upward = [];
  const missing = [];
  for (const [file, edges] of graph) {
    for (const edge of edges) {
      if (!graph.has(edge.to)) missing.push(`${file} imports ${edge.to}`);
      else if (!ALLOWED[folderOf(file)](folderOf(edge.to))) upward.push(`${file} imports ${edge.to}`);
    }
  }
  return { files: graph.size, cycles, upward, missing };
}

module.exports = { ENGINE, importGraph, layoutProblems };

if (require.main === module) {
  const { files, cycles, upward, missing } = layoutProblems(join(__dirname, '..'));
  const problems = [
    ...cycles.map((c) => `import cycle: ${c}`),
    ...upward.map((u) => `import against the layers: ${u}`),
    ...missing.map((m) => `import of a file that does not exist: ${m}`),
  ];
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(`layout: ${files} files, no import cycle, every import down the layers`);
}
