/**
 * README pictures: the figures of the executed notebooks in out/ (run
 * `npm run report` first), each drawn alone by headless Chromium into a PNG
 * under docs/. Offline: plotly is inlined into every page.
 * Usage: tsx scripts/screenshots.ts   (CHROMIUM=/path/to/chromium to override)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { figureTitle, plotlyLibraryHtml, scriptJson } from '../lib/notebook/display';
import type { Figure } from '../lib/notebook/plots';
import { ROOT } from './jupyter';

/** A picture to take: which executed notebook, a pattern of the figure's title, the PNG's name. */
export interface Shot {
  html: string;
  title: RegExp;
  png: string;
}

export const SHOTS: readonly Shot[] = [
  { html: 'fashion-mnist-cnn.html', title: /^First \d+ training images/, png: 'image-grid.png' },
  { html: 'fashion-mnist-cnn.html', title: /^Training and validation loss/, png: 'loss.png' },
  { html: 'fashion-mnist-cnn.html', title: /^Training and validation accuracy/, png: 'accuracy.png' },
  { html: 'fashion-mnist-cnn.html', title: /^Confusion matrix/, png: 'confusion-matrix.png' },
  { html: 'explore-mistakes.html', title: /^Accuracy per class/, png: 'per-class-accuracy.png' },
  { html: 'explore-mistakes.html', title: /most confident of \d+ mistakes/, png: 'mistakes.png' },
  { html: 'explore-mistakes.html', title: /^Validation accuracy per run/, png: 'learning-rates.png' },
  { html: 'better-model.html', title: /^F1 per class/, png: 'better-f1.png' },
];

/** Room chromium's window needs around a figure whose layout gives no size. */
const DEFAULT_SIZE = { width: 700, height: 450 };

/**
 * The figures drawn by lib/notebook/display.ts `figureHtml` in a page or notebook
 * output, in order. Reads its `var fig = {...};function draw()` shape, which
 * test/scripts/screenshots.test.ts checks against figureHtml itself.
 */
export function figuresInHtml(html: string): Figure[] {
  return Array.from(html.matchAll(/var fig = (\{.*?\});function draw\(\)/gs), (m) => JSON.parse(m[1]) as Figure);
}

export function figureSize(figure: Figure): { width: number; height: number } {
  const { width, height } = figure.layout;
  return {
    width: typeof width === 'number' ? width : DEFAULT_SIZE.width,
    height: typeof height === 'number' ? height : DEFAULT_SIZE.height,
  };
}

/** A page holding only `figure`, drawn static (no mode bar) at its layout's size. */
export function standalonePage(figure: Figure, plotlyHtml: string): string {
  const spec = scriptJson(figure);
  return (
    '<!DOCTYPE html><html><head><meta charset="utf-8">' +
    plotlyHtml +
    '</head><body style="margin:0;background:white"><div id="figure"></div><script>' +
    `var fig = ${spec};` +
    "Plotly.newPlot('figure', fig.data, fig.layout, {staticPlot: true});" +
    '</script></body></html>'
  );
}

function screenshot(chromium: string, page: string, png: string, size: { width: number; height: number }): void {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-chromium-'));
  try {
    const result = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        // Lets plotly finish drawing before the picture is taken.
        '--virtual-time-budget=10000',
        `--window-size=${size.width},${size.height}`,
        `--screenshot=${png}`,
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (result.status !== 0 || !fs.existsSync(png)) {
      throw new Error(`${chromium} failed to screenshot ${page} (exit ${result.status}): ${result.error ?? result.stderr}`);
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

function main(): void {
  const outDir = path.join(ROOT, 'out');
  const docsDir = path.join(ROOT, 'docs');
  const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(chromium)) {
    throw new Error(`no Chromium at ${chromium}; install it (Debian: apt-get install chromium) or set CHROMIUM=/path/to/chromium`);
  }
  const pages = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-pages-'));
  const plotlyHtml = plotlyLibraryHtml();
  const figures = new Map<string, Figure[]>();
  fs.mkdirSync(docsDir, { recursive: true });
  try {
    for (const shot of SHOTS) {
      const source = path.join(outDir, shot.html);
      if (!figures.has(source)) {
        if (!fs.existsSync(source)) throw new Error(`no ${path.relative(ROOT, source)}; run \`npm run report\` first to execute the notebooks`);
        figures.set(source, figuresInHtml(fs.readFileSync(source, 'utf8')));
      }
      const found = figures.get(source) ?? [];
      const figure = found.find((f) => shot.title.test(figureTitle(f)));
      if (figure === undefined) {
        throw new Error(
          `${path.relative(ROOT, source)} has no figure whose title matches ${shot.title}; ` +
            `its figures are: ${found.map((f) => JSON.stringify(figureTitle(f))).join(', ') || 'none'}`,
        );
      }
      const page = path.join(pages, shot.png.replace(/\.png$/, '.html'));
      fs.writeFileSync(page, standalonePage(figure, plotlyHtml));
      const png = path.join(docsDir, shot.png);
      screenshot(chromium, page, png, figureSize(figure));
      console.log(`${path.relative(ROOT, png)}  <- "${figureTitle(figure)}" in ${path.relative(ROOT, source)}`);
    }
  } finally {
    fs.rmSync(pages, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
