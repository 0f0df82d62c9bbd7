import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { figureHtml, plotlyLibraryHtml, showFigure } from '../lib/notebook/display';
import type { Figure } from '../lib/notebook/plots';
import { figureSize, figuresInHtml, figureTitle, standalonePage } from '../scripts/screenshots';

const bars: Figure = { data: [{ type: 'bar', x: ['a', 'b'], y: [1, 2], name: '</script> & <b>' }], layout: { title: { text: 'Bars' }, width: 320, height: 240 } };
const line: Figure = { data: [{ type: 'scatter', y: [3, 1] }], layout: { title: 'Line' } };

test('figures are read back from notebook HTML as figureHtml wrote them, plotly bundle and all', () => {
  const outputs: string[] = [];
  showFigure(bars, { html: (s) => outputs.push(s) });
  const page = `<p>text</p>${outputs[0]}<p>more</p>${figureHtml(line)}`;
  assert.deepEqual(figuresInHtml(page), [bars, line]);
  assert.deepEqual(figuresInHtml('<p>no figures</p>'), []);
});

test('figure title and size, with defaults when the layout gives none', () => {
  assert.equal(figureTitle(bars), 'Bars');
  assert.equal(figureTitle(line), 'Line');
  assert.equal(figureTitle({ data: [], layout: {} }), '');
  assert.deepEqual(figureSize(bars), { width: 320, height: 240 });
  assert.deepEqual(figureSize(line), { width: 700, height: 450 });
});

const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';

test('a standalone figure page draws offline in headless Chromium', { skip: !fs.existsSync(chromium) && `no Chromium at ${chromium}` }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-test-'));
  try {
    const page = path.join(dir, 'bars.html');
    fs.writeFileSync(page, standalonePage(bars, plotlyLibraryHtml()));
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${dir}/profile`];
    const result = spawnSync(chromium, [...flags, '--virtual-time-budget=10000', '--dump-dom', `file://${page}`], {
      encoding: 'utf8',
      timeout: 120_000,
      // the dumped page holds the whole plotly bundle
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(result.status, 0, `chromium: ${result.error ?? result.stderr.slice(-2000)}`);
    // plotly's drawing: its SVG root, one bar per value, and the title text
    assert.match(result.stdout, /class="main-svg"/);
    assert.equal(result.stdout.match(/class="point"/g)?.length, 2);
    assert.match(result.stdout, />Bars</);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
