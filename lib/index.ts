/**
 * The helper library behind the notebooks. Its folders are the stages data
 * flows through, and each imports only from the stages before it:
 * util (what every stage uses: stop signals, seeded random streams, atomic
 * files) -> data (files -> typed arrays -> DataFrames and tensors) -> model
 * -> engine (backend, kernels, gradient engines) -> training -> report ->
 * notebook (figures and live output).
 * lib/pipeline.ts strings them together.
 */
export { CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES, PIXELS } from './data/classes';
export { loadFashionMnist, type FashionMnist, type LoadOptions } from './data/fashion-mnist';
export { checkLabeledImages, FASHION_MNIST_SHAPE, pixelsPerImage, type ImageShape, type LabeledImages } from './data/labeled-images';
export { prepareImage, type RgbaImage } from './data/prepare-image';
export { loadIdxDataset, type IdxDatasetOptions } from './data/idx-dataset';
export { readImageCsv, writeImageCsv, type ImageCsvOptions } from './data/csv';
export { classCounts, FRAME_COLUMNS, fromDataFrame, LABEL_COLUMN, toDataFrame, type ClassCount, type FrameImagesOptions } from './data/frames';
export { gatherRows, splitValidation, takeRows } from './data/split';
export { disposeTensors, toTensors, type LabeledTensors } from './data/tensors';
export { Rng } from './util/rng';
export { encodePng } from './util/png';
export {
  BETTER_HYPERPARAMETERS,
  betterHyperparameters,
  DEFAULT_HYPERPARAMETERS,
  epochsFromEnvironment,
  HYPERPARAMETER_RANGES,
  HyperparameterError,
  resolveHyperparameters,
  type Hyperparameters,
} from './model/hyperparams';
export { buildModel } from './model/cnn';
export { buildZooModel, checkZooModelFits, zooEntry, ZOO_MODELS, type ModelName, type ZooEntry, type ZooOptions } from './model/zoo';
export { checkModelMatchesData, type DataShapeOptions } from './model/data-match';
export { checkModelFits, estimateTrainingMemory, modelFootprint, ModelTooLargeError, type MemoryEstimate, type TrainingLayout } from './model/memory';
export { buildBetterModel } from './model/better';
export { SeededDropout } from './model/seeded-dropout';
export { evaluate, predict, predictProbabilities, type Evaluation, type Predictions } from './model/predict';
export { hasSavedModel, loadModel, loadModelMetadata, savedModelMetadata, saveModel } from './model/io';
export { checkModelMetadata, modelMetadata, type ModelMetadata, type RunFacts } from './model/metadata';
export { selectBackend, type BackendInfo, type BackendName } from './engine/backend';
export { type GradientEngine } from './engine/gradient-engine';
export { localGradientEngine } from './engine/local-engine';
export { train, TrainingDivergedError, trainingHistory, TrainingStoppedError, type TrainOptions } from './training/train';
export { consoleProgress, ConsoleProgress, ProgressDisplay } from './training/console-progress';
// Registers the callback that lets Kernel -> Interrupt stop tfjs's own model.fit.
import './training/fit-interrupt';
export { StopRequest } from './util/interrupt';
export { oneCycle, zooSchedule, type LearningRateSchedule, type OneCycleOptions } from './training/schedule';
export { betterTrainOptions } from './training/better';
export { formatEpochLog, historyRows, type EpochLog, type NamedHistory } from './training/epoch-log';
export { compareSettings, type SettingRun } from './training/compare';
export { testModel, type TestResults } from './report/test-results';
export { classificationReport, confusedPairs, confusionMatrix, formatClassificationReport, type ClassificationReport, type ConfusedPair } from './report/metrics';
export { argMaxRows } from './report/predictions';
export { classifyImages, type ClassProbability, type ImagesToClassify } from './report/classify';
export { f1Changes, mistakeChanges, type F1Change, type MistakeChanges } from './report/model-comparison';
export { classIndex, findMistakes, mistakeTitle, type Mistake, type MistakeFilter } from './report/mistakes';
export {
  confusionMatrixFigure,
  curvesFigure,
  f1ComparisonFigure,
  historyFigure,
  imageGalleryFigure,
  imageGridFigure,
  perClassAccuracyFigure,
  predictionFigure,
  type EpochMetric,
  type Figure,
  type Images,
} from './notebook/plots';
export { figureBundle, figureHtml, figureText, frameHtml, PLOTLY_MIME, reportHtml, showFigure, showHtml, tableHtml, type MimeBundle } from './notebook/display';
export { notebookProgress } from './notebook/progress';
export { modelsTableHtml, type ModelSummary } from './notebook/model-table';
export { buildWebApp, serveWebApp, webAppLinkHtml } from './notebook/web-app';
export { keepLatest } from './notebook/state';
export { disposeData, loadOrTrain, prepareData, runExperiment, type Experiment, type LoadedOrTrained, type PreparedData } from './pipeline';
