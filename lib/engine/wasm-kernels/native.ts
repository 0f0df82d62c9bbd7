import * as fs from 'fs';
import * as path from 'path';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Where scripts/build-wasm.sh writes the binary; committed, so npm install needs no compiler. */
export const KERNELS_WASM_PATH = path.join(__dirname, 'kernels.wasm');

/**
 * Exports of native/kernels.c. Every pointer argument is a byte offset in the
 * tfjs backend's heap (a tensor's memoryOffset or scratch from its malloc).
 */
export interface NativeKernels {
  sum_leading_axes(x: number, out: number, blockSum: number, total: number, rows: number, cols: number): void;
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

const instances = new WeakMap<WasmMemory, NativeKernels>();
let compiled: object | null = null;

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
    compiled ??= new WasmJs.Module(fs.readFileSync(KERNELS_WASM_PATH));
    // Synchronous instantiation is fine in Node and keeps kernel setup synchronous, as tfjs expects.
    const instance = new WasmJs.Instance(compiled, { env: { memory } });
    kernels = instance.exports as unknown as NativeKernels;
    instances.set(memory, kernels);
  }
  return kernels;
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
