/**
 * The notebooks as a user works them all day, in a real browser: `npm start`,
 * the main notebook in the classic Notebook UI (the system's chromium, driven
 * by puppeteer-core), Run All, then again and again "change a hyperparameter,
 * Run All Below"; then save, reload, and the explore notebook once. After each
 * pass: the same kernel (no restart), no error output, every figure drawn.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'puppeteer-core';
import { ROOT } from '../../scripts/jupyter';
import { scratchNotebooks } from '../helpers/notebook-run';
import { assertHealthy, IMAGES, inBrowser, menu, missing, openNotebook, settle, state, until, type NotebookState } from '../helpers/live-jupyter';

// The page's globals, in the functions puppeteer runs there (tsconfig has no DOM types).
declare const window: any;
declare const document: any;

const PASSES = 10;
const MAX_SAVED_BYTES = 2 * 1024 * 1024;

/** Counts of a pass, which keep rising within one kernel (a restart starts them at 1 again). */
function assertAfter(s: NotebookState, previous: NotebookState, label: string): void {
  const first = Math.min(...(s.counts as number[]));
  const last = Math.max(...(previous.counts as number[]));
  assert.ok(first > last, `${label}: execution counts go on from ${last}, got ${first}`);
}

/** Hyperparameter edits, one per pass: [pattern, replacement] in the hyperparameter cell. */
const TWEAKS: ((pass: number) => [string, string])[] = [
  (pass) => ['seed: \\d+,', `seed: ${42 + pass},`],
  (pass) => ['dropout: [\\d.]+,', `dropout: ${[0.2, 0.1, 0.3][pass % 3]},`],
  (pass) => ['denseUnits: \\d+,', `denseUnits: ${[32, 16, 48][pass % 3]},`],
  (pass) => ['learningRate: [\\d.]+,', `learningRate: ${[0.001, 0.002, 0.0005][pass % 3]},`],
  // Another model and back: the build cell builds whichever the hyperparameters name.
  (pass) => ["model: '[\\w-]+',", `model: '${pass < PASSES / 2 ? 'better' : 'seed'}',`],
];

/** The text the model cell printed: its summary names the layers. */
function modelSummary(page: Page): Promise<string> {
  return page.evaluate(() => {
    const cell = window.Jupyter.notebook.get_cells().find((c: any) => c.cell_type === 'code' && c.get_text().includes('model.summary()'));
    return cell.output_area.outputs.map((o: any) => o.text ?? '').join('');
  });
}

test('the notebooks live through a day of tweaking in a real browser: no kernel restart, no error, every figure drawn, after reruns and a reload', { skip: missing(), timeout: 15 * 60_000 }, async (t) => {
  const notebooks = scratchNotebooks('test-live-');
  const root = path.dirname(notebooks);
  for (const name of ['fashion-mnist-cnn.ipynb', 'explore-mistakes.ipynb']) fs.copyFileSync(path.join(ROOT, 'notebooks', name), path.join(notebooks, name));
  const pageErrors: string[] = [];
  await inBrowser(root, { EPOCHS: '1', FASHION_MNIST_IMAGES: String(IMAGES) }, async (page, base, token) => {
    page.on('pageerror', (e) => pageErrors.push(e instanceof Error ? e.message : String(e)));

    await openNotebook(page, base, token, 'fashion-mnist-cnn.ipynb');
    const kernelId = (await state(page)).kernelId;
    await menu(page, '#celllink', '#run_all_cells');
    let started = Date.now();
    const took = (what: string) => {
      t.diagnostic(`${what}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
      started = Date.now();
    };
    let previous = await settle(page, 4);
    took('Run All');
    // Image grid, loss, accuracy, confusion matrix.
    assertHealthy(previous, 4, kernelId, 'Run All');

    for (let pass = 1; pass <= PASSES; pass++) {
      await page.evaluate(
        (tweak: string) => {
          const nb = window.Jupyter.notebook;
          const cell = nb.get_cells().find((c: any) => c.cell_type === 'code' && c.get_text().includes('resolveHyperparameters({'));
          const [pattern, value] = JSON.parse(tweak) as [string, string];
          cell.set_text(cell.get_text().replace(new RegExp(pattern), value));
          nb.select(nb.find_cell_index(cell));
        },
        JSON.stringify(TWEAKS[pass % TWEAKS.length](pass)),
      );
      await menu(page, '#celllink', '#run_all_cells_below');
      const now = await settle(page, 4);
      assertHealthy(now, 4, kernelId, `pass ${pass}`);
      const hpCell: string = await page.evaluate(() =>
        window.Jupyter.notebook.get_cells().find((c: any) => c.get_text().includes('resolveHyperparameters({')).get_text(),
      );
      const named = /model: '([\w-]+)'/.exec(hpCell)?.[1];
      assert.equal((await modelSummary(page)).includes('block1_conv'), named === 'better', `pass ${pass}: the summary is model ${named}'s`);
      assertAfter(now, previous, `pass ${pass}`);
      took(`pass ${pass}`);
      previous = now;
    }

    await page.evaluate(
      () =>
        new Promise<void>((resolve) => {
          const nb = window.Jupyter.notebook;
          nb.events.one('notebook_saved.Notebook', () => resolve());
          nb.save_notebook();
        }),
    );
    const saved = fs.statSync(path.join(notebooks, 'fashion-mnist-cnn.ipynb')).size;
    assert.ok(saved < MAX_SAVED_BYTES, `the saved notebook, outputs and all, is ${saved} bytes`);
    const savedOutputs = JSON.parse(fs.readFileSync(path.join(notebooks, 'fashion-mnist-cnn.ipynb'), 'utf8')).cells.flatMap((c: { outputs?: unknown[] }) => c.outputs ?? []);
    assert.ok(savedOutputs.length > 10, 'the outputs were saved');

    await page.reload({ waitUntil: 'load' });
    await page.waitForFunction(() => window.Jupyter?.notebook?._fully_loaded, { timeout: 120_000, polling: 500 });
    const reloaded = await until('the figures to draw after the reload', 60_000, async () => {
      const s = await state(page);
      return s.figures === 4 && s.drawn === 4 && s;
    }).catch(() => state(page));
    assert.deepEqual(reloaded.undrawn, [], 'after a reload every figure draws again');
    assert.equal(reloaded.drawn, 4);
    took('save and reload');

    // The last cell links to the web page of the saved model, which Jupyter serves as one file (in a sandbox).
    const href: string = await page.evaluate(() => document.querySelector('a[id^="web-app-"]').href);
    const app = await page.browser().newPage();
    await app.goto(href, { referer: page.url() });
    await app.waitForFunction(() => document.body.dataset.backend || /cannot/.test(document.getElementById('status').textContent), { timeout: 120_000 });
    assert.match(await app.evaluate(() => document.getElementById('status').textContent), /^ready: model /, 'the web page opens from the notebook');
    await app.close();
    took('the web page');

    await openNotebook(page, base, token, 'explore-mistakes.ipynb');
    const exploreKernel = (await state(page)).kernelId;
    await menu(page, '#celllink', '#run_all_cells');
    // Accuracy per class, the mistakes gallery, two validation curves.
    assertHealthy(await settle(page, 4), 4, exploreKernel, 'explore-mistakes Run All');
    took('explore-mistakes Run All');
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });
});
