import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');
const CONFIG = path.join(root, '.dependency-cruiser.cjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** dependency-cruiser's violations of the project's layout rules for `dir`, run from `cwd`. */
function violations(cwd: string, dir: string): Violation[] {
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs'), dir, '--config', CONFIG, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
  });
  assert.ok(result.stdout, `dependency-cruiser printed nothing (exit ${result.status}): ${result.stderr}`);
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

test('lib/ has no import cycles and each stage imports only from the stages before it', () => {
  const found = violations(root, 'lib');
  assert.deepEqual(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
});

test('the layout rules catch a backward import and a cycle', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layout-'));
  try {
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    };
    fs.copyFileSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
    write('lib/engine/kernels.ts', "import { figure } from '../notebook/plots';\nexport const kernel = figure;\n");
    write('lib/notebook/plots.ts', 'export const figure = 1;\n');
    write('lib/data/a.ts', "import { b } from './b';\nexport const a = b;\n");
    write('lib/data/b.ts', "import { a } from './a';\nexport const b = () => a;\n");
    const rules = new Set(violations(dir, 'lib').map((v) => v.rule.name));
    assert.ok(rules.has('engine-imports-only-earlier-stages'), `rules that fired: ${[...rules]}`);
    assert.ok(rules.has('no-circular'), `rules that fired: ${[...rules]}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
