import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepLatest } from '../../lib/notebook/state';

test('keepLatest disposes the value a rerun replaces, per name, and nothing else', () => {
  const disposed: string[] = [];
  const drop = (v: string) => disposed.push(v);
  assert.equal(keepLatest('model', 'm1', drop), 'm1');
  keepLatest('data', 'd1', drop);
  assert.deepEqual(disposed, []);
  keepLatest('model', 'm2', drop);
  assert.deepEqual(disposed, ['m1']);
  keepLatest('model', 'm3', drop);
  keepLatest('data', 'd2', drop);
  assert.deepEqual(disposed, ['m1', 'm2', 'd1']);
});
