import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { findJupyterPython, ROOT } from '../../scripts/jupyter';

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  /** By mime type: text as a string or lines; JSON types (plotly's) as their value. */
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
export interface ExecutedNotebook {
  cells: { cell_type: string; source: string | string[]; outputs?: NotebookOutput[] }[];
}

/** Under CI a missing Jupyter fails the tests that need it; elsewhere they skip. */
export const jupyterMissing =
  findJupyterPython() === null && process.env.CI !== 'true' ? 'Jupyter is not installed (apt-get install jupyter-notebook jupyter-nbconvert)' : false;

/** A folder under out/ laid out like notebooks/ (lib linked), so a kernel started there finds this checkout's tslab and lib. */
export function scratchNotebooks(prefix: string): string {
  fs.mkdirSync(path.join(ROOT, 'out'), { recursive: true });
  const dir = path.join(fs.mkdtempSync(path.join(ROOT, 'out', prefix)), 'notebooks');
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(ROOT, 'lib'), path.join(dir, 'lib'));
  return dir;
}

/**
 * Executes a copy of notebooks/<name> through `npm run execute` in a scratch
 * folder inside the repository (so node_modules and lib/ resolve as for the
 * real one, and what it saves to ../models stays out of the user's models/).
 */
export function executeNotebook(name: string, env: NodeJS.ProcessEnv = {}): { notebook: ExecutedNotebook; html: string; scratch: string } {
  const dir = scratchNotebooks('test-run-');
  const scratch = path.dirname(dir);
  fs.copyFileSync(path.join(ROOT, 'notebooks', name), path.join(dir, name));
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'execute.ts'), '--out-dir', scratch, path.join(dir, name)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`executing ${name} failed (exit ${result.status}):\n${result.stderr.slice(-4000)}`);
  const base = name.replace(/\.ipynb$/, '');
  return {
    notebook: JSON.parse(fs.readFileSync(path.join(scratch, `${base}.ipynb`), 'utf8')) as ExecutedNotebook,
    html: fs.readFileSync(path.join(scratch, `${base}.html`), 'utf8'),
    scratch,
  };
}

export function outputText(o: NotebookOutput): string {
  const join = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? v.join('') : '');
  return join(o.text) + Object.values(o.data ?? {}).map(join).join('') + (o.evalue ?? '');
}

/**
 * executeNotebook, then the check every notebook test makes first: no cell
 * wrote an error. With the outputs, in order, and their text joined.
 */
export function executeCleanly(name: string, env: NodeJS.ProcessEnv = {}) {
  const run = executeNotebook(name, env);
  const outputs = run.notebook.cells.flatMap((c) => c.outputs ?? []);
  const errors = outputs.filter((o) => o.output_type === 'error' || o.name === 'stderr');
  assert.deepEqual(errors.map(outputText), [], `no cell of ${name} wrote an error`);
  const texts = outputs.map(outputText);
  return { ...run, outputs, texts, text: texts.join('\n') };
}
