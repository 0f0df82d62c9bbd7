import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadModel, loadModelMetadata, saveModel } from '../../lib/model/io';
import { escapeRegExp } from '../helpers/escape-regexp';
import { modelWithSeed, newModelDir, PARAMETERS } from '../helpers/saved-models';

describe('loadModel errors', () => {
  let saved: string;

  before(async () => {
    saved = newModelDir();
    await saveModel(modelWithSeed(1), saved);
  });

  /** A copy of the good save, to damage. */
  async function copyOfSave(): Promise<string> {
    const dir = newModelDir();
    await fsp.cp(saved, dir, { recursive: true });
    return dir;
  }

  it('names a missing directory', async () => {
    const dir = newModelDir();
    await assert.rejects(
      loadModel(dir),
      new RegExp(`^Error: no saved model at ${escapeRegExp(dir)}: the directory does not exist$`),
    );
    await assert.rejects(loadModelMetadata(dir), /the directory does not exist/);
  });

  it('names a missing model.json', async () => {
    const dir = await copyOfSave();
    await fsp.rm(path.join(dir, 'model.json'));
    await assert.rejects(loadModel(dir), new RegExp(`${escapeRegExp(path.join(dir, 'model.json'))} is missing`));
  });

  it('says a save into the directory was interrupted', async () => {
    const dir = await copyOfSave();
    // What saveInPlace leaves when killed between removing model.json and renaming the new one in.
    await fsp.rename(path.join(dir, 'model.json'), path.join(dir, 'model.json.tmp-0123456789ab'));
    await assert.rejects(
      loadModel(dir),
      /model\.json is missing; a save into this directory was interrupted: save the model again$/,
    );
  });

  it('names a truncated model.json', async () => {
    const dir = await copyOfSave();
    const file = path.join(dir, 'model.json');
    const text = await fsp.readFile(file, 'utf8');
    await fsp.writeFile(file, text.slice(0, 100));
    await assert.rejects(loadModel(dir), new RegExp(`${escapeRegExp(file)} is not valid JSON \\(100 characters\\)`));
  });

  it('names a model.json that is JSON but not a model', async () => {
    const dir = await copyOfSave();
    await fsp.writeFile(path.join(dir, 'model.json'), '{"hello": "world"}');
    await assert.rejects(
      loadModel(dir),
      /model\.json is not a model\.json: expected an object with modelTopology and weightsManifest/,
    );
  });

  it('names a weights file of the wrong size with expected and found bytes', async () => {
    const dir = await copyOfSave();
    const file = path.join(dir, 'weights.bin');
    await fsp.truncate(file, PARAMETERS * 4 - 8);
    await assert.rejects(
      loadModel(dir),
      new RegExp(
        `weights file ${escapeRegExp(file)} holds ${PARAMETERS * 4 - 8} bytes; ` +
          `.*model\\.json expects ${PARAMETERS * 4} bytes`,
      ),
    );
  });

  it('names a missing weights file', async () => {
    const dir = await copyOfSave();
    const file = path.join(dir, 'weights.bin');
    await fsp.rm(file);
    await assert.rejects(loadModel(dir), new RegExp(`weights file ${escapeRegExp(file)} is missing`));
  });

  it('rejects a manifest pointing outside the directory', async () => {
    const dir = await copyOfSave();
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(await fsp.readFile(file, 'utf8'));
    json.weightsManifest[0].paths = ['../elsewhere.bin'];
    await fsp.writeFile(file, JSON.stringify(json));
    await assert.rejects(loadModel(dir), /lists weights file "\.\.\/elsewhere\.bin"; expected a file name in/);
  });

  it('names the file when tfjs cannot rebuild the topology', async () => {
    const dir = await copyOfSave();
    const file = path.join(dir, 'model.json');
    const json = JSON.parse(await fsp.readFile(file, 'utf8'));
    json.modelTopology.class_name = 'NoSuchModel';
    await fsp.writeFile(file, JSON.stringify(json));
    await assert.rejects(
      loadModel(dir),
      new RegExp(`${escapeRegExp(file)} does not describe a loadable model: .*NoSuchModel`),
    );
  });

  it('names metadata.json that is not an object', async () => {
    const dir = await copyOfSave();
    await fsp.writeFile(path.join(dir, 'metadata.json'), '[1, 2]');
    await assert.rejects(loadModelMetadata(dir), /metadata\.json holds an array; expected a JSON object/);
  });
});
