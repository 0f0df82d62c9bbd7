import type { ClassificationReport } from '../report/metrics';
import { tableHtml } from './display';

/** What the table shows of one trained model. */
export interface ModelSummary {
  name: string;
  testAccuracy: number;
  testLoss: number;
  report: ClassificationReport;
  /** Seconds the training took, when known (a saved model without history has none). */
  trainingSeconds?: number;
}

/** Models as columns, their test numbers as rows: accuracy, loss, the F1 of `focusClass`, training time. */
export function modelsTableHtml(models: readonly ModelSummary[], focusClass = 'Shirt'): string {
  const f1 = (m: ModelSummary) => {
    const c = m.report.classes.find((k) => k.name === focusClass);
    if (c === undefined) throw new RangeError(`no class "${focusClass}" in the report of ${m.name}`);
    return c.f1.toFixed(4);
  };
  const time = (m: ModelSummary) => (m.trainingSeconds === undefined ? 'unknown' : `${(m.trainingSeconds / 60).toFixed(1)} min`);
  return tableHtml(
    ['', ...models.map((m) => m.name)],
    [
      ['test accuracy', ...models.map((m) => m.testAccuracy.toFixed(4))],
      ['test loss', ...models.map((m) => m.testLoss.toFixed(4))],
      [`${focusClass} F1`, ...models.map(f1)],
      ['training time', ...models.map(time)],
    ],
  );
}
