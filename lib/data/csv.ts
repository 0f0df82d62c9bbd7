import { writeAtomically } from '../util/atomic-file';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type * as dfd from 'danfojs-node';
import { framed } from './frames';
import { pixelsPerImage, type LabeledImages } from './labeled-images';

export interface ImageCsvOptions {
  /** The label's column, by its header name; defaults to `label` (Kaggle's). Every other column is a pixel value, in file order. */
  labelColumn?: string;
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const ZERO = 0x30;

/**
 * A CSV of labelled images (a header line, then one image a line: its label
 * and its pixel values 0-255, as Kaggle's `fashion-mnist_train.csv`:
 * `label,pixel1,...,pixel784`) as a danfo DataFrame in the project's layout:
 * `Label`, then pixel columns `0`, `1`, ... (fromDataFrame reads it). Parsed
 * here, byte by byte: danfo's readCSV took 38 s and 4 GB for Kaggle's 60,000
 * rows when it was measured (npm run bench:csv times this one against pandas). A line of the wrong length or a value that is not an integer 0-255
 * fails with its line number.
 */
export async function readImageCsv(file: string, options: ImageCsvOptions = {}): Promise<dfd.DataFrame> {
  const labelColumn = options.labelColumn ?? 'label';
  const bytes = await fsp.readFile(file);
  let end = bytes.indexOf(NEWLINE);
  if (end < 0) end = bytes.length;
  const header = bytes.toString('utf8', 0, end).replace(/\r$/, '').split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1'));
  const labelAt = header.indexOf(labelColumn);
  if (labelAt < 0) {
    throw new RangeError(`${file}: no "${labelColumn}" column in the header line (it starts ${header.slice(0, 4).join(',')}); name the label's column with labelColumn`);
  }
  const values = header.length;
  const pixels = values - 1;
  const rows: number[][] = [];
  let line = 1;
  for (let i = end + 1; i < bytes.length; ) {
    line++;
    if (bytes[i] === NEWLINE || (bytes[i] === RETURN && bytes[i + 1] === NEWLINE)) {
      i = bytes.indexOf(NEWLINE, i) + 1;
      continue;
    }
    // A line's values in file order; the label moves to the front below.
    const row = new Array<number>(values);
    let k = 0;
    let value = 0;
    let digits = 0;
    for (;; i++) {
      const b = i < bytes.length ? bytes[i] : NEWLINE;
      if (b === COMMA || b === NEWLINE) {
        if (digits === 0 || value > 255) throw badValue(file, line, k, header, bytes, i, digits);
        if (k < values) row[k] = value;
        k++;
        value = 0;
        digits = 0;
        if (b === NEWLINE) break;
      } else if (b >= ZERO && b <= ZERO + 9) {
        value = value * 10 + (b - ZERO);
        digits++;
      } else if (!(b === RETURN && (i + 1 === bytes.length || bytes[i + 1] === NEWLINE))) {
        // A carriage return only ends a line (before its newline): elsewhere it is no part of a number.
        throw badValue(file, line, k, header, bytes, i, digits);
      }
    }
    i++;
    if (k !== values) throw new RangeError(`${file}:${line}: ${k} values, expected ${values} (the header's columns: a label and ${pixels} pixel values)`);
    if (labelAt !== 0) row.unshift(...row.splice(labelAt, 1));
    rows.push(row);
  }
  if (rows.length === 0) throw new RangeError(`${file}: no image after the header line; expected one line per image`);
  return framed(rows, pixels);
}

/** The error for the value that ends at byte `i` of line `line`, column `k`. */
function badValue(file: string, line: number, k: number, header: string[], bytes: Buffer, i: number, digits: number): RangeError {
  let start = i - digits;
  while (start > 0 && bytes[start - 1] !== COMMA && bytes[start - 1] !== NEWLINE) start--;
  let stop = i;
  while (stop < bytes.length && bytes[stop] !== COMMA && bytes[stop] !== NEWLINE) stop++;
  const text = bytes.toString('utf8', start, stop).replace(/\r$/, '');
  return new RangeError(`${file}:${line}: column ${header[k] ?? k + 1} is ${JSON.stringify(text)}; expected an integer 0-255`);
}

/** Rows written per write: a 60,000-image file is 133 MB, too much for one string. */
const ROWS_PER_WRITE = 1000;

/**
 * Writes `set` as Kaggle's CSV (`label,pixel1,...`, one image a line), the
 * form readImageCsv reads. Written beside `file` and renamed onto it, so a
 * failed write leaves no half-written file.
 */
export async function writeImageCsv(set: LabeledImages, file: string): Promise<void> {
  const pixels = pixelsPerImage(set.shape);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeAtomically(file, async (out) => {
    await out.write(`label,${Array.from({ length: pixels }, (_, i) => `pixel${i + 1}`).join(',')}\n`);
    for (let start = 0; start < set.count; start += ROWS_PER_WRITE) {
      const lines: string[] = [];
      for (let r = start; r < Math.min(set.count, start + ROWS_PER_WRITE); r++) {
        lines.push(`${set.labels[r]},${set.images.subarray(r * pixels, (r + 1) * pixels).join(',')}\n`);
      }
      await out.write(lines.join(''));
    }
  });
}
