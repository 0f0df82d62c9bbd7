import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressReporter } from '../../lib/data/download-progress';

describe('progressReporter', () => {
  const file = 'train-labels-idx1-ubyte.gz';
  const url = `http://mirror.test/${file}`;
  const run = (tty: boolean): string[] => {
    const written: string[] = [];
    const report = progressReporter({ tty, write: (text) => written.push(text) });
    for (let received = 0; received <= 2000; received += 50) {
      report({ phase: 'progress', file, url, attempt: 1, receivedBytes: received, totalBytes: 2000 });
    }
    report({ phase: 'retry', file, url, attempt: 1, error: 'HTTP 503', delayMs: 2000 });
    report({ phase: 'done', file, url, attempt: 2, receivedBytes: 2000 });
    return written;
  };

  it('prints whole lines every 10% outside a terminal', () => {
    const lines = run(false);
    assert.ok(lines.every((line) => line.endsWith('\n') && !line.includes('\r')));
    assert.equal(lines[0], `Downloading ${file} from ${url}\n`);
    assert.deepEqual(
      lines.slice(1, 11).map((line) => line.match(/: (\d+)% /)?.[1]),
      ['10', '20', '30', '40', '50', '60', '70', '80', '90', '100'],
    );
    assert.deepEqual(lines.slice(11), [
      `${file}: attempt 1 failed: HTTP 503; retrying in 2.0 s\n`,
      `${file}: done, 2.0 kB\n`,
    ]);
  });

  it('redraws one line on a terminal', () => {
    const writes = run(true);
    const bars = writes.filter((text) => text.startsWith('\r'));
    assert.equal(bars.length, 40 + 1 + 1);
    assert.ok(bars.slice(0, -1).every((text) => !text.includes('\n')));
    assert.match(bars[20], / █{15}░{15} 50% /);
    assert.match(writes.at(-1) ?? '', /^\rtrain-labels-idx1-ubyte\.gz █{30} 100% .*\n$/);
  });
});
