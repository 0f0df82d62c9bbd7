import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

const root = path.join(__dirname, '..', '..');

test('npm install leaves package-lock.json as committed', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockfile-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const file of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(root, file), path.join(dir, file));
  // Rewrites the lockfile as `npm install` would, from the lockfile and npm's cache, without installing.
  const npm = spawnSync(
    'npm',
    ['install', '--package-lock-only', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: dir, encoding: 'utf8' },
  );
  assert.equal(npm.status, 0, npm.stderr);
  assert.equal(
    fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'),
    fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'),
    'npm rewrites package-lock.json: run npm install and commit the lockfile it writes',
  );
});
