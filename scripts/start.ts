/** Opens Jupyter on notebooks/ with the TypeScript kernel registered. */
import * as path from 'node:path';
import { ROOT, requireJupyterPython, run } from './jupyter';

const python = requireJupyterPython();
run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'setup-kernel.ts')]);
// Containers and CI machines often run as root, where Jupyter refuses to start without this.
const asRoot = process.getuid?.() === 0 ? ['--allow-root'] : [];
const result = run(python, ['-m', 'notebook', `--notebook-dir=${path.join(ROOT, 'notebooks')}`, ...asRoot, ...process.argv.slice(2)]);
process.exit(result.status ?? 1);
