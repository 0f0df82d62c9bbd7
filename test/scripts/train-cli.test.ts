import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLASS_NAMES } from '../../lib/data/classes';
import { disposeTensors } from '../../lib/data/tensors';
import { selectBackend } from '../../lib/engine/backend';
import { DEFAULT_HYPERPARAMETERS, resolveHyperparameters } from '../../lib/model/hyperparams';
import { loadModelMetadata } from '../../lib/model/io';
import { loadOrTrain } from '../../lib/pipeline';
import { smallData } from '../helpers/data-fixture';
import { HYPERPARAMETER_FLAGS } from '../../scripts/train-options';

const root = path.join(__dirname, '..', '..');

/** `npm run train -- ...args`, killed after `timeoutMs`. */
function train(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15 * 60_000) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'train.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: timeoutMs,
  });
}

test('npm run train --json: progress on stderr, one JSON line with the promised fields on stdout', () => {
  const out = train(['--epochs', '1', '--batch-size', '2048', '--validation-fraction', '0.9', '--json']);
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout is only the result: ${out.stdout.slice(0, 300)}`);
  const result = JSON.parse(lines[0]);
  for (const key of ['testAccuracy', 'testLoss', 'epochSeconds', 'history', 'report', 'confusionMatrix', 'backend']) assert.ok(key in result, key);
  assert.equal(result.hyperparameters.epochs, 1);
  assert.equal(result.history.length, 1);
  assert.equal(result.confusionMatrix.flat().reduce((a: number, b: number) => a + b, 0), 10_000);
  assert.equal(result.report.classes.length, 10);
  assert.match(out.stderr, /training with .*\nEpoch 1\/1 - /);
});

test('npm run train -- --help lists every option with its default and range, and does nothing else', () => {
  for (const flag of ['--help', '-h']) {
    const out = train(['--epochs', '3', flag]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stderr, '');
    assert.match(out.stdout, /^Usage: npm run train -- \[options\]/);
    const line = (name: string) => out.stdout.split('\n').find((l) => l.trimStart().startsWith(name)) ?? '';
    for (const [name, { key }] of Object.entries(HYPERPARAMETER_FLAGS)) {
      assert.match(line(`--${name} `), new RegExp(`; default ${DEFAULT_HYPERPARAMETERS[key]}( \\(better: [\\d.]+\\))?, (a|an) `), name);
    }
    assert.match(line('--epochs '), /default 25 \(better: 12\), a positive integer$/);
    assert.match(line('--filters '), /default 32 \(better: 16\), a positive integer$/);
    assert.match(line('--lr '), /default 0\.001 \(better: 0\.003\), a finite number > 0$/);
    assert.match(line('--dropout '), /default 0\.2 \(better: 0\.25\), a number in \[0, 1\)$/);
    assert.match(line('--seed '), /default 42, an integer in \[0, 2\^32\)$/);
    assert.match(line('--save DIR'), /default: not saved/);
    assert.match(line('--json'), /default: off/);
    assert.match(line('-h, --help'), /this help/);
  }
});

test('npm run train refuses bad options before doing any work, naming the fix', () => {
  const cases: [string[], RegExp][] = [
    [['--batchsize', '10'], /^train: unknown option --batchsize; did you mean --batch-size\? \(npm run train -- --help lists every option\)$/],
    [['--learningRate=0.01'], /^train: unknown option --learningRate; did you mean --lr\?/],
    [['--epoch', '3'], /^train: unknown option --epoch; did you mean --epochs\?/],
    [['--lr', 'fast'], /^train: --lr must be a number, got "fast"$/],
    [['--lr', 'Infinity'], /^train: --lr: hyperparameter learningRate must be a finite number > 0, got Infinity$/],
    [['--epochs=-2'], /^train: --epochs: hyperparameter epochs must be a positive integer, got -2$/],
    [['--epochs'], /^train: --epochs needs a value \(a positive integer\), got nothing$/],
    [['--epochs', '--json'], /^train: --epochs needs a value \(a positive integer\), got "--json"$/],
    [['--epochs', '1', '--epochs', '2'], /^train: --epochs is given twice; give it once$/],
    [['--json=yes'], /^train: --json takes no value, got --json=yes$/],
    [['--save='], /^train: --save needs a value \(a directory\), got ""$/],
    [['5'], /^train: unexpected argument "5": options are written --name value/],
  ];
  for (const [args, message] of cases) {
    const out = train(args);
    assert.equal(out.status, 1, args.join(' '));
    assert.match(out.stderr.trim(), message, args.join(' '));
    assert.equal(out.stdout, '', args.join(' '));
  }
});

test('a model the CLI saves carries the one metadata shape, and loadOrTrain loads it with its history', async () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'train-cli-')), 'model');
  try {
    const out = train(['--save', dir, '--epochs', '1', '--batch-size', '2048', '--validation-fraction', '0.9']);
    assert.equal(out.status, 0, out.stderr);
    const metadata = await loadModelMetadata(dir);
    assert.ok(metadata !== null);
    assert.deepEqual(Object.keys(metadata).sort(), ['backend', 'classNames', 'history', 'hyperparameters', 'inputShape', 'model', 'testAccuracy']);
    assert.equal(metadata.model, 'seed');
    assert.equal(metadata.history.length, 1);
    assert.deepEqual(metadata.classNames, [...CLASS_NAMES]);
    assert.deepEqual(metadata.inputShape, [28, 28, 1]);
    await selectBackend();
    const data = await smallData(64, 64);
    const run = await loadOrTrain(dir, data, metadata.hyperparameters);
    assert.equal(run.loaded, true);
    assert.deepEqual(run.history, metadata.history);
    run.model.dispose();
    disposeTensors(data.train, data.validation);
  } finally {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

test('loadOrTrain trains the zoo model sized for the data when the folder holds no model', async () => {
  await selectBackend();
  const data = await smallData(256, 64);
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 64 });
  const run = await loadOrTrain(path.join(os.tmpdir(), 'no-model-here'), data, hp, { verbose: 0 });
  assert.equal(run.loaded, false);
  assert.equal(run.metadata, null);
  assert.equal(run.history.length, 2);
  assert.ok(run.history[1].loss < run.history[0].loss, `the loss falls: ${run.history.map((h) => h.loss)}`);
  run.model.dispose();
  disposeTensors(data.train, data.validation);
});

test('npm run train -- --save checks the directory before training', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-cli-'));
  try {
    const notes = path.join(dir, 'notes.txt');
    fs.writeFileSync(notes, 'keep');
    const out = train(['--save', dir, '--epochs', '1']);
    assert.equal(out.status, 1);
    assert.match(out.stderr, new RegExp(`^train: refusing to replace ${dir}: it holds 1 entries but no model\\.json`));
    assert.doesNotMatch(out.stderr, /training with/);
    assert.equal(fs.readFileSync(notes, 'utf8'), 'keep');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run train --model: listed by --help, an unknown name or a bad value refused before loading any data', () => {
  assert.match(train(['--help']).stdout, /\n {2}--model NAME +the model and how it trains: seed, keras-convnet, bn-cnn, mlp, better .*; default: seed\n/);
  assert.match(train(['--model', 'best']).stderr, /^train: --model must be one of seed, keras-convnet, bn-cnn, mlp, better, got "best"$/m);
  assert.match(train(['--model']).stderr, /^train: --model needs a value \(seed, keras-convnet, bn-cnn, mlp, better\), got nothing$/m);
  assert.match(train(['--model', 'better', '--dropout', '1']).stderr, /^train: --dropout: hyperparameter dropout must be a number in \[0, 1\), got 1$/m);
});

test('npm run train refuses --dense-units 100000 before loading any data', () => {
  const out = train(['--dense-units', '100000'], {}, 120_000);
  assert.equal(out.status, 1, out.stderr);
  assert.match(out.stderr, /^train: model "seed" with filters 32 and denseUnits 100000 has 541,900,330 weights .* above the wasm heap's limit of 4\.3 GB/m);
  assert.doesNotMatch(out.stdout + out.stderr, /training with|Epoch 1/);
});

/**
 * `command` in a process group of its own, as a terminal runs it; Ctrl-C (SIGINT to the whole group,
 * as a terminal sends it) once `ready` shows on its output. Resolves with the exit status or signal,
 * the output, and the seconds from Ctrl-C to the exit.
 */
function interruptRun(command: string[], ready: RegExp): Promise<{ status: number | null; signal: string | null; output: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd: root, detached: true, env: { ...process.env, FASHION_MNIST_IMAGES: '6000' } });
    let output = '';
    let pressed = 0;
    const deadline = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`${command.join(' ')} did not end in time:\n${output.slice(-2000)}`));
    }, 5 * 60_000);
    const read = (d: Buffer) => {
      output += d;
      if (pressed === 0 && ready.test(output)) {
        pressed = performance.now();
        process.kill(-child.pid!, 'SIGINT');
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (status, signal) => {
      clearTimeout(deadline);
      resolve({ status, signal, output, seconds: (performance.now() - pressed) / 1000 });
    });
  });
}

/** scripts/NAME.ts run as npm's script runs it, without npm and tsx in between, so that its own exit status shows. */
const script = (name: string, ...args: string[]) => [process.execPath, '--import', 'tsx', path.join(root, 'scripts', `${name}.ts`), ...args];

test('Ctrl-C during npm run train ends it within seconds with status 130, saying where, and saves nothing', async (t) => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'train-stop-'));
  const save = path.join(parent, 'model');
  try {
    const run = await interruptRun(script('train', '--epochs', '50', '--batch-size', '512', '--save', save), /Epoch 1\/50/);
    t.diagnostic(`ended ${run.seconds.toFixed(2)} s after Ctrl-C`);
    assert.equal(run.status, 130, run.output.slice(-2000));
    assert.match(run.output, /^train: stopped by Ctrl-C during epoch [23] of 50 \([12] finished\); nothing was saved$/m);
    assert.doesNotMatch(run.output, /\n\s+at /, 'no stack trace');
    assert.ok(run.seconds < 5, `ended ${run.seconds} s after Ctrl-C`);
    assert.deepEqual(fs.readdirSync(parent), [], 'no model folder, whole or half-written');
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('Ctrl-C during npm run bench ends it within seconds with status 130', async (t) => {
  const run = await interruptRun(script('bench', '--steps', '1000', '--batch-size', '512'), /trainable parameters/);
  t.diagnostic(`ended ${run.seconds.toFixed(2)} s after Ctrl-C`);
  assert.equal(run.status, 130, run.output.slice(-2000));
  assert.match(run.output, /^bench: stopped by Ctrl-C$/m);
  assert.ok(run.seconds < 5, `ended ${run.seconds} s after Ctrl-C`);
});

test('Ctrl-C in a terminal running npm run train: npm, tsx and the script each get the SIGINT, and the run still ends as stopped, with status 130', async () => {
  const run = await interruptRun(['npm', 'run', '-s', 'train', '--', '--epochs', '50', '--batch-size', '512'], /Epoch 1\/50/);
  // npm ends by the signal itself (a shell reports that as 130 too) or passes the script's 130 on.
  assert.ok(run.status === 130 || run.signal === 'SIGINT', `status ${run.status}, signal ${run.signal}: ${run.output.slice(-1000)}`);
  assert.match(run.output, /^train: stopped by Ctrl-C during epoch [23] of 50 \([12] finished\); nothing was saved$/m);
});
