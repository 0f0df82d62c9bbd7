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
import { scratchNotebooks } from './notebook-run';

// The page's globals, in the functions puppeteer runs there (tsconfig has no DOM types).
declare const window: any;
declare const document: any;

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PASSES = 10;
/** Images of each split the notebooks load (FASHION_MNIST_IMAGES): enough for every class, quick to train. */
const IMAGES = 3000;
const MAX_SAVED_BYTES = 2 * 1024 * 1024;

function missing(): string | false {
  const why = !fs.existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`
    : findJupyterPython() === null
      ? 'Jupyter is not installed (apt-get install jupyter-notebook)'
      : false;
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
  const { server, base, token, log } = await startServer(root, { EPOCHS: '1', FASHION_MNIST_IMAGES: String(IMAGES) });
  let browser: Browser | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];
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
      const s = await state(page as Page);
      return s.figures === 4 && s.drawn === 4 && s;
    }).catch(() => state(page as Page));
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
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(root, 'failure.png'), fullPage: true }).catch(() => undefined);
    throw new Error(`${(e as Error).message}\n(page and server log kept in ${root})\n${log().slice(-3000)}`, { cause: e });
  } finally {
    await browser?.close();
    await stopServer(server);
  }
  fs.rmSync(root, { recursive: true, force: true });
});
