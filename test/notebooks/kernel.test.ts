import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../../scripts/jupyter';
import { KERNEL_NAME, writeKernelSpecPath } from '../../scripts/kernel-spec';
import { runInKernel, text } from '../helpers/kernel-run';
import { jupyterMissing, scratchNotebooks } from '../helpers/notebook-run';

const scratch: string[] = [];
after(() => scratch.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** The project's spec, written as `npm run execute` writes it, found through JUPYTER_PATH. */
function specEnv(): NodeJS.ProcessEnv {
  const dir = tempDir('kernel-spec-');
  writeKernelSpecPath(dir);
  return { JUPYTER_PATH: dir };
}

test('the wasm backend loads without leaving a process-wide listener that rethrows', () => {
  const count = "process.listeners('uncaughtException').length + '/' + process.listeners('unhandledRejection').length";
  const probe = (load: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', '-e', `${load}.then(() => console.log(${count}))`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TFJS_BACKEND: 'wasm' } });
  // The control: the wasm backend on its own adds a listener to each event (and they rethrow).
  const bare = probe("require('@tensorflow/tfjs-backend-wasm'); require('@tensorflow/tfjs').setBackend('wasm')");
  assert.equal(bare.stdout.trim(), '1/1', bare.stderr);
  const ours = probe("require('./lib/engine/backend').selectBackend()");
  assert.equal(ours.stdout.trim(), '0/0', ours.stderr);
});

test('stray async errors after the wasm backend is selected leave the kernel alive; a cell error shows in its cell', { skip: jupyterMissing }, () => {
  const cwd = scratchNotebooks('test-kernel-');
  scratch.push(path.dirname(cwd));
  const { cells, alive } = runInKernel(
    cwd,
    [
      { code: "import { selectBackend } from './lib/index';\nconsole.log('backend', (await selectBackend()).name);" },
      { code: "void Promise.reject(new Error('stray rejection'));\nawait new Promise((r) => setTimeout(r, 200));" },
      { code: "setTimeout(() => { throw new Error('stray throw'); }, 0);\nawait new Promise((r) => setTimeout(r, 200));" },
      { code: "throw new Error('thrown in a cell');" },
      { code: "await Promise.reject(new Error('rejected in a cell'));" },
      { code: "console.log('still here', 6 * 7);" },
    ],
    specEnv(),
  );
  assert.equal(alive, true, 'the kernel is alive');
  assert.equal(cells.length, 6, 'every cell ran');
  assert.match(text(cells[0].outputs), /backend wasm/);
  assert.match(text(cells[1].outputs), /stray rejection/, 'the stray rejection is reported in the cell that was running');
  assert.match(text(cells[2].outputs), /stray throw/, 'the stray exception is reported in the cell that was running');
  // tslab reports a cell's error on its stderr, with the reply's status 'error'.
  assert.equal(cells[3].status, 'error');
  assert.match(text(cells[3].outputs), /^Error: thrown in a cell$/m);
  assert.equal(cells[4].status, 'error');
  assert.match(text(cells[4].outputs), /Error: rejected in a cell/);
  assert.equal(cells[5].status, 'ok');
  assert.equal(text(cells[5].outputs), 'still here 42\n');
});

test('the kernel delivers every message while a notebook page sends requests during a cell (tslab does not await its sends)', { skip: jupyterMissing }, () => {
  const cwd = scratchNotebooks('test-kernel-');
  scratch.push(path.dirname(cwd));
  const { cells, alive } = runInKernel(
    cwd,
    [
      {
        code: "import * as tslab from 'tslab';\nfor (let i = 0; i < 3000; i++) tslab.display.html(`<p>${i}</p>`);",
        kernel_info_requests: 300,
      },
      { code: "console.log('done');" },
    ],
    specEnv(),
  );
  assert.equal(alive, true);
  assert.equal(cells[0].status, 'ok');
  assert.equal(cells[0].kernel_info_replies, 300, 'every request answered');
  const shown = cells[0].outputs.filter((o) => o.type === 'display_data').map((o) => o.data?.['text/html']);
  assert.equal(shown.length, 3000, 'every output delivered');
  assert.equal(shown[2999], '<p>2999</p>', 'in order');
  assert.equal(text(cells[1].outputs), 'done\n');
});

/**
 * A checkout as far as the kernel and `npm run setup-kernel` care: its own
 * scripts/, lib/ and notebooks/ (with a module saying which checkout it is),
 * and node_modules (linked, to spare a 700 MB install per copy).
 */
function fakeCheckout(parent: string, name: string): string {
  const dir = path.join(parent, name);
  for (const part of ['scripts', 'lib']) fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'notebooks'));
  fs.writeFileSync(path.join(dir, 'notebooks', 'who.ts'), `export const who = 'checkout ${name}';\n`);
  return dir;
}

function setupKernel(checkout: string, env: NodeJS.ProcessEnv): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(checkout, 'scripts', 'setup-kernel.ts')], {
    cwd: checkout,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout + result.stderr;
}

function whoAnswers(checkout: string, env: NodeJS.ProcessEnv): string {
  const { cells, alive } = runInKernel(path.join(checkout, 'notebooks'), [{ code: "import { who } from './who';\nconsole.log(who);" }], env);
  assert.equal(alive, true);
  return text(cells[0].outputs).trim();
}

test('one registration serves every checkout: a second install repoints nothing, deleting a checkout breaks no other', { skip: jupyterMissing }, () => {
  const parent = tempDir('checkouts-');
  const env = { JUPYTER_DATA_DIR: path.join(parent, 'jupyter-data'), JUPYTER_PATH: '' };
  // The user's own tslab kernel, which the project must leave alone.
  const userTslab = path.join(env.JUPYTER_DATA_DIR, 'kernels', 'tslab', 'kernel.json');
  fs.mkdirSync(path.dirname(userTslab), { recursive: true });
  fs.writeFileSync(userTslab, '{"argv": ["tslab", "kernel", "--config-path", "{connection_file}"], "display_name": "TypeScript", "language": "typescript"}');
  const before = fs.readFileSync(userTslab, 'utf8');

  const a = fakeCheckout(parent, 'a');
  const b = fakeCheckout(parent, 'b');
  assert.match(setupKernel(a, env), /kernel "TypeScript \(Fashion-MNIST\)" \(fashion-mnist-ts\) registered/);
  assert.equal(whoAnswers(a, env), 'checkout a');
  setupKernel(b, env);
  const spec = fs.readFileSync(path.join(env.JUPYTER_DATA_DIR, 'kernels', KERNEL_NAME, 'kernel.json'), 'utf8');
  assert.doesNotMatch(spec, new RegExp(parent), 'the spec names no checkout');
  assert.equal(whoAnswers(a, env), 'checkout a', 'installing b did not repoint a');
  assert.equal(whoAnswers(b, env), 'checkout b');
  fs.rmSync(b, { recursive: true });
  assert.equal(whoAnswers(a, env), 'checkout a', 'deleting b did not break a');

  assert.equal(fs.readFileSync(userTslab, 'utf8'), before, "the user's tslab spec is untouched");
  assert.deepEqual(fs.readdirSync(path.join(env.JUPYTER_DATA_DIR, 'kernels')).sort(), [KERNEL_NAME, 'tslab'], 'no jslab or other spec added');
});

test('the kernel started outside any checkout says where it looked and what to do', () => {
  const dir = tempDir('no-checkout-');
  const spec = tempDir('kernel-spec-');
  writeKernelSpecPath(spec);
  const launcher = path.join(spec, 'kernels', KERNEL_NAME, 'launch.cjs');
  const result = spawnSync(process.execPath, [launcher, path.join(dir, 'connection.json')], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, new RegExp(`no node_modules/tslab in ${dir} or any folder above it: open the notebook from inside a checkout`));
});
