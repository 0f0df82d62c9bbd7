import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from '../../lib/data/idx';

/** An IDX image file's bytes: the header for `count` images of rows x cols, then `pixels`; `magic` for the wrong-kind tests. */
export function idxImageBytes(count: number, rows: number, cols: number, pixels: Uint8Array, magic = IDX_IMAGES_MAGIC): Buffer {
  const header = Buffer.alloc(16);
  [magic, count, rows, cols].forEach((v, i) => header.writeUInt32BE(v, 4 * i));
  return Buffer.concat([header, pixels]);
}

/** An IDX label file's bytes: the header, then one byte per label. */
export function idxLabelBytes(labels: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(8);
  [IDX_LABELS_MAGIC, labels.length].forEach((v, i) => header.writeUInt32BE(v, 4 * i));
  return Buffer.concat([header, Buffer.from(Array.from(labels))]);
}

/** `n` pixel values that follow byte offsets in a file (after its 16-byte header), `(offset * step) & 0xff`. */
export function patternPixels(n: number, step: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, k) => ((k + 16) * step) & 0xff);
}
