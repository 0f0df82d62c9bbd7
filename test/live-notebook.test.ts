/**
 * The notebooks as a user works them all day, in a real browser: `npm start`,
 * the main notebook in the classic Notebook UI (the system's chromium, driven
 * by puppeteer-core), Run All, then again and again "change a hyperparameter,
 * Run All Below"; then save, reload, and the explore notebook once. After each
 * pass: the same kernel (no restart), no error output, every figure drawn.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { FIGURE_CLASS } from '../lib/notebook/display';
import { findJupyterPython, ROOT } from '../scripts/jupyter';
import { CHROMIUM, chromiumMissing } from './chromium';
import { IDLE_AFTER_STOP_CORES, STOP_SECONDS } from './kernel-run';
import { scratchNotebooks } from './notebook-run';

// The page's globals, in the functions puppeteer runs there (tsconfig has no DOM types).
declare const window: any;
declare const document: any;

const PASSES = 10;
/** Images of each split the notebooks load (FASHION_MNIST_IMAGES): enough for every class, quick to train. */
const IMAGES = 3000;
const MAX_SAVED_BYTES = 2 * 1024 * 1024;

function missing(): string | false {
  const why = chromiumMissing() || (findJupyterPython() === null ? 'Jupyter is not installed (apt-get install jupyter-notebook)' : false);
  if (why && process.env.CI === 'true') throw new Error(`CI needs ${why}`);
  return why;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => false as const);
    if (value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** `npm start`, as README says, on a scratch folder, a free loopback port, a token, and Jupyter folders of its own. */
async function startServer(root: string, env: NodeJS.ProcessEnv): Promise<{ server: ChildProcess; base: string; token: string; log: () => string }> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const jupyter = path.join(root, 'jupyter');
  // A port found free can be taken before Jupyter binds it: Jupyter then tries the next ones, and
  // the URL it prints says which it took.
  const args = ['start', '--', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, `--notebook-dir=${path.join(root, 'notebooks')}`, `--NotebookApp.token=${token}`];
  let log = '';
  const server = spawn('npm', args, {
    cwd: ROOT,
    detached: true, // its own process group: the server and its kernels end together
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...env,
      JUPYTER_DATA_DIR: path.join(jupyter, 'data'),
      JUPYTER_CONFIG_DIR: path.join(jupyter, 'config'),
      JUPYTER_RUNTIME_DIR: path.join(jupyter, 'runtime'),
      JUPYTER_PATH: '',
    },
  });
  server.stdout?.on('data', (d) => (log += d));
  server.stderr?.on('data', (d) => (log += d));
  const up = await until('the notebook server', 120_000, async () => {
    if (server.exitCode !== null || server.signalCode !== null) return 'exited';
    const listening = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
    const base = listening && `http://127.0.0.1:${listening[1]}`;
    return base !== null && (await fetch(`${base}/api/status?token=${token}`)).ok && base;
  }).catch((e) => `${(e as Error).message}`);
  if (!up.startsWith('http')) throw new Error(`npm start: ${up}\n${log.slice(-3000)}`);
  return { server, base: up, token, log: () => log };
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.pid === undefined) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  process.kill(-server.pid, 'SIGTERM');
  if ((await Promise.race([exited, sleep(20_000).then(() => 'late')])) === 'late') process.kill(-server.pid, 'SIGKILL');
}

/**
 * `npm start` on `root` with `env`, and a page of the system's chromium to work it in. On a failure
 * the page's screenshot and the server's log stay in `root`; else `root` is removed.
 */
async function inBrowser(root: string, env: NodeJS.ProcessEnv, work: (page: Page, base: string, token: string) => Promise<void>): Promise<void> {
  const { server, base, token, log } = await startServer(root, env);
  let browser: Browser | undefined;
  let page: Page | undefined;
  try {
    browser = await puppeteer.launch({
      timeout: 120_000,
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      userDataDir: path.join(root, 'chromium-profile'),
    });
    page = await browser.newPage();
    // A loaded machine serves Jupyter's pages slowly; puppeteer's default is 30 s.
    page.setDefaultTimeout(120_000);
    await page.setViewport({ width: 1280, height: 1000 });
    await work(page, base, token);
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(root, 'failure.png'), fullPage: true }).catch(() => undefined);
    throw new Error(`${(e as Error).message}\n(page and server log kept in ${root})\n${log().slice(-3000)}`, { cause: e });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  fs.rmSync(root, { recursive: true, force: true });
}

/** What a user would see in the open notebook: prompts, errors, figures. */
interface NotebookState {
  counts: (number | string | null)[];
  errors: string[];
  figures: number;
  drawn: number;
  undrawn: string[];
  kernelId: string | null;
  kernelEvents: string[];
}

function state(page: Page): Promise<NotebookState> {
  return page.evaluate((figureClass) => {
    const nb = window.Jupyter.notebook;
    const cells = nb.get_cells().filter((c: any) => c.cell_type === 'code');
    const errors: string[] = [];
    for (const c of cells) {
      for (const o of c.output_area.outputs) {
        if (o.output_type === 'error') errors.push(`${o.ename}: ${o.evalue}`);
        if (o.output_type === 'stream' && o.name === 'stderr') errors.push(`stderr: ${o.text.slice(0, 500)}`);
      }
    }
    const figures: any[] = [...document.querySelectorAll(`.${figureClass}`)];
    const undrawn = figures.filter((f) => !f.querySelector('.main-svg'));
    return {
      counts: cells.map((c: any) => c.input_prompt_number ?? null),
      errors,
      figures: figures.length,
      drawn: figures.length - undrawn.length,
      undrawn: undrawn.map((f) => f.textContent ?? ''),
      kernelId: nb.kernel?.id ?? null,
      kernelEvents: window.kernelEvents ?? [],
    };
  }, FIGURE_CLASS);
}

async function openNotebook(page: Page, base: string, token: string, name: string): Promise<void> {
  await page.goto(`${base}/notebooks/${name}?token=${token}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.Jupyter?.notebook?._fully_loaded && window.Jupyter.notebook.kernel?.is_connected(), {
    timeout: 120_000,
    polling: 500,
  });
  await page.evaluate(() => {
    const w = window as any;
    w.kernelEvents = [];
    const events = 'kernel_restarting.Kernel kernel_autorestarting.Kernel kernel_dead.Kernel kernel_dead.Session kernel_killed.Session kernel_disconnected.Kernel';
    w.Jupyter.notebook.events.on(events, (e: { type: string; namespace: string }) => w.kernelEvents.push(`${e.type}.${e.namespace}`));
  });
}

/** Clicks a menu item as a user does: the menu, then the item. */
async function menu(page: Page, top: string, item: string): Promise<void> {
  await page.click(top);
  await page.waitForSelector(item, { visible: true });
  await page.click(item);
}

/**
 * Waits until no cell is queued or running, then until `figures` figures are shown and drawn:
 * a cell counts as done at its reply, and tslab's outputs may still be on the way.
 */
async function settle(page: Page, figures: number): Promise<NotebookState> {
  await sleep(1000);
  await until('the cells to finish', 300_000, () =>
    page.evaluate(() =>
      window.Jupyter.notebook
        .get_cells()
        .every((c: any) => c.cell_type !== 'code' || (!c.element.hasClass('running') && c.input_prompt_number !== '*')),
    ).then((done) => done || false),
  );
  return until('every figure to draw', 30_000, async () => {
    const s = await state(page);
    return s.figures === figures && s.drawn === figures && s;
  }).catch(() => state(page));
}

function assertHealthy(s: NotebookState, figures: number, kernelId: string | null, label: string): void {
  assert.deepEqual(s.kernelEvents, [], `${label}: no kernel restart or death`);
  assert.equal(s.kernelId, kernelId, `${label}: the same kernel`);
  assert.deepEqual(s.errors, [], `${label}: no error output`);
  assert.equal(s.figures, figures, `${label}: every figure shown`);
  assert.deepEqual(s.undrawn, [], `${label}: every figure drawn`);
  assert.ok(s.counts.every((c) => typeof c === 'number'), `${label}: every cell ran: ${JSON.stringify(s.counts)}`);
}

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

    await openNotebook(page, base, token, 'explore-mistakes.ipynb');
    const exploreKernel = (await state(page)).kernelId;
    await menu(page, '#celllink', '#run_all_cells');
    // Accuracy per class, the mistakes gallery, two validation curves.
    assertHealthy(await settle(page, 4), 4, exploreKernel, 'explore-mistakes Run All');
    took('explore-mistakes Run All');
    assert.deepEqual(pageErrors, [], 'no script error in the page');
  });
});

/** A code cell's index, found by a piece of its text. */
function cellIndex(page: Page, piece: string): Promise<number> {
  return page.evaluate((p: string) => window.Jupyter.notebook.get_cells().findIndex((c: any) => c.cell_type === 'code' && c.get_text().includes(p)), piece);
}

/** Edits the hyperparameter cell: each [pattern, replacement] in turn; selects it. */
async function editHyperparameters(page: Page, edits: [string, string][]): Promise<void> {
  await page.evaluate((json: string) => {
    const nb = window.Jupyter.notebook;
    const cell = nb.get_cells().find((c: any) => c.cell_type === 'code' && c.get_text().includes('resolveHyperparameters({'));
    let text = cell.get_text();
    for (const [pattern, value] of JSON.parse(json) as [string, string][]) {
      const next = text.replace(new RegExp(pattern), value);
      if (next === text) throw new Error(`no ${pattern} in the hyperparameter cell`);
      text = next;
    }
    cell.set_text(text);
    nb.select(nb.find_cell_index(cell));
  }, JSON.stringify(edits));
}

/** What cell `index` shows: its prompt, whether it runs, and its outputs as text. */
function cellState(page: Page, index: number): Promise<{ count: number | string | null; running: boolean; text: string; outputs: number }> {
  return page.evaluate((i: number) => {
    const cell = window.Jupyter.notebook.get_cell(i);
    const text = cell.output_area.outputs
      .map((o: any) => (o.text ?? '') + (o.data?.['text/html'] ?? '') + (o.data?.['text/plain'] ?? '') + (o.evalue ?? ''))
      .join('');
    return { count: cell.input_prompt_number ?? null, running: cell.element.hasClass('running'), text, outputs: cell.output_area.outputs.length };
  }, index);
}

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
