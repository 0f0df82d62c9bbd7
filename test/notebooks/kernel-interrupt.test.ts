/**
 * Kernel -> Interrupt in the project's kernel, as Jupyter sends it (SIGINT
 * through jupyter_client): training on worker threads, on the main thread,
 * and tfjs's model.fit stop within a step; the cell says so in one line; the
 * cells queued behind it do not run; nothing runs on; the next cells work.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { writeKernelSpecPath } from '../../scripts/kernel-spec';
import { IDLE_AFTER_STOP_CORES, runInKernel, STOP_SECONDS, text, type CellResult } from '../helpers/kernel-run';
import { jupyterMissing, scratchNotebooks } from '../helpers/notebook-run';

const scratch: string[] = [];
after(() => scratch.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));


const train = (batchSize: number) => `
hp = resolveHyperparameters({ epochs: 500, batchSize: ${batchSize}, seed: 1 });
model = buildZooModel('seed', hp);
await train(model, data, hp, { callbacks: { onEpochEnd: async (e) => console.log(\`epoch \${e + 1} done\`) } });`;

/** `where`: the epoch and the finished epochs the message may name, e.g. "(2|3) of 500 \\(1 finished" (a group each). */
function assertStopped(cell: CellResult, where: string, label: string): void {
  const out = text(cell.outputs);
  assert.equal(cell.status, 'error', `${label}: the cell ends as an error, so Run All stops there`);
  assert.match(out, new RegExp(`TrainingStoppedError: stopped by Kernel -> Interrupt during epoch (${where}) finished\\); the model keeps the weights of its last step`), `${label}: ${out.slice(-600)}`);
  assert.doesNotMatch(out, /\n\s+at /, `${label}: no stack trace`);
  assert.ok(cell.seconds_to_reply !== null && cell.seconds_to_reply! <= STOP_SECONDS, `${label}: the cell ended ${cell.seconds_to_reply} s after the interrupt`);
  assert.ok(cell.cpu_cores_after! <= IDLE_AFTER_STOP_CORES, `${label}: the kernel used ${cell.cpu_cores_after} cores after the stop`);
}

test('Kernel -> Interrupt stops training on the workers, on the main thread and in model.fit; queued cells do not run; the kernel goes on', { skip: jupyterMissing, timeout: 10 * 60_000 }, (t) => {
  const cwd = scratchNotebooks('test-interrupt-');
  scratch.push(path.dirname(cwd));
  const spec = fs.mkdtempSync(path.join(os.tmpdir(), 'kernel-spec-'));
  scratch.push(spec);
  writeKernelSpecPath(spec);
  const { cells, alive } = runInKernel(
    cwd,
    [
      {
        code: `import { buildZooModel, loadFashionMnist, prepareData, resolveHyperparameters, selectBackend, testModel, train, trainingHistory } from './lib/index';
await selectBackend();
const data = prepareData(await loadFashionMnist(), resolveHyperparameters());
let hp = resolveHyperparameters();
let model = buildZooModel('seed', hp);
console.log('ready');`,
      },
      // Workers (batch 512): a stop mid-step, with cells queued behind it as Run All queues them.
      { code: train(512), interrupt_on: 'epoch 2 done' },
      { code: "console.log('a queued cell ran');", queued: true },
      { code: "console.log('another queued cell ran');", queued: true },
      { code: `console.log('finished epochs', trainingHistory(model).length);\nconsole.log('test accuracy', (await testModel(model, data.test)).accuracy);` },
      // The main thread (batch 32, one chunk a step).
      { code: train(32), interrupt_on: 'epoch 1 done' },
      { code: `model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
await model.fit(data.train.x, data.train.y, { epochs: 500, batchSize: 32, verbose: 0, callbacks: { onEpochEnd: async (e) => console.log(\`fit epoch \${e + 1} done\`) } });`, interrupt_on: 'fit epoch 1 done' },
      // An interrupt while nothing of the project's runs: tslab's own, as before.
      { code: "console.log('waiting');\nawait new Promise((resolve) => setTimeout(resolve, 60_000));", interrupt_on: 'waiting' },
      { code: `hp = resolveHyperparameters({ epochs: 2, batchSize: 4096 });\nmodel = buildZooModel('seed', hp);\nconsole.log('trained again', (await train(model, data, hp, { verbose: 0 })).length, 'epochs');` },
    ],
    { JUPYTER_PATH: spec, FASHION_MNIST_IMAGES: '6000' },
  );
  assert.equal(alive, true, 'the kernel is alive');
  const [setup, workers, queued1, queued2, afterwards, mainThread, fit, waiting, again] = cells;
  assert.match(text(setup.outputs), /ready/);
  for (const [label, cell] of [['workers', workers], ['main thread', mainThread], ['model.fit', fit], ['waiting', waiting]] as const) {
    t.diagnostic(`${label}: reply ${cell.seconds_to_reply?.toFixed(2)} s after the interrupt, then ${cell.cpu_cores_after?.toFixed(3)} cores`);
  }
  assert.match(text(workers.outputs), /worker thread/, 'the first run trains on worker threads');
  // Pressed once epoch 2 ended: epoch 3 runs, or epoch 4 on a loaded machine.
  assertStopped(workers, '3 of 500 \\(2|4 of 500 \\(3', 'workers');
  for (const cell of [queued1, queued2]) {
    assert.notEqual(cell.status, 'ok', 'a queued cell is not run');
    assert.doesNotMatch(text(cell.outputs), /queued cell ran/);
  }
  assert.equal(afterwards.status, 'ok', text(afterwards.outputs));
  assert.match(text(afterwards.outputs), /finished epochs [23]\ntest accuracy 0\.\d+/);
  assert.match(text(mainThread.outputs), /main thread for steps of 32/);
  assertStopped(mainThread, '2 of 500 \\(1|3 of 500 \\(2', 'main thread');
  assertStopped(fit, '2 of 500 \\(1|3 of 500 \\(2', 'model.fit');
  assert.equal(waiting.status, 'error');
  assert.match(text(waiting.outputs), /Interrupted asynchronously/);
  // At once, as tslab does: not after the launcher's grace for a loop (2 s), which a stale listener would cause.
  assert.ok(waiting.seconds_to_reply! < 1, `the waiting cell ended ${waiting.seconds_to_reply} s after the interrupt`);
  assert.equal(again.status, 'ok', text(again.outputs));
  assert.match(text(again.outputs), /trained again 2 epochs/);
});
