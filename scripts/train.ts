/**
 * The notebook's pipeline from the terminal, without the pictures.
 * npm run train -- [--epochs N] [--batch-size N] [--lr X] [--dropout X] [--filters N]
 *                  [--dense-units N] [--validation-fraction X] [--seed N] [--save DIR] [--json]
 */
import { parseArgs } from 'node:util';
import { selectBackend } from '../lib/engine/backend';
import { loadFashionMnist } from '../lib/data/fashion-mnist';
import { resolveHyperparameters, type Hyperparameters } from '../lib/model/hyperparams';
import { formatClassificationReport } from '../lib/report/metrics';
import { saveModel } from '../lib/model/io';
import { disposeData, prepareData, runExperiment } from '../lib/pipeline';
import { formatEpochLog } from '../lib/training/epoch-log';

const FLAGS: Record<string, keyof Hyperparameters> = {
  epochs: 'epochs',
  'batch-size': 'batchSize',
  lr: 'learningRate',
  dropout: 'dropout',
  filters: 'filters',
  'dense-units': 'denseUnits',
  'validation-fraction': 'validationFraction',
  seed: 'seed',
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
      save: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const overrides: Partial<Hyperparameters> = {};
  for (const [flag, key] of Object.entries(FLAGS)) {
    const raw = (values as Record<string, string | boolean | undefined>)[flag];
    if (typeof raw !== 'string') continue;
    const value = Number(raw);
    if (raw.trim() === '' || Number.isNaN(value)) throw new RangeError(`--${flag} must be a number, got ${JSON.stringify(raw)}`);
    overrides[key] = value;
  }
  const hp = resolveHyperparameters(overrides);
  // With --json, stdout carries only the result line; progress goes to stderr.
  const log = values.json ? (s: string) => console.error(s) : (s: string) => console.log(s);

  // Before any tensor exists, so the data is created on the backend that trains on it.
  await selectBackend();
  const data = prepareData(await loadFashionMnist(), hp);
  const run = await runExperiment(hp, data, {
    onTrainBegin: (engine) => log(`training with ${engine}`),
    onEpochEnd: (e, epochs) => log(formatEpochLog(e, epochs)),
  });
  log(`backend: ${run.backend.name} (${run.backend.reason})`);
  log(`test loss ${run.test.loss.toFixed(4)}, test accuracy ${run.test.accuracy.toFixed(4)}`);
  log(formatClassificationReport(run.test.report));
  if (typeof values.save === 'string') {
    await saveModel(run.model, values.save, { hyperparameters: hp, testAccuracy: run.test.accuracy, backend: run.backend.name });
    log(`model saved to ${values.save}`);
  }
  if (values.json) {
    console.log(
      JSON.stringify({
        hyperparameters: hp,
        backend: run.backend.name,
        testAccuracy: run.test.accuracy,
        testLoss: run.test.loss,
        epochSeconds: run.history.map((h) => h.seconds),
        history: run.history,
        report: run.test.report,
        confusionMatrix: run.test.confusionMatrix,
      }),
    );
  }
  run.model.dispose();
  disposeData(data);
}

main().catch((e: Error) => {
  console.error(`train: ${e.message}`);
  process.exit(1);
});
