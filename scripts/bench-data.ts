/**
 * Times the data steps of the notebook: load both splits (md5 + gunzip +
 * parse), build both DataFrames, split and build the normalised tensors.
 * npm run bench:data [-- --json]
 */
import { loadFashionMnist } from '../lib/data/fashion-mnist';
import { toDataFrame } from '../lib/data/frames';
import { DEFAULT_HYPERPARAMETERS } from '../lib/model/hyperparams';
import { disposeData, prepareData } from '../lib/pipeline';
import { selectBackend } from '../lib/engine/backend';

async function main(): Promise<void> {
  const backend = await selectBackend();
  const seconds = (since: number) => (performance.now() - since) / 1000;
  let t = performance.now();
  const raw = await loadFashionMnist({ download: false });
  const loadSeconds = seconds(t);
  t = performance.now();
  const frames = [toDataFrame(raw.train), toDataFrame(raw.test)];
  const framesSeconds = seconds(t);
  t = performance.now();
  const data = prepareData(raw, DEFAULT_HYPERPARAMETERS);
  const tensorsSeconds = seconds(t);
  const result = {
    backend: backend.name,
    loadSeconds,
    framesSeconds,
    tensorsSeconds,
    totalSeconds: loadSeconds + framesSeconds + tensorsSeconds,
    frameShapes: frames.map((f) => f.shape),
  };
  disposeData(data);
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`load both splits      ${loadSeconds.toFixed(2)} s`);
    console.log(`build both frames     ${framesSeconds.toFixed(2)} s`);
    console.log(`split + tensors       ${tensorsSeconds.toFixed(2)} s`);
    console.log(`total                 ${result.totalSeconds.toFixed(2)} s`);
  }
}

main().catch((e: Error) => {
  console.error(`bench-data: ${e.message}`);
  process.exit(1);
});
