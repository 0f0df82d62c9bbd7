import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { FIGURE_CLASS } from '../../lib/notebook/display';
import { findJupyterPython, ROOT } from '../../scripts/jupyter';
import { CHROMIUM, chromiumMissing } from './chromium';

/** The notebook server and a real browser on it, as a user has them: for the live notebook tests. */

// The page's globals, in the functions puppeteer runs there (tsconfig has no DOM types).
declare const window: any;
declare const document: any;

/** Images of each split the notebooks load (FASHION_MNIST_IMAGES): enough for every class, quick to train. */
export const IMAGES = 3000;

export function missing(): string | false {
  const why = chromiumMissing() || (findJupyterPython() === null ? 'Jupyter is not installed (apt-get install jupyter-notebook)' : false);
  if (why && process.env.CI === 'true') throw new Error(`CI needs ${why}`);
  return why;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => false as const);
    if (value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** `npm start`, as README says, on a scratch folder, a free loopback port, a token, and Jupyter folders of its own. */
export async function startServer(root: string, env: NodeJS.ProcessEnv): Promise<{ server: ChildProcess; base: string; token: string; log: () => string }> {
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

export async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.pid === undefined) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  process.kill(-server.pid, 'SIGTERM');
  if ((await Promise.race([exited, sleep(20_000).then(() => 'late')])) === 'late') process.kill(-server.pid, 'SIGKILL');
}

/**
 * `npm start` on `root` with `env`, and a page of the system's chromium to work it in. On a failure
 * the page's screenshot and the server's log stay in `root`; else `root` is removed.
 */
export async function inBrowser(root: string, env: NodeJS.ProcessEnv, work: (page: Page, base: string, token: string) => Promise<void>): Promise<void> {
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
export interface NotebookState {
  counts: (number | string | null)[];
  errors: string[];
  figures: number;
  drawn: number;
  undrawn: string[];
  kernelId: string | null;
  kernelEvents: string[];
}

export function state(page: Page): Promise<NotebookState> {
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

export async function openNotebook(page: Page, base: string, token: string, name: string): Promise<void> {
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
export async function menu(page: Page, top: string, item: string): Promise<void> {
  await page.click(top);
  await page.waitForSelector(item, { visible: true });
  await page.click(item);
}

/**
 * Waits until no cell is queued or running, then until `figures` figures are shown and drawn:
 * a cell counts as done at its reply, and tslab's outputs may still be on the way.
 */
export async function settle(page: Page, figures: number): Promise<NotebookState> {
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

export function assertHealthy(s: NotebookState, figures: number, kernelId: string | null, label: string): void {
  assert.deepEqual(s.kernelEvents, [], `${label}: no kernel restart or death`);
  assert.equal(s.kernelId, kernelId, `${label}: the same kernel`);
  assert.deepEqual(s.errors, [], `${label}: no error output`);
  assert.equal(s.figures, figures, `${label}: every figure shown`);
  assert.deepEqual(s.undrawn, [], `${label}: every figure drawn`);
  assert.ok(s.counts.every((c) => typeof c === 'number'), `${label}: every cell ran: ${JSON.stringify(s.counts)}`);
}

/** A code cell's index, found by a piece of its text. */
export function cellIndex(page: Page, piece: string): Promise<number> {
  return page.evaluate((p: string) => window.Jupyter.notebook.get_cells().findIndex((c: any) => c.cell_type === 'code' && c.get_text().includes(p)), piece);
}

/** Edits the hyperparameter cell: each [pattern, replacement] in turn; selects it. */
export async function editHyperparameters(page: Page, edits: [string, string][]): Promise<void> {
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
export function cellState(page: Page, index: number): Promise<{ count: number | string | null; running: boolean; text: string; outputs: number }> {
  return page.evaluate((i: number) => {
    const cell = window.Jupyter.notebook.get_cell(i);
    const text = cell.output_area.outputs
      .map((o: any) => (o.text ?? '') + (o.data?.['text/html'] ?? '') + (o.data?.['text/plain'] ?? '') + (o.evalue ?? ''))
      .join('');
    return { count: cell.input_prompt_number ?? null, running: cell.element.hasClass('running'), text, outputs: cell.output_area.outputs.length };
  }, index);
}
