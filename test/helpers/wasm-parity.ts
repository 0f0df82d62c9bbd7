/** Shared by the kernel parity tests: run a computation on cpu and on wasm and compare element by element. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { parseIdxImages, parseIdxLabels } from '../../lib/data/idx';
import { Rng } from '../../lib/util/rng';
import { KERNELS_WASM_PATHS, type KernelsBuild, useKernelsBuild } from '../../lib/engine/wasm-kernels/native';
import { useX86Kernels, X86_KERNELS_PATH, type X86Addon, type X86Isa } from '../../lib/engine/wasm-kernels/x86-64';
import { DEFAULT_HYPERPARAMETERS } from '../../lib/model/hyperparams';
import { crossEntropyPerImage } from '../../lib/model/loss';
import { trainableVariables } from '../../lib/model/variables';
import { buildZooModel, type ModelName } from '../../lib/model/zoo';

/** The kernel builds this runtime can run: simd128 always, relaxed-simd on Node 22+ (or with the flag). */
const RUNNABLE_BUILDS = (Object.keys(KERNELS_WASM_PATHS) as KernelsBuild[]).filter((b) =>
  (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(fs.readFileSync(KERNELS_WASM_PATHS[b])));

/** Registers `body`'s tests once per runnable build, each running on that build. */
export function forEachBuild(body: () => void): void {
  for (const build of RUNNABLE_BUILDS) {
    describe(build, () => {
      before(() => useKernelsBuild(build));
      body();
    });
  }
}

/** The x86-64 kernels' instruction sets this machine runs: none where the addon does not load. */
export function runnableX86Isas(): X86Isa[] {
  if (process.platform !== 'linux' || process.arch !== 'x64') return [];
  const best = (require(X86_KERNELS_PATH) as X86Addon).bestIsa();
  return best === 'avx512' ? ['avx2', 'avx512'] : best === 'avx2' ? ['avx2'] : [];
}

/**
 * Registers `body`'s tests once per path a convolution can take: each x86-64
 * instruction set this machine runs, then each wasm build with the x86-64
 * kernels off. Afterwards the kernels are as X86_KERNELS says again.
 */
export function forEachConvPath(body: () => void): void {
  const paths = [
    ...runnableX86Isas().map((isa) => ({ name: `x86-64 ${isa}`, use: () => useX86Kernels(isa) })),
    ...RUNNABLE_BUILDS.map((build) => ({ name: `wasm ${build}`, use: () => { useX86Kernels('off'); useKernelsBuild(build); } })),
  ];
  for (const route of paths) {
    describe(route.name, () => {
      before(route.use);
      after(() => useX86Kernels(process.env.X86_KERNELS));
      body();
    });
  }
}

export function randomValues(size: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size }, () => rng.next() * 2 - 1);
}

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomValues(tf.util.sizeFromShape(shape), seed), shape);
}

type Result = { values: Float32Array; shape: number[]; dtype?: string };

/** A flat float32 array as a Result, to compare gradients read back from tensors. */
export function asResult(values: ArrayLike<number>): Result {
  return { values: Float32Array.from(values), shape: [values.length], dtype: 'float32' };
}

/** Runs `f` on a backend and reads its result back. Inputs are built inside f, so each backend gets its own. */
export async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Result> {
  assert.ok(await tf.setBackend(backend), `backend ${backend} did not initialise`);
  const t = tf.tidy(f);
  const result = { values: Float32Array.from(t.dataSync()), shape: t.shape, dtype: t.dtype };
  t.dispose();
  return result;
}

/**
 * Asserts |a - b| <= abs + rel |b| for every element (b: the reference) and
 * returns the largest |a - b| / (abs + rel |b|), the fraction of the
 * tolerance used. Per element, so a small entry cannot hide behind a large
 * one; set abs and rel near the errors measured, so a real mistake (a term
 * missing from a sum) cannot pass.
 */
export function assertClose(label: string, actual: Result, expected: Result, abs = 1e-5, rel = 1e-5): number {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  assert.equal(actual.dtype, expected.dtype, `${label}: dtype`);
  assert.equal(actual.values.length, expected.values.length, `${label}: size`);
  let worst = 0;
  for (let i = 0; i < expected.values.length; i++) {
    const b = expected.values[i];
    const diff = Math.abs(actual.values[i] - b);
    const tolerance = abs + rel * Math.abs(b);
    // Written so that NaN fails; a tolerance of 0 asks for identical values.
    assert.ok(diff <= tolerance, `${label}: element ${i} is ${actual.values[i]}, expected ${b}; |a - b| > ${abs} + ${rel}|b|`);
    worst = Math.max(worst, tolerance > 0 ? diff / tolerance : 0);
  }
  return worst;
}

/** Runs f on cpu and wasm and asserts the results are close; returns the fraction of the tolerance used. */
export async function assertParity(label: string, f: () => tf.Tensor, abs = 1e-5, rel = 1e-5): Promise<number> {
  const expected = await runOn('cpu', f);
  const actual = await runOn('wasm', f);
  return assertClose(label, actual, expected, abs, rel);
}

/** The first n Fashion-MNIST test images when data/ has them, else uniform noise of their shape seeded by `noiseSeed`. */
export function testImages(n: number, noiseSeed: number): { x: Float32Array; y: Int32Array; source: string } {
  const dir = path.join(__dirname, '..', '..', 'data', 'fashion-mnist');
  try {
    const images = parseIdxImages(fs.readFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz')), 't10k-images');
    const labels = parseIdxLabels(fs.readFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz')), 't10k-labels');
    return {
      x: Float32Array.from(images.pixels.subarray(0, n * 784), (p) => p / 255),
      y: Int32Array.from(labels.labels.subarray(0, n)),
      source: `the first ${n} Fashion-MNIST test images`,
    };
  } catch {
    const rng = new Rng(noiseSeed);
    return {
      x: Float32Array.from({ length: n * 784 }, () => rng.next()),
      y: Int32Array.from({ length: n }, () => rng.int(10)),
      source: 'seeded random images (data/fashion-mnist not present)',
    };
  }
}

/**
 * The loss and the gradients of zoo model `name`, built with `seed` on `backend`, for one
 * training-mode batch: weights in trainableWeights order, named by layer weight.
 */
export async function modelGradients(name: ModelName, backend: 'cpu' | 'wasm', data: { x: Float32Array; y: Int32Array }, seed: number) {
  await tf.setBackend(backend);
  const model = buildZooModel(name, { ...DEFAULT_HYPERPARAMETERS, seed });
  const variables = trainableVariables(model);
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(data.x, [data.y.length, 28, 28, 1]);
    const y = tf.tensor1d(data.y, 'int32');
    return tf.variableGrads(() => tf.mean(crossEntropyPerImage(model.apply(x, { training: true }) as tf.Tensor2D, y)) as tf.Scalar, variables);
  });
  const out = {
    loss: value.dataSync()[0],
    // In trainableWeights order: names get numeric suffixes that differ between the two builds of the model.
    grads: model.trainableWeights.map((w, i) => ({ name: w.originalName, values: Float32Array.from(grads[variables[i].name].dataSync()), shape: w.shape as number[] })),
  };
  tf.dispose([value, ...Object.values(grads)]);
  model.dispose();
  return out;
}
