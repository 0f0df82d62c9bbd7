/**
 * Headless Chromium for the tests that look at what a browser draws: Debian's
 * `/usr/bin/chromium` (or CHROMIUM=...), never a downloaded one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { plotlyLibraryHtml, PLOTLY_MIME, scriptJson } from '../../lib/notebook/display';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why a test that needs Chromium cannot run, or false; under CI a missing Chromium fails instead. */
export function chromiumMissing(): string | false {
  const why = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;
  if (why && process.env.CI === 'true') throw new Error(`CI needs ${why}`);
  return why;
}

/** The DOM of `page` (an HTML string) after headless Chromium ran its scripts, offline. */
export function renderedDom(page: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-test-'));
  try {
    const file = path.join(dir, 'page.html');
    fs.writeFileSync(file, page);
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--user-data-dir=${dir}/profile`];
    const result = spawnSync(CHROMIUM, [...flags, '--virtual-time-budget=10000', '--dump-dom', `file://${file}`], {
      encoding: 'utf8',
      timeout: 120_000,
      // the dumped page holds the whole plotly bundle
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error(`chromium failed (exit ${result.status}): ${result.error ?? result.stderr.slice(-2000)}`);
    return result.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What VS Code's and JupyterLab's renderers get: a figure output's plotly JSON. */
export type PlotlyJson = { data: unknown[]; layout: Record<string, unknown>; config?: Record<string, unknown> };

/**
 * Draws each of `figures` into its own element with plotly.js alone, as a
 * renderer of `application/vnd.plotly.v1+json` does (no loader, no page of
 * Jupyter's), and returns per figure the number of plots drawn (1 when it
 * drew) or the error plotly threw.
 */
export function drawPlotlyJson(figures: PlotlyJson[]): (number | string)[] {
  const specs = scriptJson(figures);
  const page =
    `<!DOCTYPE html><html><head><meta charset="utf-8">${plotlyLibraryHtml()}</head><body><pre id="result"></pre><script>` +
    `var figures = ${specs};` +
    'Promise.all(figures.map(function (f, i) {' +
    "  var div = document.createElement('div'); document.body.appendChild(div);" +
    '  return Plotly.newPlot(div, f.data, f.layout, f.config).then(' +
    "    function () { return div.querySelectorAll('.plot-container.plotly').length; }," +
    "    function (e) { return String(e && e.message || e); });" +
    "})).then(function (r) { document.getElementById('result').textContent = JSON.stringify(r); });" +
    '</script></body></html>';
  const result = /<pre id="result">(.*?)<\/pre>/s.exec(renderedDom(page))?.[1];
  if (!result) throw new Error(`the page drew nothing: ${figures.length} ${PLOTLY_MIME} figures`);
  return JSON.parse(result.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
}
