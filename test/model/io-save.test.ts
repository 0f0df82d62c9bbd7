import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  promises as fsp,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { DEFAULT_HYPERPARAMETERS } from '../../lib/model/hyperparams';
import { loadModel, loadModelMetadata, saveModel } from '../../lib/model/io';
import { modelMetadata } from '../../lib/model/metadata';
import { escapeRegExp } from '../helpers/escape-regexp';
import { failWhen, modelWithSeed, newModelDir, PARAMETERS, predict, savedMetadata, saveInChild, siblings } from '../helpers/saved-models';

describe('saveModel / loadModel', () => {
  it('round-trips a model: same layers, identical predictions', async () => {
    const dir = newModelDir();
    const model = modelWithSeed(DEFAULT_HYPERPARAMETERS.seed);
    await saveModel(model, dir);

    assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    assert.equal(statSync(path.join(dir, 'weights.bin')).size, PARAMETERS * 4);
    assert.deepEqual(siblings(dir), ['model']);

    const loaded = await loadModel(dir);
    assert.deepEqual(
      loaded.layers.map((l) => l.getClassName()),
      model.layers.map((l) => l.getClassName()),
    );
    assert.ok(loaded.layers.some((l) => l.getClassName() === 'SeededDropout'));
    assert.equal(loaded.countParams(), PARAMETERS);
    assert.deepEqual(predict(loaded), predict(model));
    assert.equal(await loadModelMetadata(dir), null);
  });

  it('stores metadata beside the model and reads it back', async () => {
    const dir = newModelDir();
    const model = modelWithSeed(1);
    const history = [{ epoch: 1, loss: 0.9, accuracy: 0.7, val_loss: 0.8, val_accuracy: 0.72, seconds: 5.5 }];
    const metadata = modelMetadata(model, { hyperparameters: { ...DEFAULT_HYPERPARAMETERS }, history, backend: 'cpu', testAccuracy: 0.9123, classNames: CLASS_NAMES });
    assert.deepEqual(metadata, { model: 'seed', hyperparameters: DEFAULT_HYPERPARAMETERS, history, backend: 'cpu', testAccuracy: 0.9123, classNames: [...CLASS_NAMES], inputShape: [28, 28, 1] });
    await saveModel(model, dir, metadata);
    assert.deepEqual(await loadModelMetadata(dir), metadata);
  });

  it("keeps a history's NaN (model.fit keeps no seconds), and refuses metadata of another model", async () => {
    const dir = newModelDir();
    const model = modelWithSeed(1);
    const history = [{ epoch: 1, loss: 0.9, accuracy: 0.7, val_loss: NaN, val_accuracy: NaN, seconds: NaN }];
    const metadata = modelMetadata(model, { hyperparameters: { ...DEFAULT_HYPERPARAMETERS }, history, backend: 'cpu', testAccuracy: 0.5, classNames: CLASS_NAMES });
    await saveModel(model, dir, metadata);
    assert.deepEqual((await loadModelMetadata(dir))!.history, history);
    await assert.rejects(saveModel(model, newModelDir(), { ...metadata, classNames: ['a', 'b', 'c'] }), /^RangeError: the metadata names 3 classes, but the model has 10 outputs$/);
    await assert.rejects(saveModel(model, newModelDir(), { ...metadata, inputShape: [32, 32, 3] }), /^RangeError: the metadata says the model takes 32x32x3 images, but it takes 28x28x1/);
  });

  it('reads metadata saved before it had one shape, and refuses a wrong field by name', async () => {
    const dir = newModelDir();
    await saveModel(modelWithSeed(1), dir);
    const file = path.join(dir, 'metadata.json');
    // As the main notebook wrote it: no model name, class names or input shape.
    await fsp.writeFile(file, JSON.stringify({ hyperparameters: DEFAULT_HYPERPARAMETERS, backend: 'wasm', testAccuracy: 0.88, history: [] }));
    assert.deepEqual(await loadModelMetadata(dir), { model: 'seed', hyperparameters: DEFAULT_HYPERPARAMETERS, history: [], backend: 'wasm', testAccuracy: 0.88, classNames: [...CLASS_NAMES], inputShape: [28, 28, 1] });
    await fsp.writeFile(file, JSON.stringify({ hyperparameters: DEFAULT_HYPERPARAMETERS, backend: 'wasm', testAccuracy: '0.88' }));
    await assert.rejects(loadModelMetadata(dir), new RegExp(`^Error: ${escapeRegExp(file)}: testAccuracy is "0.88"; expected a number in \\[0, 1\\]$`));
    await fsp.writeFile(file, JSON.stringify({ hyperparameters: { ...DEFAULT_HYPERPARAMETERS, dropout: 2 }, backend: 'wasm', testAccuracy: 0.88 }));
    await assert.rejects(loadModelMetadata(dir), /metadata\.json: hyperparameters: hyperparameter dropout must be a number in \[0, 1\), got 2$/);
    await fsp.writeFile(file, JSON.stringify({ hyperparameters: DEFAULT_HYPERPARAMETERS, backend: 'wasm', testAccuracy: 0.88, history: [{ epoch: 1 }] }));
    await assert.rejects(loadModelMetadata(dir), /metadata\.json: history\[0\]\.loss is undefined; expected a number$/);
  });

  it('overwrites an existing save, leaving nothing beside it', async () => {
    const dir = newModelDir();
    const first = modelWithSeed(1);
    const second = modelWithSeed(2);
    assert.notDeepEqual(predict(first), predict(second));
    await saveModel(first, dir, savedMetadata(first));
    await saveModel(second, dir);

    assert.deepEqual(predict(await loadModel(dir)), predict(second));
    // The metadata of the first save must not survive into the second.
    assert.equal(await loadModelMetadata(dir), null);
    assert.deepEqual(siblings(dir), ['model']);
  });

  it('creates missing parent directories', async () => {
    const dir = path.join(newModelDir(), 'nested', 'deeper');
    await saveModel(modelWithSeed(1), dir);
    assert.ok(statSync(path.join(dir, 'model.json')).isFile());
  });

  it('keeps the previous model when writing the weights fails', async (t) => {
    const dir = newModelDir();
    const previous = modelWithSeed(1);
    await saveModel(previous, dir);
    failWhen(t, 'open', (file) => path.basename(file) === 'weights.bin');

    await assert.rejects(saveModel(modelWithSeed(2), dir), /injected failure on .*weights\.bin/);
    t.mock.restoreAll();
    assert.deepEqual(predict(await loadModel(dir)), predict(previous));
    assert.deepEqual(siblings(dir), ['model'], 'the half-written temporary directory is removed');
  });

  it('puts the previous model back when moving the new one in fails', async (t) => {
    const dir = newModelDir();
    const previous = modelWithSeed(1);
    await saveModel(previous, dir);
    failWhen(t, 'rename', (from) => path.basename(from).startsWith('.model.tmp-'));

    await assert.rejects(saveModel(modelWithSeed(2), dir), /injected failure/);
    t.mock.restoreAll();
    assert.deepEqual(predict(await loadModel(dir)), predict(previous));
    assert.deepEqual(siblings(dir), ['model']);
  });

  it('refuses to replace a directory that is not a saved model, and a file', async () => {
    const dir = newModelDir();
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'keep me');
    await assert.rejects(
      saveModel(modelWithSeed(1), dir),
      /refusing to replace .*model: it holds 1 entries but no model\.json/,
    );
    assert.deepEqual(readdirSync(dir), ['notes.txt']);

    const file = path.join(dir, 'notes.txt');
    await assert.rejects(
      saveModel(modelWithSeed(1), file),
      /notes\.txt: it or one of its parents is a file, expected directories/,
    );
  });
});

describe('saveModel in a used directory', () => {
  it('removes what interrupted saves left beside the model', async () => {
    const dir = newModelDir();
    await saveModel(modelWithSeed(1), dir);
    const parent = path.dirname(dir);
    for (const leftover of ['.model.tmp-a1b2c3', '.model.tmp-d4e5f6', '.model.old-0a0b0c']) {
      mkdirSync(path.join(parent, leftover));
      writeFileSync(path.join(parent, leftover, 'weights.bin'), Buffer.alloc(1024));
    }
    writeFileSync(path.join(parent, 'other-notes.txt'), 'not ours');
    const next = modelWithSeed(2);
    await saveModel(next, dir);
    assert.deepEqual(siblings(dir), ['model', 'other-notes.txt']);
    assert.deepEqual(predict(await loadModel(dir)), predict(next));
  });

  it('creates directories as the umask says, like mkdir', async (t) => {
    const previous = process.umask();
    t.after(() => process.umask(previous));
    for (const mask of [0o022, 0o077, 0o002]) {
      process.umask(mask);
      const dir = newModelDir();
      await saveModel(modelWithSeed(1), dir);
      assert.equal((statSync(dir).mode & 0o777).toString(8), (0o777 & ~mask).toString(8), `umask ${mask.toString(8)}`);
      assert.equal((statSync(path.join(dir, 'weights.bin')).mode & 0o777).toString(8), (0o666 & ~mask).toString(8));
    }
  });

  it('saves through a symbolic link into the directory it names, keeping the link', async () => {
    const parent = path.dirname(newModelDir());
    const real = path.join(parent, 'run-3');
    const link = path.join(parent, 'latest');
    await saveModel(modelWithSeed(1), real);
    symlinkSync('run-3', link);
    const next = modelWithSeed(2);
    await saveModel(next, link);
    assert.equal(readlinkSync(link), 'run-3');
    assert.deepEqual(predict(await loadModel(real)), predict(next));
    assert.deepEqual(readdirSync(parent).sort(), ['latest', 'run-3']);

    const dangling = path.join(parent, 'dangling');
    symlinkSync('missing-run', dangling);
    await assert.rejects(
      saveModel(next, dangling),
      new RegExp(`cannot save a model to ${escapeRegExp(dangling)}: it is a symbolic link to missing-run, which does not exist; point the link at a directory, or remove it$`),
    );
    const loop = path.join(parent, 'loop');
    symlinkSync('loop', loop);
    for (const target of [loop, path.join(loop, 'model')]) {
      await assert.rejects(
        saveModel(next, target),
        new RegExp(`cannot save a model to ${escapeRegExp(target)}: it is, or is under, a symbolic link that loops; point the link at a directory, or remove it$`),
      );
    }
  });

  it('saves into a writable model directory under a read-only parent', async () => {
    // Root ignores permissions, so the save runs as an unprivileged user then.
    const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const parent = path.dirname(newModelDir());
    const dir = path.join(parent, 'model');
    const model = modelWithSeed(1);
    await saveModel(model, dir, savedMetadata(model));
    const missing = path.join(parent, 'not-there');
    // Left by a save killed before the parent became read-only: it cannot be removed now, and must not stop the save.
    mkdirSync(path.join(parent, '.model.tmp-0a0b0c0d0e0f'));
    if ('uid' in user) {
      for (const p of [parent, dir, ...readdirSync(dir).map((f) => path.join(dir, f))]) chownSync(p, 65534, 65534);
    }
    chmodSync(parent, 0o555);
    try {
      const saved = saveInChild(dir, 2, { user });
      assert.equal(saved.status, 0, saved.error ? `${process.execPath} did not start as ${JSON.stringify(user)}: ${saved.error.message}` : saved.stderr);
      assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
      assert.deepEqual(predict(await loadModel(dir)), predict(modelWithSeed(2)));
      assert.equal(await loadModelMetadata(dir), null);

      // checkSaveTarget, which train --save runs before training, tells both apart too.
      assert.equal(saveInChild(dir, 2, { user, checkOnly: true }).status, 0);
      for (const checkOnly of [false, true]) {
        const refused = saveInChild(missing, 2, { user, checkOnly });
        assert.equal(refused.status, 1);
        assert.match(refused.stderr, new RegExp(`cannot save a model to ${escapeRegExp(missing)}: ${escapeRegExp(parent)} is not writable \\(EACCES\\)`));
      }
    } finally {
      chmodSync(parent, 0o755);
    }
  });
});

describe('a save killed mid-way', () => {
  /**
   * Runs a save of a different model in a child process that SIGKILLs itself
   * at the first fs.promises `method` call `when` picks: a real crash, with no
   * cleanup or rollback code running.
   */
  function saveAndKill(dir: string, method: 'open' | 'rename', when: string): void {
    const child = saveInChild(dir, 2, {
      prelude: `
        const fsp = require('node:fs').promises;
        const original = fsp.${method};
        fsp.${method} = function (file, ...rest) {
          if ((${when})(require('node:path').basename(file))) process.kill(process.pid, 'SIGKILL');
          return original.call(fsp, file, ...rest);
        };`,
    });
    assert.equal(child.signal, 'SIGKILL', `the child should have been killed mid-save; stderr: ${child.stderr}`);
  }

  it('while writing files: the previous model still loads', async () => {
    const dir = newModelDir();
    const previous = modelWithSeed(1);
    await saveModel(previous, dir);

    // Killed after weights.bin is written, before model.json.
    saveAndKill(dir, 'open', `(name) => name === 'model.json'`);
    const left = siblings(dir).filter((name) => name.startsWith('.model.tmp-'));
    assert.equal(left.length, 1, 'the crash leaves its half-written temporary directory');
    assert.deepEqual(readdirSync(path.join(path.dirname(dir), left[0])), ['weights.bin']);

    assert.deepEqual(predict(await loadModel(dir)), predict(previous));
    // The next save removes the leftover.
    const next = modelWithSeed(3);
    await saveModel(next, dir);
    assert.deepEqual(predict(await loadModel(dir)), predict(next));
    assert.deepEqual(siblings(dir), ['model']);
  });

  it('between the two renames: loadModel names the backup holding the previous model', async () => {
    const dir = newModelDir();
    const previous = modelWithSeed(1);
    await saveModel(previous, dir);

    saveAndKill(dir, 'rename', `(name) => name.startsWith('.model.tmp-')`);
    const backups = siblings(dir).filter((name) => name.startsWith('.model.old-'));
    assert.equal(backups.length, 1);
    const backup = path.join(path.dirname(dir), backups[0]);
    await assert.rejects(loadModel(dir), (e: Error) => {
      assert.match(e.message, /no saved model at .*model: the directory does not exist/);
      assert.ok(e.message.includes(`the previous model is in ${backup}`), e.message);
      return true;
    });

    await fsp.rename(backup, dir);
    assert.deepEqual(predict(await loadModel(dir)), predict(previous));
  });

  it('between the two renames, then saved again: the backup goes once the new model is in place', async () => {
    const dir = newModelDir();
    await saveModel(modelWithSeed(1), dir);
    saveAndKill(dir, 'rename', `(name) => name.startsWith('.model.tmp-')`);
    assert.equal(siblings(dir).filter((name) => name.startsWith('.model.old-')).length, 1);
    const next = modelWithSeed(3);
    await saveModel(next, dir);
    assert.deepEqual(predict(await loadModel(dir)), predict(next));
    assert.deepEqual(siblings(dir), ['model']);
  });
});
