import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findJupyterPython, ROOT } from '../../scripts/jupyter';
import { KERNEL_NAME } from '../../scripts/kernel-spec';

/**
 * What a stop must show, in both stop tests: the cell ends within STOP_SECONDS of Kernel -> Interrupt
 * (the issue asks for one second; a loaded machine gets slack), and then the kernel uses under
 * IDLE_AFTER_STOP_CORES. A loop still running keeps at least one core busy (1.6-1.8 measured with
 * the worker engine); the teardown after a stop (garbage collection of the run's tensors, workers
 * exiting) measured 0.00-0.11 cores, so the bound sits between the two, not at the quiet-machine figure.
 */
export const STOP_SECONDS = 3;
export const IDLE_AFTER_STOP_CORES = 0.5;

export interface KernelOutput {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, string>;
  ename?: string;
  evalue?: string;
}
export interface CellResult {
  status: string | null;
  outputs: KernelOutput[];
  kernel_info_replies: number;
  /** With `interrupt_on`: seconds from Kernel -> Interrupt to the cell's reply (null: no reply). */
  seconds_to_reply?: number | null;
  /** With `interrupt_on`: the kernel's CPU use in the seconds after the reply, in cores. */
  cpu_cores_after?: number;
}
export interface Cell {
  code: string;
  /** kernel_info requests sent while the cell runs, as a notebook page sends its own. */
  kernel_info_requests?: number;
  /** Sent right after the cell before it, as Run All queues cells. */
  queued?: boolean;
  /** Presses Kernel -> Interrupt once the cell's output shows this text. */
  interrupt_on?: string;
  /** Seconds over which `cpu_cores_after` is measured; defaults to 5. */
  cpu_window?: number;
}

/**
 * Runs `cells` in one kernel of the project's spec started in `cwd`, as
 * Jupyter does, through jupyter_client (test/fixtures/run-kernel.py). `env`
 * says where the spec is (JUPYTER_PATH or JUPYTER_DATA_DIR).
 */
export function runInKernel(cwd: string, cells: Cell[], env: NodeJS.ProcessEnv): { cells: CellResult[]; alive: boolean } {
  const python = findJupyterPython();
  if (python === null) throw new Error('Jupyter is not installed (apt-get install jupyter-notebook jupyter-nbconvert)');
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'run-kernel-')), 'result.json');
  const result = spawnSync(python, [path.join(ROOT, 'test', 'fixtures', 'run-kernel.py'), KERNEL_NAME, cwd, out], {
    input: JSON.stringify(cells),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  if (result.status !== 0) throw new Error(`run-kernel.py failed (exit ${result.status}): ${result.error ?? result.stderr.slice(-4000)}`);
  try {
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

export function text(outputs: KernelOutput[]): string {
  return outputs.map((o) => (o.text ?? '') + Object.values(o.data ?? {}).join('') + (o.evalue ?? '')).join('');
}
