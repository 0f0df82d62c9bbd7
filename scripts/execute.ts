/**
 * Runs notebooks headless into out/: the executed .ipynb and an .html that
 * opens offline (plotly.js in its head, once). `EPOCHS=1 npm run execute`
 * gives a quick run. The kernel is the project's spec, written afresh for the
 * run (JUPYTER_PATH), so this works whether or not it is registered.
 * Usage: tsx scripts/execute.ts [--out-dir DIR] [notebook.ipynb ...]   (default: the main notebook)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { withPlotly } from '../lib/notebook/display';
import { ROOT, requireJupyterPython, run } from './jupyter';
import { KERNEL_NAME, writeKernelSpecPath } from './kernel-spec';

const { values, positionals } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'out' } }, allowPositionals: true });
const notebooks = positionals.length > 0 ? positionals : ['fashion-mnist-cnn.ipynb'];
const python = requireJupyterPython();
const outDir = path.resolve(values['out-dir'] as string);
fs.mkdirSync(outDir, { recursive: true });
const jupyterPath = fs.mkdtempSync(path.join(os.tmpdir(), 'execute-kernels-'));
writeKernelSpecPath(jupyterPath);
const env = { ...process.env, JUPYTER_PATH: [jupyterPath, process.env.JUPYTER_PATH].filter(Boolean).join(path.delimiter) };
process.on('exit', () => fs.rmSync(jupyterPath, { recursive: true, force: true }));

for (const name of notebooks) {
  // A bare name is one of notebooks/; a path is taken as it is.
  const source = name.includes(path.sep) ? path.resolve(name) : path.join(ROOT, 'notebooks', name);
  if (!fs.existsSync(source)) {
    console.error(`no notebook ${source}; expected one of: ${fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).join(', ')}`);
    process.exit(1);
  }
  const executed = path.join(outDir, path.basename(source));
  console.log(`executing ${path.relative(ROOT, source)} -> ${path.relative(ROOT, executed)}`);
  // The kernel starts in notebooks/, where the notebook's relative imports resolve. nbclient waits
  // 4 s for a cell's outputs after its reply and then drops them with a warning; tslab sends
  // outputs without awaiting them, so a loaded machine gets a minute, and a loud failure after it.
  const nbconvert = [
    ...['-m', 'nbconvert', '--ExecutePreprocessor.timeout=-1', `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`],
    ...['--ExecutePreprocessor.iopub_timeout=60', '--ExecutePreprocessor.raise_on_iopub_timeout=True'],
  ];
  let result = run(python, [...nbconvert, '--to', 'notebook', '--execute', source, '--output', executed], { env });
  if (result.status !== 0) process.exit(result.status ?? 1);
  result = run(python, ['-m', 'nbconvert', '--to', 'html', executed, '--output-dir', outDir]);
  if (result.status !== 0) process.exit(result.status ?? 1);
  const html = path.join(outDir, path.basename(executed).replace(/\.ipynb$/, '.html'));
  fs.writeFileSync(html, withPlotly(fs.readFileSync(html, 'utf8')));
}
