import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..');

function train(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'train.ts'), ...args], { cwd: root, encoding: 'utf8' });
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

test('npm run train refuses a bad flag value before doing any work, naming it', () => {
  const out = train(['--lr', 'fast']);
  assert.equal(out.status, 1);
  assert.match(out.stderr, /train: --lr must be a number, got "fast"/);
  const negative = train(['--epochs=-2']);
  assert.match(negative.stderr, /train: hyperparameter epochs must be a positive integer, got -2/);
});
