/**
 * Runs notebooks headless into out/: the executed .ipynb and an .html that
 * opens offline. `EPOCHS=1 npm run execute` gives a quick run.
 * Usage: tsx scripts/execute.ts [--out-dir DIR] [notebook.ipynb ...]   (default: the main notebook)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, requireJupyterPython, run } from './jupyter';

const { values, positionals } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'out' } }, allowPositionals: true });
const notebooks = positionals.length > 0 ? positionals : ['fashion-mnist-cnn.ipynb'];
const python = requireJupyterPython();
const outDir = path.resolve(values['out-dir'] as string);
fs.mkdirSync(outDir, { recursive: true });

for (const name of notebooks) {
  // A bare name is one of notebooks/; a path is taken as it is.
  const source = name.includes(path.sep) ? path.resolve(name) : path.join(ROOT, 'notebooks', name);
  if (!fs.existsSync(source)) {
    console.error(`no notebook ${source}; expected one of: ${fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).join(', ')}`);
    process.exit(1);
  }
  const executed = path.join(outDir, path.basename(source));
  console.log(`executing ${path.relative(ROOT, source)} -> ${path.relative(ROOT, executed)}`);
  // The kernel starts in notebooks/, where the notebook's relative imports resolve.
  const nbconvert = ['-m', 'nbconvert', '--ExecutePreprocessor.timeout=-1', '--ExecutePreprocessor.kernel_name=tslab'];
  let result = run(python, [...nbconvert, '--to', 'notebook', '--execute', source, '--output', executed]);
  if (result.status !== 0) process.exit(result.status ?? 1);
  result = run(python, ['-m', 'nbconvert', '--to', 'html', executed, '--output-dir', outDir]);
  if (result.status !== 0) process.exit(result.status ?? 1);
}
