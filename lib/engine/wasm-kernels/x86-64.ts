import * as os from 'os';
import * as path from 'path';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { kernelsBuild } from './native';

/**
 * The committed build of native/x86-64/*.c (scripts/build-x86-64.sh): a
 * Node-API addon with the convolutions in AVX2 + FMA and in AVX-512, working
 * on the wasm backend's heap in place. Where it does not load (another OS or
 * CPU, a CPU without AVX2 and FMA) the wasm kernels run instead.
 */
export const X86_KERNELS_PATH = path.join(__dirname, 'kernels-x86_64.node');

export type X86Isa = 'avx2' | 'avx512';

/** `X86_KERNELS` in the environment: off runs the wasm kernels only; avx2 or avx512 picks one. */
export const X86_KERNELS_SETTINGS = ['off', 'avx2', 'avx512'] as const;

/**
 * Exports of native/x86-64/addon.c. `heap` is the wasm backend's
 * WebAssembly.Memory buffer, every other argument a byte offset in it or a
 * size; shapes are NHWC, filters HWIO.
 */
export interface X86Addon {
  /** The widest instruction set this CPU (and OS) runs, '' if it lacks AVX2 and FMA. */
  bestIsa(): X86Isa | '';
  /** Runs `isa` from the next call on, in this thread's Node environment; throws if the CPU lacks it. */
  useIsa(isa: X86Isa): void;
  /** bias 0: none (no tensor lies at offset 0). */
  conv2d(
    heap: ArrayBuffer, x: number, w: number, y: number, bias: number, relu: number, threads: number,
    n: number, h: number, wd: number, cin: number, oh: number, ow: number, cout: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  conv2dFilterGrad(
    heap: ArrayBuffer, x: number, dy: number, dw: number, threads: number,
    n: number, h: number, wd: number, cin: number, oh: number, ow: number, cout: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  conv2dInputGrad(
    heap: ArrayBuffer, dy: number, w: number, dx: number, threads: number,
    n: number, h: number, wd: number, cin: number, oh: number, ow: number, cout: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
}

/** Which x86-64 instruction set runs, or why none does. */
export type X86Status = { isa: X86Isa } | { isa: null; why: string };

// Not a union on `addon`: tslab compiles without strictNullChecks, where `addon === null` narrows nothing.
type Loaded = { addon: X86Addon | null; status: X86Status };
let loaded: Loaded | undefined;
let threads = os.availableParallelism();

function load(setting: string | undefined): Loaded {
  if (setting !== undefined && setting !== '' && !(X86_KERNELS_SETTINGS as readonly string[]).includes(setting)) {
    throw new Error(`X86_KERNELS is ${JSON.stringify(setting)}; expected one of ${X86_KERNELS_SETTINGS.join(', ')} (or unset to use the best this CPU runs)`);
  }
  if (setting === 'off') return { addon: null, status: { isa: null, why: 'turned off by X86_KERNELS=off' } };
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { addon: null, status: { isa: null, why: `built for x86-64 Linux, and this is ${process.arch} ${process.platform}` } };
  }
  let addon: X86Addon;
  try {
    addon = require(X86_KERNELS_PATH) as X86Addon;
  } catch (e) {
    return { addon: null, status: { isa: null, why: `${X86_KERNELS_PATH} does not load: ${(e as Error).message.split('\n')[0]}` } };
  }
  const best = addon.bestIsa();
  const forced = setting === 'avx2' || setting === 'avx512' ? setting : null;
  // A CPU without the one asked for is an error, not a silent fallback: the setting is there to compare them.
  if (best === '' && forced !== null) throw new Error(`X86_KERNELS=${forced}, but this CPU lacks AVX2 and FMA`);
  if (best === '') return { addon: null, status: { isa: null, why: 'this CPU lacks AVX2 and FMA' } };
  const isa = forced ?? best;
  addon.useIsa(isa);
  return { addon, status: { isa } };
}

function current(): Loaded {
  loaded ??= load(process.env.X86_KERNELS);
  return loaded;
}

/**
 * Switches the x86-64 kernels as X86_KERNELS would (undefined: the best this
 * CPU runs), from the next kernel call on; tests run each path. Throws as
 * X86_KERNELS does when the setting is unknown or the CPU lacks it.
 */
export function useX86Kernels(setting: string | undefined): void {
  loaded = load(setting);
}

/** The addon when it runs here (not turned off, right OS and CPU), else null: the wasm kernels run. */
export function x86Addon(): X86Addon | null {
  return current().addon;
}

/** The instruction set the x86-64 kernels run, or why they do not. */
export function x86KernelsStatus(): X86Status {
  return current().status;
}

/**
 * Threads each x86-64 kernel call may use; the main thread's default is
 * every core. The parallel engine's workers set 1: they already run one per core.
 */
export function setX86Threads(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`x86-64 kernel threads must be a positive integer, got ${count}`);
  threads = count;
}

export function x86Threads(): number {
  return threads;
}


/** Which kernels run, for logs and the bench's JSON: "x86-64 avx512 + wasm simd128", or the wasm build and why no x86-64. */
export function kernelsDescription(): string {
  const status = x86KernelsStatus();
  // `in`, not `isa === null`: tslab compiles without strictNullChecks, where null narrows nothing.
  return 'why' in status ? `wasm ${kernelsBuild()} (no x86-64: ${status.why})` : `x86-64 ${status.isa} + wasm ${kernelsBuild()}`;
}

/** The 13 numbers of a convolution's shape, the x86-64 addon's trailing arguments. */
export type X86ConvShape = [number, number, number, number, number, number, number, number, number, number, number, number, number];

/** A convolution's shape as the x86-64 addon takes it: n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, pt, pl. */
export function x86ConvShape(info: backend_util.Conv2DInfo): X86ConvShape {
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ];
}

/** Whether the addon takes this convolution: it refuses empty tensors, which the wasm kernels handle. */
export function x86Takes(info: backend_util.Conv2DInfo): boolean {
  return x86ConvShape(info).slice(0, 7).every((d) => d > 0);
}

/** Fills the new tensor `out` with an addon call; disposes it if the call throws, so nothing leaks. */
export function fillOnX86(backend: BackendWasm, out: TensorInfo, fill: (out: TensorInfo) => void): TensorInfo {
  try {
    fill(out);
    return out;
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  }
}
