/**
 * Registers the tslab TypeScript kernel with the machine's Jupyter (run by
 * `npm install`). The kernel spec needs an absolute `--binary`: the default
 * names a global `tslab` that a local install does not have. A missing
 * Jupyter is reported with the fix, never as a failed install.
 */
import * as path from 'node:path';
import { JUPYTER_HELP, ROOT, findJupyterPython, run } from './jupyter';

const python = findJupyterPython();
if (python === null) {
  console.warn(`[setup-kernel] ${JUPYTER_HELP}`);
} else {
  const binary = path.join(ROOT, 'node_modules', '.bin', 'tslab');
  const result = run(binary, ['install', `--python=${python}`, `--binary=${binary}`, '--user']);
  if (result.status !== 0) {
    console.warn(`[setup-kernel] registering the tslab kernel failed (exit ${result.status}); run \`npm run setup-kernel\` to retry.`);
  } else {
    console.log(`[setup-kernel] TypeScript kernel "tslab" registered with ${python}`);
  }
}
