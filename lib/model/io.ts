/**
 * Saves and loads LayersModels in a directory, in the layout tfjs-node's
 * `file://` handler uses (model.json + weights.bin), which plain tfjs lacks.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { shapeText } from '../data/labeled-images';
import { syncDirectory, writeDurably } from '../util/atomic-file';
import { brokenLinkProblem, errorCode } from '../util/errno';
// Registers SeededDropout with tfjs's serialization, without which a saved
// model.json cannot be deserialised ("Unknown layer: SeededDropout").
import './seeded-dropout';
import { modelIo } from './data-match';
import { checkModelMetadata, type ModelMetadata } from './metadata';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const METADATA_JSON = 'metadata.json';

export type { ModelMetadata };

/** A saved model's own files, and their temporaries from a save into the directory itself. */
const OWN_ENTRY = /^(model\.json|weights\.bin|metadata\.json)(\.tmp-[0-9a-f]{12})?$/;
/** Errors of a directory that cannot be written to. */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Saves `model` to `dir` (created, with its parents, if missing) as model.json,
 * weights.bin and, when given, metadata.json.
 *
 * Atomic: the files are written and fsynced in a sibling temporary directory
 * that then replaces `dir`, so a save that fails or is killed leaves the
 * previous save whole; what an earlier killed save left beside `dir` is
 * removed. A symbolic link at `dir` is kept and the directory it points to is
 * replaced. When `dir` exists but its parent is read-only, the files are
 * replaced inside `dir` instead, model.json last, so a crash leaves a
 * directory without model.json (which loadModel reports) rather than a mix
 * of two models. One save per directory at a time. Refuses to replace an
 * existing directory that holds other files but no model.json, so a wrong
 * path cannot delete unrelated files.
 */
export async function saveModel(model: tf.LayersModel, dir: string, metadata?: ModelMetadata): Promise<void> {
  if (metadata !== undefined) checkMetadataFits(model, metadata);
  const target = await resolveTarget(dir);
  const replacing = await checkReplaceable(target);
  const files = await serialize(model, metadata);
  const parent = path.dirname(target);
  const base = path.basename(target);
  await fsp.mkdir(parent, { recursive: true }).catch((e) => {
    throw notWritable(target, parent, e);
  });
  await removeLeftovers(parent, `.${base}.tmp-`);
  // A backup is the only copy of the previous model while `target` is missing (see backupHint).
  if (replacing) await removeLeftovers(parent, `.${base}.old-`);
  const id = randomBytes(6).toString('hex');
  const tmp = path.join(parent, `.${base}.tmp-${id}`);
  try {
    // Not mkdtemp: its mode 0700 would become the saved directory's; mkdir applies the umask.
    await fsp.mkdir(tmp);
  } catch (e) {
    if (replacing && NOT_WRITABLE.has(errorCode(e) ?? '')) return saveInPlace(target, files);
    throw notWritable(target, parent, e);
  }
  const backup = path.join(parent, `.${base}.old-${id}`);
  try {
    for (const [name, data] of files) await writeDurably(path.join(tmp, name), data);
    await syncDirectory(tmp);
    // A directory cannot be renamed over a non-empty one, so the old save is
    // moved aside first; a crash between the two renames leaves both whole
    // (loadModel's error then names the backup).
    if (replacing) await fsp.rename(target, backup);
    try {
      await fsp.rename(tmp, target);
    } catch (e) {
      if (replacing) await fsp.rename(backup, target);
      throw e;
    }
    await syncDirectory(parent);
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await removeLeftovers(parent, `.${base}.old-`);
}

/**
 * Checks, before any work, that saveModel can save to `dir`: not a file, not
 * a directory of other files, not a dangling or looping link, and writable.
 * For a long run that saves at its end.
 */
export async function checkSaveTarget(dir: string): Promise<void> {
  const target = await resolveTarget(dir);
  const replacing = await checkReplaceable(target);
  let existing = path.dirname(target);
  while (!(await exists(existing))) existing = path.dirname(existing);
  const writable = (p: string) =>
    fsp.access(p, fsConstants.W_OK).then(
      () => null,
      (e: unknown) => e,
    );
  const problem = await writable(existing);
  if (problem !== null && !(replacing && (await writable(target)) === null)) throw notWritable(target, existing, problem);
}

/** `dir` made absolute, through a symbolic link at `dir` to the directory it names. */
async function resolveTarget(dir: string): Promise<string> {
  const target = path.resolve(dir);
  try {
    return await fsp.realpath(target);
  } catch (e) {
    const broken = brokenLinkProblem(target, e);
    if (broken === null) return target;
    throw new Error(`cannot save a model to ${target}: it ${broken}; point the link at a directory, or remove it`);
  }
}

/** Whether `target` exists and may be replaced; throws if replacing it could lose unrelated files. */
async function checkReplaceable(target: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await fsp.readdir(target);
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') {
      throw new Error(`cannot save a model to ${target}: it or one of its parents is a file, expected directories`);
    }
    throw e;
  }
  // Without model.json, only what a save interrupted inside the directory leaves.
  if (!entries.includes(MODEL_JSON) && !entries.every((name) => OWN_ENTRY.test(name))) {
    throw new Error(
      `refusing to replace ${target}: it holds ${entries.length} entries but no ${MODEL_JSON}, ` +
        'so it is not a saved model',
    );
  }
  return true;
}

/**
 * Removes the entries of `dir` whose names start with `prefix`: what
 * interrupted saves left. A read-only `dir` keeps them (the save then goes
 * into the model directory itself).
 */
async function removeLeftovers(dir: string, prefix: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true }).catch((e: unknown) => {
      if (!NOT_WRITABLE.has(errorCode(e) ?? '')) throw e;
    });
  }
}

/**
 * Replaces the files inside `target`, for a directory whose parent is
 * read-only: each is written beside its final name and renamed over it,
 * model.json removed first and written last.
 */
async function saveInPlace(target: string, files: [string, string | Uint8Array][]): Promise<void> {
  const entries = await fsp.readdir(target);
  for (const name of entries) {
    if (OWN_ENTRY.test(name) && name.includes('.tmp-')) await fsp.rm(path.join(target, name), { force: true });
  }
  const id = randomBytes(6).toString('hex');
  try {
    for (const [name, data] of files) await writeDurably(path.join(target, `${name}.tmp-${id}`), data);
  } catch (e) {
    await Promise.all(files.map(([name]) => fsp.rm(path.join(target, `${name}.tmp-${id}`), { force: true })));
    throw NOT_WRITABLE.has(errorCode(e) ?? '') ? notWritable(target, target, e) : e;
  }
  await fsp.rm(path.join(target, MODEL_JSON), { force: true });
  if (!files.some(([name]) => name === METADATA_JSON)) await fsp.rm(path.join(target, METADATA_JSON), { force: true });
  // model.json last: until it is back, loadModel refuses the directory instead of reading a mix of two models.
  const ordered = [...files.filter(([name]) => name !== MODEL_JSON), ...files.filter(([name]) => name === MODEL_JSON)];
  for (const [name] of ordered) await fsp.rename(path.join(target, `${name}.tmp-${id}`), path.join(target, name));
  await syncDirectory(target);
}

function notWritable(target: string, dir: string, e: unknown): Error {
  const code = errorCode(e);
  if (!NOT_WRITABLE.has(code ?? '')) return e as Error;
  return new Error(
    `cannot save a model to ${target}: ${dir} is not writable (${code}); ` +
      'save to a directory you can write to, or make it writable',
  );
}

/** Refuses metadata that describes another model: its input shape, or fewer class names than the model has outputs. */
function checkMetadataFits(model: tf.LayersModel, metadata: ModelMetadata): void {
  const { inputShape, classes } = modelIo(model);
  if (shapeText(inputShape) !== shapeText(metadata.inputShape)) {
    throw new RangeError(`the metadata says the model takes ${shapeText(metadata.inputShape)} images, but it takes ${shapeText(inputShape)}; make it with modelMetadata(model, ...)`);
  }
  if (metadata.classNames.length !== classes) {
    throw new RangeError(`the metadata names ${metadata.classNames.length} classes, but the model has ${classes} outputs`);
  }
}

/** model.json, weights.bin and, when given, metadata.json, as written to disk. */
async function serialize(model: tf.LayersModel, metadata?: ModelMetadata): Promise<[string, string | Uint8Array][]> {
  let files: [string, string | Uint8Array][] = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      files = modelFiles(artifacts);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (metadata !== undefined) files.push([METADATA_JSON, JSON.stringify(checkModelMetadata(metadata, 'the metadata to save'), null, 2)]);
  return files;
}

function modelFiles(artifacts: tf.io.ModelArtifacts): [string, string | Uint8Array][] {
  if (artifacts.modelTopology === undefined || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error('saveModel expects a LayersModel with a JSON topology');
  }
  const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    trainingConfig: artifacts.trainingConfig,
    userDefinedMetadata: artifacts.userDefinedMetadata,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
  };
  return [
    [WEIGHTS_BIN, new Uint8Array(weights)],
    [MODEL_JSON, JSON.stringify(modelJson)],
  ];
}

/**
 * Loads a model saved by saveModel (or by tfjs-node's `file://` handler).
 * Throws an error naming the file for a missing directory or model.json,
 * invalid JSON, a missing weights file, or one whose size does not match
 * the manifest.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const target = path.resolve(dir);
  const modelJson = await readModelJson(target);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const weightData: ArrayBuffer[] = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    weightData.push(...(await readWeightGroup(target, group)));
  }
  try {
    return await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        trainingConfig: modelJson.trainingConfig,
        userDefinedMetadata: modelJson.userDefinedMetadata,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        weightSpecs,
        weightData: tf.io.CompositeArrayBuffer.join(weightData),
      }),
    );
  } catch (e) {
    throw new Error(`${path.join(target, MODEL_JSON)} does not describe a loadable model: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}

/**
 * The metadata of the model saved in `dir`, or null when `dir` holds no saved
 * model (no model.json) or one saved without metadata: for notebooks that use
 * a saved model when there is one.
 */
export async function savedModelMetadata(dir: string): Promise<ModelMetadata | null> {
  return (await hasSavedModel(dir)) ? loadModelMetadata(dir) : null;
}

/** Whether `dir` holds a saved model (its model.json). */
export async function hasSavedModel(dir: string): Promise<boolean> {
  return exists(path.join(path.resolve(dir), MODEL_JSON));
}

/**
 * Reads the metadata saved with a model, or null if it was saved without any.
 * Throws, like loadModel, if `dir` holds no saved model.
 */
export async function loadModelMetadata(dir: string): Promise<ModelMetadata | null> {
  const target = path.resolve(dir);
  await readModelJson(target);
  const file = path.join(target, METADATA_JSON);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return null;
    throw e;
  }
  const value = parseJson(text, file);
  if (!isObject(value)) throw new Error(`${file} holds ${kindOf(value)}; expected a JSON object`);
  return checkModelMetadata(value, file);
}

async function readModelJson(dir: string): Promise<tf.io.ModelJSON> {
  const file = path.join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if (errorCode(e) !== 'ENOENT') throw e;
    if (!(await exists(dir))) {
      throw new Error(`no saved model at ${dir}: the directory does not exist${await backupHint(dir)}`);
    }
    const interrupted = (await fsp.readdir(dir)).some((name) => name.startsWith(`${MODEL_JSON}.tmp-`));
    throw new Error(
      `no saved model at ${dir}: ${file} is missing` +
        (interrupted ? '; a save into this directory was interrupted: save the model again' : ''),
    );
  }
  const json = parseJson(text, file);
  if (!isObject(json) || !isObject(json.modelTopology) || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${file} is not a model.json: expected an object with modelTopology and weightsManifest`);
  }
  json.weightsManifest.forEach((group: unknown, i) => {
    const valid =
      isObject(group) && isStringArray(group.paths) && Array.isArray(group.weights) && group.weights.every(isObject);
    if (!valid) {
      throw new Error(`${file}: weightsManifest[${i}] is malformed; expected { paths: string[], weights: object[] }`);
    }
  });
  return json as unknown as tf.io.ModelJSON;
}

/** After a crash mid-swap the target is gone but its previous version sits beside it. */
async function backupHint(dir: string): Promise<string> {
  const prefix = `.${path.basename(dir)}.old-`;
  const siblings = await fsp.readdir(path.dirname(dir)).catch(() => []);
  const backups = siblings.filter((name) => name.startsWith(prefix)).map((name) => path.join(path.dirname(dir), name));
  return backups.length === 0
    ? ''
    : `; a save was interrupted while replacing it, and the previous model is in ${backups.join(', ')} ` +
        `(rename it to ${dir})`;
}

async function readWeightGroup(dir: string, group: tf.io.WeightsManifestConfig[number]): Promise<ArrayBuffer[]> {
  const files = group.paths.map((p) => {
    // Manifests written by tfjs name files beside model.json; anything else is a corrupt or hostile manifest.
    if (path.basename(p) !== p) {
      throw new Error(`${path.join(dir, MODEL_JSON)} lists weights file "${p}"; expected a file name in ${dir}`);
    }
    return path.join(dir, p);
  });
  const buffers = await Promise.all(
    files.map(async (file) => {
      try {
        const bytes = await fsp.readFile(file);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      } catch (e) {
        if (errorCode(e) === 'ENOENT') throw new Error(`weights file ${file} is missing`);
        throw e;
      }
    }),
  );
  const expected = group.weights.reduce((sum, spec) => sum + weightBytes(spec, dir), 0);
  const found = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  if (found !== expected) {
    throw new Error(
      `weights file ${files.join(' + ')} holds ${found} bytes; ${path.join(dir, MODEL_JSON)} expects ${expected} bytes`,
    );
  }
  return buffers;
}

// A Map, not an object literal, so a manifest dtype such as "constructor" finds nothing.
const BYTES_PER_VALUE = new Map<string, number>([
  ['float32', 4],
  ['int32', 4],
  ['bool', 1],
  ['complex64', 8],
  ['uint8', 1],
  ['uint16', 2],
  ['float16', 2],
]);

function weightBytes(spec: tf.io.WeightsManifestEntry, dir: string): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = BYTES_PER_VALUE.get(dtype);
  const shape: unknown = spec.shape;
  if (size === undefined || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(
      `${path.join(dir, MODEL_JSON)}: weight "${spec.name}" has dtype ${dtype} ` +
        `and shape ${JSON.stringify(spec.shape)}; ` +
        `expected a numeric dtype (${[...BYTES_PER_VALUE.keys()].join(', ')}) and an array of non-negative integers`,
    );
  }
  return spec.shape.reduce((n, d) => n * d, 1) * size;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${text.length} characters): ${errorMessage(e)}`);
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(
    () => true,
    () => false,
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
