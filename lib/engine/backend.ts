import * as tf from '@tensorflow/tfjs';
import { registerProjectKernels } from './wasm-kernels/index';
import { kernelsDescription } from './wasm-kernels/x86-64';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The tfjs backend that runs: tensorflow (tfjs-node), wasm or cpu. */
  name: BackendName;
  /** Why this one was picked, in a sentence a user can act on. */
  reason: string;
}

let selected: Promise<BackendInfo> | null = null;

const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/**
 * Picks the fastest backend that loads here: tfjs-node when it is installed
 * (it is optional: its install script needs a download that fails), else the
 * wasm backend with the project's kernels, else the pure-JS cpu backend.
 * `TFJS_BACKEND=cpu` (or wasm, tensorflow) in the environment forces one, to
 * compare backends or to rule out a kernel; worker threads inherit it.
 * Idempotent, so every entry point can call it.
 */
export function selectBackend(env: NodeJS.ProcessEnv = process.env): Promise<BackendInfo> {
  selected ??= pick(env.TFJS_BACKEND);
  return selected;
}

async function pick(forced: string | undefined): Promise<BackendInfo> {
  if (forced !== undefined && forced !== '') {
    if (!(BACKENDS as readonly string[]).includes(forced)) {
      throw new Error(`TFJS_BACKEND is ${JSON.stringify(forced)}; expected one of ${BACKENDS.join(', ')} (or unset to pick the fastest)`);
    }
    const name = forced as BackendName;
    const problem = await load(name);
    if (problem !== null) throw new Error(`TFJS_BACKEND=${name}, but that backend does not load: ${problem}`);
    return { name, reason: 'forced by TFJS_BACKEND' };
  }
  const nodeProblem = await load('tensorflow');
  if (nodeProblem === null) return { name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed and loads' };
  const wasmProblem = await load('wasm');
  if (wasmProblem === null) {
    // Outside load()'s catch: a mistyped X86_KERNELS is an error to fix, not a reason to fall back to cpu.
    return { name: 'wasm', reason: `WebAssembly with the project's training kernels (${kernelsDescription()}); ${nodeProblem}` };
  }
  await load('cpu');
  return { name: 'cpu', reason: `the wasm backend failed to load (${wasmProblem}); training will be very slow` };
}

/** Makes `name` the active backend; null when it worked, else why not. */
async function load(name: BackendName): Promise<string | null> {
  try {
    if (name === 'tensorflow') {
      // Optional by design: resolved at run time, never a dependency.
      require('@tensorflow/tfjs-node');
      // danfojs-node's npm override maps this name to plain tfjs, which registers no 'tensorflow' backend.
      if (!tf.findBackendFactory('tensorflow')) return 'tfjs-node is not installed (its install needs a download that fails here)';
    }
    if (name === 'wasm') {
      require('@tensorflow/tfjs-backend-wasm');
      // After the package registered its kernels (ours replace some), before setBackend runs their setup.
      registerProjectKernels();
    }
    const ok = name === 'wasm' ? await withoutAddedCrashListeners(() => tf.setBackend(name)) : await tf.setBackend(name);
    return ok ? null : `tf.setBackend('${name}') failed`;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/**
 * The wasm backend's Emscripten module, created when the backend initialises,
 * adds process-wide `uncaughtException` and `unhandledRejection` listeners
 * that rethrow (tf-backend-wasm.node.js: `process["on"]("unhandledRejection",
 * function (reason) { throw reason; })`), and the `_dispose` meant to remove
 * them never does (its filter `!list.indexOf(l) > -1` is always false). A
 * listener that throws makes any stray async error fatal: in a tslab kernel,
 * whose own listeners only log, the kernel dies. So the listeners added while
 * the backend loads are removed again, and Node's (or the kernel's) handling stands.
 */
async function withoutAddedCrashListeners<T>(load: () => Promise<T>): Promise<T> {
  // One call per event: tslab's TypeScript 5.0 cannot pick an overload of process.listeners for a union.
  const uncaught = new Set(process.listeners('uncaughtException'));
  const rejection = new Set(process.listeners('unhandledRejection'));
  try {
    return await load();
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!uncaught.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!rejection.has(l)) process.removeListener('unhandledRejection', l);
  }
}
