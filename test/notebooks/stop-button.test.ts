/**
 * The stop button in a real browser: Kernel -> Interrupt during training on both
 * engines and in model.fit ends the cell at once, the cells below wait, the kernel
 * idles, and the next run works.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { ROOT } from '../../scripts/jupyter';
import { IDLE_AFTER_STOP_CORES, STOP_SECONDS } from '../helpers/kernel-run';
import { scratchNotebooks } from '../helpers/notebook-run';
import { assertHealthy, cellIndex, cellState, editHyperparameters, IMAGES, inBrowser, menu, missing, openNotebook, settle, sleep, state, until } from '../helpers/live-jupyter';

// The page's globals, in the functions puppeteer runs there (tsconfig has no DOM types).
declare const window: any;

/** The CPU time (user + system, in seconds) of the kernel process of the page's notebook, from /proc. */
async function kernelCpuSeconds(page: Page): Promise<number> {
  const id: string = await page.evaluate(() => window.Jupyter.notebook.kernel.id);
  const pid = fs.readdirSync('/proc').find((p) => /^\d+$/.test(p) && (() => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`kernel-${id}.json`);
    } catch {
      return false;
    }
  })());
  if (pid === undefined) throw new Error(`no process of kernel ${id}`);
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Finished epochs in the live progress table of a cell's output (its rows, less the header). */
const epochRows = (text: string) => Math.max(0, text.split('<tr>').length - 2);

/**
 * Presses Kernel -> Interrupt once cell `index` shows `running(text)`, then checks
 * what the user sees: the cell ends within STOP_SECONDS with the one-line stop message naming the
 * epoch, the cells below it did not run, and the kernel idles afterwards.
 */
async function pressStop(page: Page, index: number, running: (text: string) => boolean, label: string, t: { diagnostic(s: string): void }, shots?: string): Promise<void> {
  await until(`${label}: training under way`, 300_000, async () => {
    const s = await cellState(page, index);
    return s.running && running(s.text);
  });
  const below = await page.evaluate((i: number) => window.Jupyter.notebook.get_cells().slice(i + 1).map((c: any) => c.input_prompt_number ?? null), index);
  const pressed = Date.now();
  await menu(page, '#kernellink', '#int_kernel');
  await until(`${label}: the cell to end after the stop`, 60_000, async () => !(await cellState(page, index)).running);
  const seconds = (Date.now() - pressed) / 1000;
  const cpuBefore = await kernelCpuSeconds(page);
  await sleep(5000);
  const cores = ((await kernelCpuSeconds(page)) - cpuBefore) / 5;
  t.diagnostic(`${label}: the cell ended ${seconds.toFixed(1)} s after Kernel -> Interrupt; the kernel then used ${cores.toFixed(3)} cores`);
  if (shots) {
    await page.evaluate((i: number) => window.Jupyter.notebook.get_cell(i).element[0].scrollIntoView(), index);
    await page.screenshot({ path: path.join(shots, `stop-${label.replace(/\W+/g, '-')}.png`) });
  }
  const cell = await cellState(page, index);
  assert.match(cell.text, /TrainingStoppedError: stopped by Kernel -&gt; Interrupt during epoch \d+ of \d+ \(\d+ finished\); the model keeps the weights of its last step|TrainingStoppedError: stopped by Kernel -> Interrupt during epoch \d+ of \d+ \(\d+ finished\); the model keeps the weights of its last step/, `${label}: ${cell.text.slice(-500)}`);
  assert.doesNotMatch(cell.text, /\n\s+at /, `${label}: no stack trace`);
  assert.ok(seconds <= STOP_SECONDS, `${label}: the cell ended ${seconds} s after the stop`);
  assert.ok(cores <= IDLE_AFTER_STOP_CORES, `${label}: the kernel used ${cores} cores in the 5 s after the stop`);
  const after = await page.evaluate((i: number) => window.Jupyter.notebook.get_cells().slice(i + 1).map((c: any) => [c.input_prompt_number ?? null, c.cell_type === 'code' ? c.output_area.outputs.length : 0]), index);
  after.forEach(([count, outputs]: [unknown, number], k: number) => {
    assert.ok(count === below[k] || count === null || count === undefined || count === ' ', `${label}: cell ${index + 1 + k} below did not run (prompt ${count})`);
    assert.equal(outputs, 0, `${label}: cell ${index + 1 + k} below has no output`);
  });
}

test('the stop button stops training at once on both engines and in model.fit; the cells below wait; the next run works', { skip: missing(), timeout: 15 * 60_000 }, async (t) => {
  const notebooks = scratchNotebooks('test-stop-');
  const root = path.dirname(notebooks);
  fs.copyFileSync(path.join(ROOT, 'notebooks', 'fashion-mnist-cnn.ipynb'), path.join(notebooks, 'fashion-mnist-cnn.ipynb'));
  const shots = process.env.LIVE_NOTEBOOK_SCREENSHOTS;
  await inBrowser(root, { FASHION_MNIST_IMAGES: String(IMAGES), EPOCHS: '' }, async (page, base, token) => {
    await openNotebook(page, base, token, 'fashion-mnist-cnn.ipynb');
    const kernelId = (await state(page)).kernelId;
    const training = await cellIndex(page, 'await train(model, data, hp');

    // The default batch (4096: worker threads), in Run All: the cells below are queued behind it.
    await editHyperparameters(page, [['epochs: \\d+,', 'epochs: 300,']]);
    await menu(page, '#celllink', '#run_all_cells');
    await pressStop(page, training, (text) => epochRows(text) >= 3, 'batch 4096 on worker threads', t, shots);
    // The model evaluates afterwards, in the same kernel.
    const evaluation = await cellIndex(page, 'await testModel(model, data.test)');
    await page.evaluate((i: number) => window.Jupyter.notebook.get_cell(i).execute(), evaluation);
    await until('the evaluation after the stop', 120_000, async () => /test accuracy 0\.\d+/.test((await cellState(page, evaluation)).text));

    // Keras's batch of 32 (the main thread), in Run All Below.
    await editHyperparameters(page, [['batchSize: \\d+,', 'batchSize: 32,']]);
    await menu(page, '#celllink', '#run_all_cells_below');
    await pressStop(page, training, (text) => /Epoch 1\/300 .* batch [1-9]\d\//.test(text), 'batch 32 on the main thread', t, shots);

    // tfjs's own model.fit, in a cell of its own at the end.
    await page.evaluate(() => {
      const nb = window.Jupyter.notebook;
      const cell = nb.insert_cell_at_bottom('code');
      // Its own import: an interrupted cell's imports are not kept (tslab records a cell's declarations when it ends well).
      cell.set_text(
        "import { notebookProgress } from './lib/index';\n\n" +
          "model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });\n" +
          'await model.fit(data.train.x, data.train.y, { epochs: hp.epochs, batchSize: hp.batchSize, validationData: [data.validation.x, data.validation.y], callbacks: notebookProgress() });',
      );
      nb.select(nb.find_cell_index(cell));
    });
    const fit = await cellIndex(page, 'await model.fit(');
    await menu(page, '#celllink', '#run_cell');
    await pressStop(page, fit, (text) => epochRows(text) >= 2, 'model.fit', t, shots);

    // An edit and Run All Below: every figure, no error, the same kernel.
    await editHyperparameters(page, [['epochs: \\d+,', 'epochs: 2,'], ['batchSize: \\d+,', 'batchSize: 4096,']]);
    await menu(page, '#celllink', '#run_all_cells_below');
    const s = await settle(page, 4);
    if (shots) await page.screenshot({ path: path.join(shots, 'stop-then-run-all-below.png'), fullPage: true });
    assertHealthy(s, 4, kernelId, 'Run All Below after the stops');
    assert.match((await cellState(page, fit)).text, /Done: 2 epochs/, 'model.fit ran to its end');
  });
});
