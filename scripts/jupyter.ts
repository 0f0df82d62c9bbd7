import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

export const JUPYTER_HELP =
  'Jupyter was not found. Install it, then run `npm run setup-kernel`:\n' +
  '  Debian/Ubuntu: sudo apt-get install jupyter-notebook jupyter-nbconvert\n' +
  '  elsewhere:     python3 -m pip install notebook nbconvert\n' +
  'Set JUPYTER_PYTHON=/path/to/python if Jupyter lives in another Python.';

/**
 * The Python that has Jupyter. Debian's Jupyter lives under /usr/bin/python3,
 * which may not be the `python3` first on PATH (pyenv, venvs), so both are tried.
 */
export function findJupyterPython(): string | null {
  const candidates = [process.env.JUPYTER_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import jupyter_client, nbconvert, notebook'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return null;
}

export function requireJupyterPython(): string {
  const python = findJupyterPython();
  if (python === null) {
    console.error(JUPYTER_HELP);
    process.exit(1);
  }
  return python;
}

export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<Buffer> {
  return spawnSync(command, args, { stdio: 'inherit', cwd: ROOT, env: options.env ?? process.env });
}
