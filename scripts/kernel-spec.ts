/**
 * The project's Jupyter kernel spec, "TypeScript (Fashion-MNIST)": one
 * user-wide spec that serves every checkout. Its launcher runs the tslab of
 * the checkout holding the notebook (Jupyter starts a kernel in the
 * notebook's folder), so installing a second checkout repoints nothing and
 * deleting one breaks no other. The spec's folder also holds plotly.js,
 * which the notebook server serves to the figures (lib/notebook/display.ts).
 * The user's own `tslab` and `jslab` specs are never touched.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KERNEL_NAME, PLOTLY_FILE, plotlyPath } from '../lib/notebook/display';
import { ROOT } from './jupyter';

export { KERNEL_NAME };
export const KERNEL_DISPLAY_NAME = 'TypeScript (Fashion-MNIST)';
const LAUNCHER = 'launch.cjs';

/**
 * Writes the spec's files into `dir`. The node that runs the kernel is this
 * one, by absolute path: Jupyter started from a desktop menu may not have
 * node on its PATH.
 */
export function writeKernelSpec(dir: string, node: string = process.execPath): void {
  fs.mkdirSync(dir, { recursive: true });
  const kernel = {
    argv: [node, `{resource_dir}/${LAUNCHER}`, '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
  };
  fs.writeFileSync(path.join(dir, 'kernel.json'), `${JSON.stringify(kernel, null, 2)}\n`);
  fs.copyFileSync(path.join(ROOT, 'scripts', 'kernel', LAUNCHER), path.join(dir, LAUNCHER));
  fs.copyFileSync(plotlyPath(), path.join(dir, PLOTLY_FILE));
}

/** A fresh copy of the spec under `<dir>/kernels/NAME`, for `JUPYTER_PATH=dir` (Jupyter looks there first). */
export function writeKernelSpecPath(dir: string): void {
  writeKernelSpec(path.join(dir, 'kernels', KERNEL_NAME));
}

/**
 * Installs (or refreshes) the spec in the user's Jupyter data folder
 * (`JUPYTER_DATA_DIR` when set), through jupyter_client itself. Returns where
 * it went, or throws with Jupyter's message.
 */
export function installKernelSpec(python: string, env: NodeJS.ProcessEnv = process.env): string {
  const source = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-spec-'));
  try {
    writeKernelSpec(source);
    const install =
      'import sys\n' +
      'from jupyter_client.kernelspec import KernelSpecManager\n' +
      'print(KernelSpecManager().install_kernel_spec(sys.argv[1], sys.argv[2], user=True, replace=True))\n';
    const result: SpawnSyncReturns<string> = spawnSync(python, ['-c', install, source, KERNEL_NAME], { encoding: 'utf8', env, timeout: 60_000 });
    if (result.status !== 0) {
      throw new Error(`installing the kernel spec with ${python} failed (exit ${result.status}): ${result.error ?? result.stderr.trim()}`);
    }
    return result.stdout.trim();
  } finally {
    fs.rmSync(source, { recursive: true, force: true });
  }
}
