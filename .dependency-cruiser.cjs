/**
 * The layout of lib/: each folder is a stage, and a stage imports only from
 * the stages before it, so the file list reads as the data flow and nothing
 * is tangled. `npm run lint:layout` (and test/scripts/layout.test.ts) checks it.
 */
const STAGES = ['util', 'data', 'model', 'engine', 'training', 'report', 'notebook'];

const laterStages = STAGES.map((stage, i) => ({
  name: `${stage}-imports-only-earlier-stages`,
  comment: `lib/${stage}/ may import only from ${STAGES.slice(0, i + 1).join(', ')}`,
  severity: 'error',
  from: { path: `^lib/${stage}/` },
  to: { path: `^lib/(${STAGES.slice(i + 1).join('|') || '$^'})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: the modules on it cannot be read, tested or loaded one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...laterStages.filter((rule) => !rule.to.path.includes('$^')),
    {
      name: 'stages-do-not-import-the-top',
      comment: 'lib/index.ts and lib/pipeline.ts sit on top of the stages; a stage importing them would be a cycle in waiting',
      severity: 'error',
      from: { path: '^lib/[^/]+/' },
      to: { path: '^lib/(index|pipeline)\\.ts$' },
    },
    {
      name: 'lib-does-not-import-scripts-or-tests',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^(scripts|test|notebooks)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^lib/.*\\.wasm$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
