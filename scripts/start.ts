/** Opens Jupyter on notebooks/ with the TypeScript kernel registered. */
import * as path from 'node:path';
import { ROOT, requireJupyterPython, run } from './jupyter';

const python = requireJupyterPython();
run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'setup-kernel.ts')]);
// Containers and CI machines often run as root, where Jupyter refuses to start without this.
const asRoot = process.getuid?.() === 0 ? ['--allow-root'] : [];
const args = process.argv.slice(2);
// `npm start -- --notebook-dir=DIR` opens another folder (Jupyter takes the flag once only).
const notebookDir = args.some((a) => a.startsWith('--notebook-dir') || a.startsWith('--NotebookApp.notebook_dir')) ? [] : [`--notebook-dir=${path.join(ROOT, 'notebooks')}`];
const result = run(python, ['-m', 'notebook', ...notebookDir, ...asRoot, ...args]);
process.exit(result.status ?? 1);
