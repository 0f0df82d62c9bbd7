/**
 * The helper library behind the notebooks, in the order data flows:
 * files -> typed arrays -> DataFrames (to look at) and tensors (to train on)
 * -> model -> training -> evaluation -> report and pictures.
 */
export { selectBackend, type BackendInfo, type BackendName } from './backend';
export { CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES, PIXELS } from './classes';
export { loadFashionMnist, type FashionMnist, type LoadOptions, type Split } from './data-files';
export { classCounts, FRAME_COLUMNS, toDataFrame, type ClassCount } from './frames';
export { splitValidation, takeRows, toTensors, disposeTensors, type TensorSplit } from './tensors';
export { DEFAULT_HYPERPARAMETERS, epochsFromEnvironment, resolveHyperparameters, type Hyperparameters } from './hyperparams';
export { buildModel, SeededDropout } from './model';
export { localGradientEngine, type GradientEngine } from './gradients';
export { train, formatEpochLog, TrainingDivergedError, type EpochLog, type TrainOptions } from './training';
export { notebookProgress } from './progress';
export { argMaxRows, evaluate, predictProbabilities, type Evaluation } from './evaluation';
export { classificationReport, confusedPairs, confusionMatrix, formatClassificationReport, type ClassificationReport, type ConfusedPair } from './metrics';
export { classIndex, findMistakes, mistakeTitle, type Mistake, type MistakeFilter } from './mistakes';
export { disposeData, prepareData, runExperiment, testModel, type Experiment, type PreparedData, type TestResults } from './pipeline';
export { compareSettings, type SettingRun } from './compare';
export {
  confusionMatrixFigure,
  curvesFigure,
  historyFigure,
  imageGalleryFigure,
  imageGridFigure,
  perClassAccuracyFigure,
  type EpochMetric,
  type Figure,
  type Images,
  type NamedHistory,
} from './plots';
export { figureHtml, frameHtml, reportHtml, showFigure, showHtml, tableHtml } from './display';
export { loadModel, loadModelMetadata, saveModel } from './model-io';
export { keepLatest } from './notebook-state';
export { Rng } from './rng';
