/**
 * The trained model as a web page that classifies your photos, offline: one
 * self-contained index.html (the page, TensorFlow.js bundled from
 * node_modules, tfjs's wasm files, the model and sample images, all inline).
 * One file, because Jupyter serves a notebook folder's HTML (`/files/`) in a
 * sandbox of its own origin, from which the page could load nothing else;
 * it also opens from disk and from any static host.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { build } from 'esbuild';
import { shapeText, type LabeledImages } from '../data/labeled-images';
import { loadModelMetadata } from '../model/io';
import { writeAtomically } from '../util/atomic-file';
import { encodePng } from '../util/png';
import { escapeHtml, JUPYTER_BASE_URL_JS, scriptJson } from './display';

/** The checkout: lib/ resolved through the notebooks/lib link that tslab loads it from. */
const ROOT = path.join(fs.realpathSync(path.join(__dirname, '..')), '..');
const PAGE = path.join(ROOT, 'app');
const WASM_DIR = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
/** The wasm builds a page can use: without cross-origin isolation a browser has no threads for the third. */
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

/** JavaScript safe inside a `<script>` element (no `</script` or `<!--` in it). */
const scriptText = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/**
 * Builds the page for the model saved in `modelDir` as `outDir/index.html`
 * (written whole or not at all), with one sample image per class from
 * `samples` when given. The model must take square grey images (the page
 * prepares photos as such) and have been saved with its metadata. Returns
 * the page's path.
 */
export async function buildWebApp(modelDir: string, outDir: string, samples?: LabeledImages): Promise<string> {
  const metadata = await loadModelMetadata(modelDir);
  if (metadata === null) {
    throw new Error(`${modelDir} has no metadata.json: save the model with saveModel(model, dir, modelMetadata(model, ...)) so the page knows its classes`);
  }
  const [height, width, channels] = metadata.inputShape;
  if (height !== width || channels !== 1) {
    throw new RangeError(`the page classifies square grey images; the model in ${modelDir} takes ${shapeText(metadata.inputShape)}`);
  }
  const bundle = await build({
    entryPoints: [path.join(PAGE, 'page.ts')],
    write: false,
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    // tfjs-backend-wasm's loader names Node's modules on a path the browser never takes.
    external: ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto'],
    logLevel: 'silent',
  });
  const data = {
    model: metadata.model,
    classNames: metadata.classNames,
    inputShape: metadata.inputShape,
    testAccuracy: metadata.testAccuracy,
    samples: samples === undefined ? [] : sampleImages(samples, metadata.classNames),
    modelJson: JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')),
    weights: fs.readFileSync(path.join(modelDir, 'weights.bin')).toString('base64'),
    wasm: Object.fromEntries(WASM_FILES.map((file) => [file, fs.readFileSync(path.join(WASM_DIR, file)).toString('base64')])),
  };
  const page = fs
    .readFileSync(path.join(PAGE, 'index.html'), 'utf8')
    .replace(
      '<!-- app-data and app.js go here -->',
      () => `<script id="app-data" type="application/json">${scriptJson(data)}</script>\n<script>${scriptText(bundle.outputFiles[0].text)}</script>`,
    );
  const file = path.join(path.resolve(outDir), 'index.html');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeAtomically(file, (out) => out.writeFile(page));
  return file;
}

/** The first image of each class in `set`, as PNG `data:` URLs. */
function sampleImages(set: LabeledImages, classNames: readonly string[]): { name: string; url: string }[] {
  const [height, width, channels] = set.shape;
  const pixels = height * width * channels;
  return classNames.flatMap((name, label) => {
    const row = set.labels.indexOf(label);
    if (row < 0) return [];
    const png = encodePng(set.images.subarray(row * pixels, (row + 1) * pixels), width, height, channels as 1 | 3);
    return [{ name, url: `data:image/png;base64,${png.toString('base64')}` }];
  });
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.png': 'image/png' };

/**
 * Serves the folder of `page` (the path buildWebApp returned, or its folder)
 * on 127.0.0.1:`port` (0: any free port) and resolves with its address once
 * it listens; `close()` stops it.
 */
export function serveWebApp(page: string, port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const root = page.endsWith('.html') ? path.dirname(path.resolve(page)) : path.resolve(page);
  const server = http.createServer((req, res) => {
    let wanted: string;
    try {
      wanted = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = path.join(root, wanted.endsWith('/') ? `${wanted}index.html` : wanted);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot serve the page on 127.0.0.1:${port}: ${e.message}`)));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${address.port}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/**
 * A link to the page built into `dir` (relative to the notebook's folder), as
 * Jupyter serves it (`files/...` under the server's base URL, which the page
 * tells the link), with what to do where no Jupyter server serves files.
 */
export function webAppLinkHtml(dir: string): string {
  const target = `files/${dir.split(path.sep).map(encodeURIComponent).join('/')}/index.html`;
  const id = `web-app-${randomBytes(4).toString('hex')}`;
  return (
    `<p><a id="${id}" href="/${target}" target="_blank">Open the web page</a> ` +
    `(one file, ${escapeHtml(dir)}/index.html, which Jupyter serves and which also opens from disk; <code>npm run app</code> serves it outside Jupyter)</p>` +
    `<script>(function () { var a = document.getElementById('${id}'); var base = ${JUPYTER_BASE_URL_JS};` +
    `if (base) a.href = base.replace(/\\/?$/, '/') + ${scriptJson(target)}; })();</script>`
  );
}
