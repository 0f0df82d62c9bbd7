import * as dfd from 'danfojs-node';
import { CLASS_NAMES, PIXELS } from './classes';
import type { LabeledImages } from './fashion-mnist';

/** Column names of a split's table: `Label`, then the pixels `0`..`783`. */
export const FRAME_COLUMNS: readonly string[] = ['Label', ...Array.from({ length: PIXELS }, (_, i) => String(i))];
const FRAME_DTYPES = FRAME_COLUMNS.map(() => 'int32');

/**
 * One row per image, as the original notebook's pandas table. danfo is slow
 * at 60,000 x 785 (it infers dtypes by scanning and keeps a transposed copy),
 * so the dtypes are given and low-memory mode skips the copy: the frame is
 * for looking at; the tensors come straight from the typed arrays.
 */
export function toDataFrame(split: LabeledImages): dfd.DataFrame {
  const rows: number[][] = new Array(split.count);
  for (let i = 0; i < split.count; i++) {
    const row = new Array<number>(PIXELS + 1);
    row[0] = split.labels[i];
    const offset = i * PIXELS;
    for (let p = 0; p < PIXELS; p++) row[p + 1] = split.images[offset + p];
    rows[i] = row;
  }
  return new dfd.DataFrame(rows, {
    columns: [...FRAME_COLUMNS],
    dtypes: FRAME_DTYPES,
    config: { lowMemoryMode: true },
  });
}

export interface ClassCount {
  label: number;
  name: string;
  images: number;
}

/** Images per class, counted by danfo from the frame's `Label` column. */
export function classCounts(df: dfd.DataFrame): ClassCount[] {
  const counts = df.column('Label').valueCounts();
  // danfo returns the counted values as string index labels.
  return counts.index
    .map((value, i) => ({ label: Number(value), name: CLASS_NAMES[Number(value)], images: Number(counts.values[i]) }))
    .sort((a, b) => a.label - b.label);
}
