/**
 * The web page of a trained model, in a real browser (headless chromium): it
 * loads offline, and its top class for each test image, given as a 28x28 PNG
 * or as a photo of it (dark on white, 280x280), is Node's for the same model.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { firstImages } from '../../lib/data/fashion-mnist';
import { selectBackend } from '../../lib/engine/backend';
import { resolveHyperparameters } from '../../lib/model/hyperparams';
import { saveModel } from '../../lib/model/io';
import { modelMetadata } from '../../lib/model/metadata';
import { buildWebApp, serveWebApp } from '../../lib/notebook/web-app';
import { disposeData, prepareData, runExperiment } from '../../lib/pipeline';
import { encodePng } from '../../lib/util/png';
import { CHROMIUM, chromiumMissing } from '../helpers/chromium';
import { realData } from '../helpers/data-fixture';

// The page's globals, in the functions puppeteer runs there (tsconfig has no DOM types).
declare const document: any;

const IMAGES = 100;

/** `image` (28x28 grey) as a photo of it: dark on white, each pixel a `scale` x `scale` block. */
function photo(image: Uint8Array, scale: number): Uint8Array {
  const side = 28 * scale;
  return Uint8Array.from({ length: side * side }, (_, i) => 255 - image[Math.floor(Math.floor(i / side) / scale) * 28 + Math.floor((i % side) / scale)]);
}

test('the page server answers a bad path with 400 or 404 and stays up; it serves nothing outside its folder', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'web-app-serve-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<p>page</p>');
  const site = await serveWebApp(path.join(dir, 'index.html'));
  try {
    const status = async (p: string) => (await fetch(new URL(p, site.url))).status;
    assert.equal(await status('/%E0%A4%A'), 400);
    assert.equal(await status('/nothing.html'), 404);
    assert.equal(await status('/..%2F..%2Fetc%2Fpasswd'), 404);
    assert.equal(await status('/'), 200);
    assert.equal(await (await fetch(site.url)).text(), '<p>page</p>');
  } finally {
    await site.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the web page loads offline and gives Node's top class for test images, and for photos of them", { skip: chromiumMissing(), timeout: 10 * 60_000 }, async (t) => {
  await selectBackend();
  const raw = await realData();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'web-app-test-'));
  // A model worth agreeing with: the seed CNN, 2 epochs on 12,000 training images (about 0.8 accuracy).
  const hp = resolveHyperparameters({ epochs: 2, batchSize: 256 });
  const data = prepareData({ train: firstImages(raw.train, 12_000), test: raw.test }, hp);
  const run = await runExperiment(hp, data, { verbose: 0 });
  const modelDir = path.join(work, 'model');
  const facts = { hyperparameters: hp, history: run.history, testAccuracy: run.test.accuracy, backend: run.backend.name, classNames: run.test.classNames };
  await saveModel(run.model, modelDir, modelMetadata(run.model, facts));
  const expected = Array.from(run.test.predicted).slice(0, IMAGES) as number[];
  run.model.dispose();
  disposeData(data);

  const site = await serveWebApp(await buildWebApp(modelDir, path.join(work, 'site'), raw.test));
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  try {
    const page = await browser.newPage();
    const outside: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      const url = request.url();
      if (url.startsWith(site.url) || url.startsWith('blob:') || url.startsWith('data:')) return void request.continue();
      outside.push(url);
      void request.abort();
    });
    const opened = Date.now();
    await page.goto(site.url);
    await page.waitForFunction(() => document.body.dataset.backend, { timeout: 60_000 });
    const readyMs = Date.now() - opened;
    const backend = await page.evaluate(() => document.body.dataset.backend);
    const input = await page.$('input[type=file]');
    const classify = async (file: string) => {
      const started = Date.now();
      await input!.uploadFile(file);
      await page.waitForFunction((name: string) => document.getElementById('predictions').dataset.source === name, { timeout: 30_000 }, path.basename(file));
      const top = await page.evaluate(() => Array.from(document.querySelectorAll('#predictions li'), (li: any) => [li.dataset.class, Number(li.dataset.probability)]));
      return { top: top as [string, number][], ms: Date.now() - started };
    };
    const answers: Record<string, { agree: number; ms: number[] }> = { 'the 28x28 images': { agree: 0, ms: [] }, 'photos of them': { agree: 0, ms: [] } };
    for (let i = 0; i < IMAGES; i++) {
      const image = raw.test.images.subarray(i * 784, (i + 1) * 784);
      const files: [string, string, Buffer][] = [
        ['the 28x28 images', `test-${i}.png`, encodePng(image, 28, 28)],
        ['photos of them', `photo-${i}.png`, encodePng(photo(image, 10), 280, 280)],
      ];
      for (const [kind, name, png] of files) {
        const file = path.join(work, name);
        fs.writeFileSync(file, png);
        const { top, ms } = await classify(file);
        assert.equal(top.length, 3, `${name}: the top 3 classes`);
        assert.ok(top[0][1] >= top[1][1] && top[1][1] >= top[2][1], `${name}: highest first`);
        if (top[0][0] === raw.test.classNames[expected[i]]) answers[kind].agree++;
        answers[kind].ms.push(ms);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    t.diagnostic(`backend ${backend}; ready ${readyMs} ms after opening; median answer ${median(answers['the 28x28 images'].ms)} ms (upload to predictions)`);
    for (const [kind, { agree }] of Object.entries(answers)) t.diagnostic(`${kind}: ${agree} of ${IMAGES} agree with Node`);
    assert.ok(answers['the 28x28 images'].agree >= 98, `the 28x28 images: ${answers['the 28x28 images'].agree} of ${IMAGES} agree with Node`);
    assert.ok(answers['photos of them'].agree >= 90, `photos of them: ${answers['photos of them'].agree} of ${IMAGES} agree with Node`);
    assert.deepEqual(outside, [], 'no request leaves localhost');
    if (process.env.WEB_APP_SCREENSHOT) await page.screenshot({ path: process.env.WEB_APP_SCREENSHOT, fullPage: true });
  } finally {
    await browser.close();
    await site.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
