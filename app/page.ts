/**
 * The web page's script, inlined with everything it needs into one index.html
 * by lib/notebook/web-app.ts: loads the model from the page itself, prepares
 * each chosen, dropped or drawn image as the data set's images are
 * (lib/data/prepare-image.ts), and lists its top classes in #predictions.
 * One file, because Jupyter serves a notebook folder's HTML in a sandbox
 * (`/files/`, a unique origin) where the page could fetch nothing else.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { prepareImage, type RgbaImage } from '../lib/data/prepare-image';
// Registers the dropout layer of the zoo's models with tfjs, so their model.json loads.
import '../lib/model/seeded-dropout';

/** What the build puts in the page's #app-data: the saved model, its metadata, tfjs's wasm files, samples. */
interface AppData {
  model: string;
  classNames: string[];
  inputShape: number[];
  testAccuracy: number;
  /** One image per class, as `data:` URLs. */
  samples: { name: string; url: string }[];
  modelJson: { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  /** weights.bin, base64. */
  weights: string;
  /** tfjs-backend-wasm's files by name, base64. */
  wasm: Record<string, string>;
}

const bytes = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/** Photos larger than this (on their longer side) are shrunk first: the model sees 28 pixels anyway. */
const MAX_SIDE = 1024;
const TOP = 3;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string) => (byId('status').textContent = text);

/** The first backend that starts here: WebGL (the GPU), else wasm, else plain JavaScript. */
async function startBackend(wasm: AppData['wasm']): Promise<string> {
  const urls: Record<string, string> = Object.fromEntries(
    Object.entries(wasm).map(([file, base64]) => [file, URL.createObjectURL(new Blob([bytes(base64)], { type: 'application/wasm' }))]),
  );
  // tfjs asks for all three builds; the threaded one runs only in a cross-origin isolated page, which this is not.
  urls['tfjs-backend-wasm-threaded-simd.wasm'] ??= urls['tfjs-backend-wasm-simd.wasm'];
  setWasmPaths(urls);
  for (const name of ['webgl', 'wasm', 'cpu']) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // Not in this browser: the next one.
    }
  }
  throw new Error('no TensorFlow.js backend starts in this browser');
}

function pixelsOf(source: CanvasImageSource, width: number, height: number): RgbaImage {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext('2d')!;
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

function showPrepared(pixels: Uint8Array, size: number): void {
  const canvas = byId<HTMLCanvasElement>('prepared');
  canvas.width = size;
  canvas.height = size;
  const image = new ImageData(size, size);
  pixels.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
  canvas.getContext('2d')!.putImageData(image, 0, 0);
}

function showPredictions(names: string[], probabilities: Float32Array, source: string): void {
  const list = byId<HTMLOListElement>('predictions');
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b] - probabilities[a]).slice(0, TOP);
  list.replaceChildren(
    ...order.map((k) => {
      const item = document.createElement('li');
      item.dataset.class = names[k];
      item.dataset.probability = String(probabilities[k]);
      const name = document.createElement('span');
      name.textContent = names[k];
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${(100 * probabilities[k]).toFixed(1)}%`;
      const value = document.createElement('span');
      value.textContent = probabilities[k].toFixed(2);
      item.append(name, bar, value);
      return item;
    }),
  );
  list.dataset.source = source;
}

async function main(): Promise<void> {
  const config = JSON.parse(byId('app-data').textContent!) as AppData;
  const backend = await startBackend(config.wasm);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: config.modelJson.modelTopology,
      weightSpecs: config.modelJson.weightsManifest.flatMap((group) => group.weights),
      weightData: bytes(config.weights).buffer,
    }),
  );
  const [size] = config.inputShape;
  // One prediction before the first image, so that it does not wait for the backend's first compilations.
  tf.tidy(() => model.predict(tf.zeros([1, size, size, 1])) as tf.Tensor).dispose();

  const classify = async (image: RgbaImage, source: string) => {
    const started = performance.now();
    const pixels = prepareImage(image, size);
    showPrepared(pixels, size);
    const probabilities = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(pixels, (v) => v / 255), [1, size, size, 1]);
      return model.predict(x) as tf.Tensor;
    });
    const values = (await probabilities.data()) as Float32Array;
    probabilities.dispose();
    showPredictions(config.classNames, values, source);
    status(`${source}: classified in ${Math.round(performance.now() - started)} ms on ${backend}`);
  };

  const original = byId<HTMLImageElement>('original');
  const showOriginal = (src: string) => {
    // The last image's object URL holds its bytes until it is revoked.
    if (original.src.startsWith('blob:')) URL.revokeObjectURL(original.src);
    original.src = src;
  };
  const classifyFile = async (file: Blob, name: string) => {
    const bitmap = await createImageBitmap(file);
    try {
      showOriginal(URL.createObjectURL(file));
      await classify(pixelsOf(bitmap, bitmap.width, bitmap.height), name);
    } finally {
      bitmap.close();
    }
  };

  const input = byId<HTMLInputElement>('file');
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) classifyFile(file, file.name).catch((e) => status(`${file.name}: ${e.message}`));
  });
  const drop = byId('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    if (file) classifyFile(file, file.name).catch((err) => status(`${file.name}: ${err.message}`));
  });
  byId('samples').replaceChildren(
    ...config.samples.map((sample) => {
      const link = document.createElement('a');
      link.href = sample.url;
      link.textContent = `${sample.name} `;
      link.addEventListener('click', (e) => {
        e.preventDefault();
        fetch(sample.url)
          .then((response) => response.blob())
          .then((blob) => classifyFile(blob, `${sample.name}.png`))
          .catch((err: Error) => status(`${sample.name}: ${err.message}`));
      });
      return link;
    }),
  );

  const sketch = byId<HTMLCanvasElement>('sketch');
  const pen = sketch.getContext('2d')!;
  const clear = () => {
    pen.fillStyle = '#000';
    pen.fillRect(0, 0, sketch.width, sketch.height);
  };
  clear();
  let drawing = false;
  sketch.addEventListener('pointerdown', (e) => {
    drawing = true;
    pen.beginPath();
    pen.moveTo(e.offsetX, e.offsetY);
  });
  sketch.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    pen.strokeStyle = '#fff';
    pen.lineWidth = 14;
    pen.lineCap = 'round';
    pen.lineTo(e.offsetX, e.offsetY);
    pen.stroke();
  });
  sketch.addEventListener('pointerup', () => (drawing = false));
  byId('clear').addEventListener('click', clear);
  byId('classify-sketch').addEventListener('click', () => {
    showOriginal(sketch.toDataURL());
    classify(pen.getImageData(0, 0, sketch.width, sketch.height), 'drawing').catch((e) => status(`drawing: ${e.message}`));
  });

  document.body.dataset.backend = backend;
  status(`ready: model ${config.model} (test accuracy ${config.testAccuracy.toFixed(4)}) on ${backend}`);
}

main().catch((e: Error) => status(`the page cannot classify: ${e.message}`));
