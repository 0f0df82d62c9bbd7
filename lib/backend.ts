import * as tf from '@tensorflow/tfjs';
import { registerProjectKernels } from './wasm-kernels/index';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The tfjs backend that runs: tensorflow (tfjs-node), wasm or cpu. */
  name: BackendName;
  /** Why this one was picked, in a sentence a user can act on. */
  reason: string;
}

let selected: Promise<BackendInfo> | null = null;

/**
 * Picks the fastest backend that loads here: tfjs-node when it is installed
 * (it is optional: its install script needs a download that fails), else the
 * wasm backend with the project's kernels, else the pure-JS cpu backend.
 * Idempotent, so every entry point can call it.
 */
export function selectBackend(): Promise<BackendInfo> {
  selected ??= pick();
  return selected;
}

async function pick(): Promise<BackendInfo> {
  const nodeProblem = tryTfjsNode();
  if (nodeProblem === null && tf.findBackendFactory('tensorflow') && (await tf.setBackend('tensorflow'))) {
    return { name: 'tensorflow', reason: '@tensorflow/tfjs-node is installed and loads' };
  }
  try {
    require('@tensorflow/tfjs-backend-wasm');
    // After the package registered its kernels (ours replace some), before setBackend runs their setup.
    registerProjectKernels();
    if (await tf.setBackend('wasm')) {
      return { name: 'wasm', reason: `WebAssembly backend with the project's training kernels (${nodeProblem})` };
    }
  } catch (e) {
    await tf.setBackend('cpu');
    return { name: 'cpu', reason: `wasm backend failed to load: ${(e as Error).message}; training will be slow` };
  }
  await tf.setBackend('cpu');
  return { name: 'cpu', reason: 'wasm backend did not initialise; training will be slow' };
}

/** Returns null when tfjs-node loaded, else why not. */
function tryTfjsNode(): string | null {
  try {
    // Optional by design: resolved at run time, never a dependency.
    require('@tensorflow/tfjs-node');
    // danfojs-node's override maps this name to plain tfjs, which registers no 'tensorflow' backend.
    return tf.findBackendFactory('tensorflow') ? null : '@tensorflow/tfjs-node resolves to plain tfjs (npm override)';
  } catch (e) {
    return `@tensorflow/tfjs-node not available: ${(e as Error).message.split('\n')[0]}`;
  }
}
