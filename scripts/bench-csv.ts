/**
 * readImageCsv against pandas on Kaggle's form of the training split (60,000
 * rows, 133 MB, written from the shipped IDX files), each in a process of its
 * own so that its peak memory is its own: the time to a frame and to its
 * pixel array (fromDataFrame; pandas' to_numpy), and the peak RSS.
 * npm run bench:csv [-- --json]; pandas' side needs /usr/bin/python3 with pandas.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadFashionMnist } from '../lib/data/fashion-mnist';
import { writeImageCsv } from '../lib/data/csv';

const PYTHON = '/usr/bin/python3';

const NODE_READER = `
const { readImageCsv } = require('./lib/data/csv');
const { fromDataFrame } = require('./lib/data/frames');
(async () => {
  const started = performance.now();
  const df = await readImageCsv(process.argv[1]);
  const frameSeconds = (performance.now() - started) / 1000;
  const images = fromDataFrame(df);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ rows: images.count, frameSeconds, seconds, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
})();`;

const PANDAS_READER = `
import json, resource, sys, time
import pandas
started = time.perf_counter()
df = pandas.read_csv(sys.argv[1])
frame_seconds = time.perf_counter() - started
pixels = df.drop(columns=['label']).to_numpy()
seconds = time.perf_counter() - started
print(json.dumps({'rows': len(pixels), 'frameSeconds': frame_seconds, 'seconds': seconds, 'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))`;

interface Reading {
  rows: number;
  frameSeconds: number;
  seconds: number;
  peakRssMB: number;
}

function run(command: string, args: string[]): Reading {
  const result = spawnSync(command, args, { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed (exit ${result.status}): ${result.stderr.trim().slice(-1000)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-csv-'));
  try {
    const file = path.join(dir, 'fashion-mnist_train.csv');
    await writeImageCsv((await loadFashionMnist({ download: false })).train, file);
    const node = run(process.execPath, ['--import', 'tsx', '-e', NODE_READER, file]);
    const pandas = spawnSync(PYTHON, ['-c', 'import pandas']).status === 0 ? run(PYTHON, ['-c', PANDAS_READER, file]) : null;
    const result = { megabytes: Math.round(fs.statSync(file).size / 1e6), readImageCsv: node, pandas, secondsOverPandas: pandas && node.seconds / pandas.seconds };
    if (process.argv.includes('--json')) return console.log(JSON.stringify(result));
    const row = (name: string, r: Reading) => `${name.padEnd(30)} ${r.frameSeconds.toFixed(2).padStart(6)} s ${r.seconds.toFixed(2).padStart(7)} s ${Math.round(r.peakRssMB).toString().padStart(8)} MB`;
    console.log(`${result.megabytes} MB, ${node.rows} rows       to a frame   to pixels   peak RSS`);
    console.log(row('readImageCsv + fromDataFrame', node));
    if (pandas) console.log(row('pandas read_csv + to_numpy', pandas));
    else console.log('pandas: not installed for /usr/bin/python3 (apt-get install python3-pandas)');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench-csv: ${e.message}`);
  process.exit(1);
});
