/**
 * `npm run app -- [--model DIR] [--port N] [--build-only] [--out DIR]`: the
 * saved model as a web page that classifies your photos (lib/notebook/web-app.ts),
 * built as one HTML file and served on localhost until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { CLASS_NAMES } from '../lib/data/classes';
import { loadFashionMnist } from '../lib/data/fashion-mnist';
import { loadModelMetadata } from '../lib/model/io';
import { buildWebApp, serveWebApp } from '../lib/notebook/web-app';

const USAGE = `Usage: npm run app -- [options]

Builds a web page around a saved model (PNG or JPEG in, its top classes out, in the browser,
offline) and serves it on 127.0.0.1.

Options:
  --model DIR    the saved model (model.json, weights.bin, metadata.json); default: models/fashion-cnn
  --out DIR      the folder the page (index.html) is written to; default: out/app
  --port N       the port to serve on; default: 8000 (0: any free port)
  --build-only   write the page and exit: one file that opens from disk, offline, or from any static host
  -h, --help     print this help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/fashion-cnn' },
      out: { type: 'string', default: 'out/app' },
      port: { type: 'string', default: '8000' },
      'build-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${JSON.stringify(values.port)}`);
  const metadata = await loadModelMetadata(values.model);
  // Sample images when the model is Fashion-MNIST's: its test split ships with the project.
  const fashion = metadata !== null && metadata.classNames.join() === CLASS_NAMES.join();
  const page = await buildWebApp(values.model, values.out, fashion ? (await loadFashionMnist()).test : undefined);
  console.log(`built ${page}`);
  if (values['build-only']) return;
  const site = await serveWebApp(page, port);
  console.log(`open ${site.url} (Ctrl-C stops the server)`);
  process.once('SIGINT', () => site.close().then(() => process.exit(0)));
}

main().catch((e: Error) => {
  console.error(`app: ${e.message}`);
  process.exit(1);
});
