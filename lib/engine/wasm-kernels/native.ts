import * as fs from 'fs';
import * as path from 'path';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * The two builds of native/*.c that scripts/build-wasm.sh writes; committed,
 * so npm install needs no compiler. relaxed-simd fuses multiply-adds; it
 * runs where the runtime has relaxed SIMD (Node 22+ by default, Node 20 with
 * --experimental-wasm-relaxed-simd), simd128 everywhere else.
 */
export const KERNELS_WASM_PATHS = {
  simd128: path.join(__dirname, 'kernels.wasm'),
  'relaxed-simd': path.join(__dirname, 'kernels-relaxed.wasm'),
} as const;
export type KernelsBuild = keyof typeof KERNELS_WASM_PATHS;

/**
 * Exports of native/kernels.c. Every pointer argument is a byte offset in the
 * tfjs backend's heap (a tensor's memoryOffset or scratch from its malloc).
 */
export interface NativeKernels {
  sum_leading_axes(x: number, out: number, blockSum: number, total: number, rows: number, cols: number, divisor: number): void;
  avg_pool_grad(
    dy: number, dx: number, n: number, h: number, w: number, ch: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  mean_leading_axes_grad(dy: number, out: number, rows: number, cols: number): void;
  batch_norm(
    x: number, mean: number, variance: number, offset: number, scale: number, out: number, k: number, rows: number, cols: number, eps: number,
  ): void;
  batch_norm_grad(
    x: number, dy: number, mean: number, variance: number, scale: number,
    dx: number, dMean: number, dVariance: number, dScale: number, dOffset: number,
    f: number, total: number, rows: number, cols: number, eps: number,
  ): void;
  conv2d_backprop_filter(
    x: number, dy: number, dw: number, total: number,
    n: number, h: number, w: number, cin: number, oh: number, ow: number, cout: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  max_pool_grad(
    x: number, dy: number, dx: number,
    n: number, h: number, w: number, ch: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  flip_filter(w: number, wf: number, fh: number, fw: number, cin: number, cout: number): void;
  conv2d_backprop_input(
    dy: number, wf: number, dx: number,
    n: number, h: number, w: number, cin: number, oh: number, ow: number, cout: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  add_bias(x: number, bias: number, out: number, rows: number, cols: number): void;
  matmul_tn(a: number, b: number, out: number, batch: number, k: number, m: number, n: number): void;
  seeded_dropout(x: number, out: number, size: number, seed: number, threshold: number, scale: number): void;
}

/**
 * The parts of the WebAssembly JS API used here, declared locally: TypeScript
 * declares them in its DOM lib, which this Node project does not load.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: { env: { memory: WasmMemory } }) => { exports: object };
}
const WasmJs = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The parts of the Emscripten module behind BackendWasm that the kernels use. */
interface EmscriptenHeap {
  asm: { memory: WasmMemory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

let instances = new WeakMap<WasmMemory, NativeKernels>();
let build: { name: KernelsBuild; module: object } | null = null;

function compile(name: KernelsBuild): { name: KernelsBuild; module: object } | null {
  const bytes = fs.readFileSync(KERNELS_WASM_PATHS[name]);
  return WasmJs.validate(bytes) ? { name, module: new WasmJs.Module(bytes) } : null;
}

function currentBuild(): { name: KernelsBuild; module: object } {
  build ??= compile('relaxed-simd') ?? compile('simd128');
  if (build === null) throw new Error(`this runtime cannot run ${KERNELS_WASM_PATHS.simd128}: it lacks WebAssembly SIMD`);
  return build;
}

/** The build the kernels run: relaxed-simd when this runtime validates it, else simd128. */
export function kernelsBuild(): KernelsBuild {
  return currentBuild().name;
}

/**
 * Runs the kernels from `name` from the next call on (both builds must give
 * the same results, so tests run each); throws if this runtime cannot.
 */
export function useKernelsBuild(name: KernelsBuild): void {
  const next = compile(name);
  if (next === null) throw new Error(`this runtime does not validate the ${name} build of the kernels`);
  build = next;
  instances = new WeakMap();
}

function heapOf(backend: BackendWasm): EmscriptenHeap {
  const wasm = backend.wasm as unknown as Partial<EmscriptenHeap>;
  const memory = wasm.asm?.memory;
  if (!(memory instanceof WasmJs.Memory) || typeof wasm._malloc !== 'function' || typeof wasm._free !== 'function') {
    throw new Error(
      'tfjs wasm backend does not expose asm.memory/_malloc/_free as expected (built for @tensorflow/tfjs-backend-wasm 4.22)',
    );
  }
  return wasm as EmscriptenHeap;
}

/**
 * The project's kernels, instantiated on the backend's own memory so they
 * compute on tfjs tensors in place. One instance per backend memory; cheap to
 * call repeatedly (tfjs reruns kernel setup on every setBackend).
 */
export function nativeKernels(backend: BackendWasm): NativeKernels {
  const { memory } = heapOf(backend).asm;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    // Synchronous instantiation is fine in Node and keeps kernel setup synchronous, as tfjs expects.
    const instance = new WasmJs.Instance(currentBuild().module, { env: { memory } });
    kernels = instance.exports as unknown as NativeKernels;
    instances.set(memory, kernels);
  }
  return kernels;
}

/** The backend's heap as an ArrayBuffer; a new one after the heap grows, so read it per call. */
export function heapBuffer(backend: BackendWasm): ArrayBuffer {
  return heapOf(backend).asm.memory.buffer;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offsetOf(backend: BackendWasm, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined || data.memoryOffset == null) {
    throw new Error(`tensor ${t.shape}/${t.dtype} has no data on the wasm heap`);
  }
  return data.memoryOffset;
}

/**
 * Runs `body` with a float32 scratch area of `floats` elements followed by a
 * float64 one of `doubles` elements (the kernels' partial and total sums),
 * freed afterwards.
 */
export function withScratch<T>(
  backend: BackendWasm, floats: number, doubles: number, body: (f32: number, f64: number) => T,
): T {
  const heap = heapOf(backend);
  const f64Start = Math.ceil((floats * 4) / 8) * 8;
  // `>>> 0`: malloc returns a signed i32; offsets above 2 GiB come back negative.
  const ptr = heap._malloc(f64Start + doubles * 8) >>> 0;
  if (ptr === 0) throw new Error(`wasm heap could not allocate ${f64Start + doubles * 8} bytes of kernel scratch`);
  try {
    return body(ptr, ptr + f64Start);
  } finally {
    heap._free(ptr);
  }
}
