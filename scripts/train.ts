/**
 * The notebook's pipeline from the terminal, without the pictures.
 * `npm run train -- --help` lists the options (train-options.ts).
 */
import { selectBackend } from '../lib/engine/backend';
import { loadFashionMnist } from '../lib/data/fashion-mnist';
import { formatClassificationReport } from '../lib/report/metrics';
import { checkSaveTarget, saveModel } from '../lib/model/io';
import { modelMetadata } from '../lib/model/metadata';
import { disposeData, prepareData, runExperiment } from '../lib/pipeline';
import { consoleProgress } from '../lib/training/console-progress';
import { TrainingStoppedError, type TrainOptions } from '../lib/training/train';
import { StopRequest } from '../lib/util/interrupt';
import { ctrlC, STOPPED_EXIT } from './ctrl-c';
import { parseTrainArgs, trainHelp } from './train-options';

/** Where the model was saved, for the message of a Ctrl-C that came during the save (which is atomic, so it finishes). */
let savedTo: string | undefined;

async function main(): Promise<void> {
  const command = parseTrainArgs(process.argv.slice(2));
  if (command.help) {
    process.stdout.write(trainHelp());
    return;
  }
  const { hyperparameters: hp, save } = command;
  // Before the run, not after it: a bad --save would otherwise lose the trained model.
  if (save !== undefined) await checkSaveTarget(save);
  // With --json, stdout carries only the result line; progress goes to stderr.
  const log = command.json ? (s: string) => console.error(s) : (s: string) => console.log(s);

  // Before any tensor exists, so the data is created on the backend that trains on it.
  await selectBackend();
  const data = prepareData(await loadFashionMnist(), hp);
  // From here on Ctrl-C stops the run within a step (and ends its worker threads); before, Node's
  // default ends the process at once, which leaves nothing half-written (downloads are atomic too).
  const stopped = ctrlC();
  const progress: TrainOptions = {
    callbacks: consoleProgress(log),
    signal: stopped,
  };
  const run = await runExperiment(hp, data, progress);
  stopped.throwIfAborted();
  log(`backend: ${run.backend.name} (${run.backend.reason})`);
  log(`test loss ${run.test.loss.toFixed(4)}, test accuracy ${run.test.accuracy.toFixed(4)}`);
  log(formatClassificationReport(run.test.report));
  if (save !== undefined) {
    const facts = { hyperparameters: hp, history: run.history, testAccuracy: run.test.accuracy, backend: run.backend.name, classNames: run.test.classNames };
    await saveModel(run.model, save, modelMetadata(run.model, facts));
    savedTo = save;
    log(`model saved to ${save}`);
    stopped.throwIfAborted();
  }
  if (command.json) {
    console.log(
      JSON.stringify({
        model: command.model,
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
  if (e instanceof TrainingStoppedError || e instanceof StopRequest) {
    const saved = savedTo === undefined ? 'nothing was saved' : `the model was saved to ${savedTo}`;
    console.error(`train: ${e instanceof TrainingStoppedError ? e.stop : e.message}; ${saved}`);
    process.exit(STOPPED_EXIT);
  }
  console.error(`train: ${e.message}`);
  process.exit(1);
});
