import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { findJupyterPython, ROOT } from '../scripts/jupyter';

export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
}
export interface ExecutedNotebook {
  cells: { cell_type: string; source: string | string[]; outputs?: NotebookOutput[] }[];
}

export const jupyterMissing = findJupyterPython() === null ? 'Jupyter is not installed (apt-get install jupyter-notebook jupyter-nbconvert)' : false;

/**
 * Executes a copy of notebooks/<name> through `npm run execute` in a scratch
 * folder inside the repository (so node_modules and lib/ resolve as for the
 * real one, and what it saves to ../models stays out of the user's models/).
 */
export function executeNotebook(name: string, env: NodeJS.ProcessEnv = {}): { notebook: ExecutedNotebook; html: string; scratch: string } {
  fs.mkdirSync(path.join(ROOT, 'out'), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(ROOT, 'out', 'test-run-'));
  const dir = path.join(scratch, 'notebooks');
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(ROOT, 'lib'), path.join(dir, 'lib'));
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
  const join = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : (v ?? ''));
  return join(o.text) + Object.values(o.data ?? {}).map(join).join('') + (o.evalue ?? '');
}
