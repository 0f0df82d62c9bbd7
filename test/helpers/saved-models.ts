import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  promises as fsp,
  readdirSync,
  rmSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CLASS_NAMES, IMAGE_SIZE } from '../../lib/data/classes';
import { DEFAULT_HYPERPARAMETERS } from '../../lib/model/hyperparams';
import { buildModel } from '../../lib/model/cnn';
import { modelMetadata } from '../../lib/model/metadata';
import { Rng } from '../../lib/util/rng';

/** Models saved into a scratch folder, for the save and load tests: one per call, seeded. */
export const PARAMETERS = 173_738;
let root: string;
let batch: tf.Tensor4D;
let dirCount = 0;

/** A fresh, not yet existing model directory inside its own parent, so sibling listings are exact. */
export function newModelDir(): string {
  const parent = path.join(root, `case-${dirCount++}`);
  mkdirSync(parent);
  return path.join(parent, 'model');
}

export function modelWithSeed(seed: number): tf.LayersModel {
  return buildModel({ ...DEFAULT_HYPERPARAMETERS, seed });
}

/** Metadata of an untrained model, as a save writes it. */
export function savedMetadata(model: tf.LayersModel) {
  return modelMetadata(model, { hyperparameters: { ...DEFAULT_HYPERPARAMETERS }, history: [], backend: 'cpu', testAccuracy: 0.1, classNames: CLASS_NAMES });
}

export function predict(model: tf.LayersModel): number[] {
  return tf.tidy(() => Array.from((model.predict(batch) as tf.Tensor).dataSync()));
}

/** Entries beside the model directory: temporary or backup directories left behind show up here. */
export function siblings(dir: string): string[] {
  return readdirSync(path.dirname(dir)).sort();
}

/** Fails fs.promises.open / rename calls that `matches` picks, as a full disk or I/O error would. */
export function failWhen(t: TestContext, method: 'open' | 'rename', matches: (file: string) => boolean): void {
  const original = fsp[method] as (file: string, ...rest: unknown[]) => Promise<unknown>;
  t.mock.method(fsp, method, (file: string, ...rest: unknown[]) =>
    matches(file) ? Promise.reject(new Error(`injected failure on ${file}`)) : original.call(fsp, file, ...rest),
  );
}

/**
 * Saves the model of `seed` to `dir` in a child process, as `user` when given;
 * with `checkOnly`, only runs checkSaveTarget. `prelude` runs first (a fault hook).
 */
export function saveInChild(dir: string, seed: number, options: { user?: { uid?: number; gid?: number }; checkOnly?: boolean; prelude?: string } = {}) {
  const script = `
    ${options.prelude ?? ''}
    const { checkSaveTarget, saveModel } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/model/io.ts'))});
    const { buildModel } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/model/cnn.ts'))});
    const { DEFAULT_HYPERPARAMETERS } = require(${JSON.stringify(path.resolve(__dirname, '../../lib/model/hyperparams.ts'))});
    const save = () => saveModel(buildModel({ ...DEFAULT_HYPERPARAMETERS, seed: ${seed} }), process.env.MODEL_DIR);
    require('@tensorflow/tfjs').setBackend('cpu')
      .then(${options.checkOnly ?? false} ? () => checkSaveTarget(process.env.MODEL_DIR) : save)
      .catch((e) => { console.error(e.message); process.exit(1); });
  `;
  return spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: { ...process.env, MODEL_DIR: dir },
    encoding: 'utf8',
    timeout: 120_000,
    ...options.user,
  });
}

before(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(path.join(os.tmpdir(), 'model-io-test-'));
  // Other users reach the model directories only in the read-only parent test.
  chmodSync(root, 0o755);
  const rng = new Rng(1);
  const pixels = Float32Array.from({ length: 4 * IMAGE_SIZE * IMAGE_SIZE }, () => rng.next());
  batch = tf.tensor4d(pixels, [4, IMAGE_SIZE, IMAGE_SIZE, 1]);
});

after(() => {
  batch.dispose();
  rmSync(root, { recursive: true, force: true });
});
