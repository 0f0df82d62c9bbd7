import { gunzipSync } from 'zlib';
import { NUM_CLASSES } from './classes';
import { checkLabeledImages, shapeText, type ImageShape, type LabeledImages } from './labeled-images';

/** IDX magic: two zero bytes, element type 0x08 (unsigned byte), number of dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/** Images as stored: `count` images of rows x cols pixels, row-major, 0-255. */
export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  pixels: Uint8Array;
}

export interface IdxLabels {
  count: number;
  /** One byte per image: a class index. */
  labels: Uint8Array;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The IDX bytes of a file's contents: gunzipped when they start with the gzip
 * magic, as they are otherwise. Content decides, not the name, so a raw file
 * works under any name; only a `.gz` name over non-gzip bytes is refused,
 * because that is a file that is not what it says it is.
 */
export function unpackIdx(bytes: Uint8Array, file: string): Uint8Array {
  if (bytes.length === 0) {
    throw new Error(`${file}: the file is empty (0 bytes); expected an IDX file, gzip-compressed or raw`);
  }
  if (isGzip(bytes)) {
    try {
      return gunzipSync(bytes);
    } catch (e) {
      throw new Error(
        `${file}: the gzip data is corrupt or cut short (${(e as Error).message}); expected a complete gzip stream`,
      );
    }
  }
  if (file.endsWith('.gz')) {
    throw new Error(
      `${file}: named .gz but is not gzip: starts with bytes ${hexBytes(bytes, 4)}, expected 1f 8b` +
        ' (if it is an uncompressed IDX file, remove the .gz from its name)',
    );
  }
  return bytes;
}

/** Parses an IDX image file (gzip or raw) of grey images; `size` [rows, cols], when given, is the only size accepted. */
export function parseIdxImages(bytes: Uint8Array, file: string, size?: readonly [number, number]): IdxImages {
  const idx = unpackIdx(bytes, file);
  const header = readHeader(idx, file, IDX_IMAGES_MAGIC, 'images');
  const count = header.getUint32(4);
  const rows = header.getUint32(8);
  const cols = header.getUint32(12);
  if (size !== undefined && (rows !== size[0] || cols !== size[1])) {
    throw new Error(`${file}: the header says images of ${rows}x${cols} pixels, expected ${size[0]}x${size[1]}`);
  }
  const pixels = body(idx, file, header.byteLength, count, rows * cols, 'images');
  return { count, rows, cols, pixels };
}

/** Parses an IDX label file (gzip or raw) of class indices 0 to `classes` - 1. */
export function parseIdxLabels(bytes: Uint8Array, file: string, classes: number = NUM_CLASSES): IdxLabels {
  const idx = unpackIdx(bytes, file);
  const header = readHeader(idx, file, IDX_LABELS_MAGIC, 'labels');
  const count = header.getUint32(4);
  const labels = body(idx, file, header.byteLength, count, 1, 'labels');
  const bad = labels.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new Error(`${file}: label ${labels[bad]} at index ${bad}, expected a class index 0-${classes - 1} (${classes} class names)`);
  }
  return { count, labels };
}

/**
 * One split from its IDX image and label files' bytes: every label one of
 * `classNames`, one label per image, and, with `shape`, images of that shape.
 */
export function idxSplit(
  images: { path: string; bytes: Uint8Array },
  labels: { path: string; bytes: Uint8Array },
  classNames: readonly string[],
  shape?: ImageShape,
): LabeledImages {
  const parsed = parseIdxImages(images.bytes, images.path, shape && [shape[0], shape[1]]);
  const classes = parseIdxLabels(labels.bytes, labels.path, classNames.length);
  if (parsed.count !== classes.count) {
    throw new Error(`${images.path} holds ${parsed.count} images but ${labels.path} holds ${classes.count} labels; expected one label per image`);
  }
  const set = { images: parsed.pixels, labels: classes.labels, count: parsed.count, shape: [parsed.rows, parsed.cols, 1] as const, classNames };
  return checkLabeledImages(set, `${images.path} (${shapeText(set.shape)} images)`);
}

type IdxKind = 'images' | 'labels';

/** The header: magic, then one big-endian uint32 size per dimension. The magic comes first so a wrong kind of file says so. */
function readHeader(idx: Uint8Array, file: string, magic: number, kind: IdxKind): DataView {
  const headerBytes = 4 + 4 * (magic & 0xff);
  const requireBytes = (n: number) => {
    if (idx.length < n) {
      const found = idx.length === 0 ? 'it is empty after gunzip' : `found only ${idx.length} bytes`;
      throw new Error(
        `${file}: the header is cut short: expected ${headerBytes} header bytes of an IDX ${kind} file, ${found}`,
      );
    }
  };
  requireBytes(4);
  const found = new DataView(idx.buffer, idx.byteOffset, 4).getUint32(0);
  if (found !== magic) {
    const other = KIND_OF_MAGIC.get(found);
    throw new Error(
      `${file}: magic number ${hex32(found)}, expected ${hex32(magic)} (IDX ${kind}: unsigned bytes, ${magic & 0xff} dimension(s))` +
        (other ? `; this looks like an IDX ${other} file` : '; this is not an IDX file of unsigned bytes'),
    );
  }
  requireBytes(headerBytes);
  return new DataView(idx.buffer, idx.byteOffset, headerBytes);
}

/** The `count` records of `recordBytes` after the header, as a view: no copy of 47 MB of pixels. */
function body(
  idx: Uint8Array,
  file: string,
  headerBytes: number,
  count: number,
  recordBytes: number,
  what: IdxKind,
): Uint8Array {
  const expected = count * recordBytes;
  const found = idx.length - headerBytes;
  if (found < expected) {
    throw new Error(
      `${file}: truncated: the header says ${count} ${what} (${expected} bytes), but only ${found} bytes follow the header` +
        ` (${Math.floor(found / recordBytes)} whole ${what})`,
    );
  }
  if (found > expected) {
    throw new Error(
      `${file}: ${found - expected} unexpected bytes after the ${count} ${what} the header announces (${expected} bytes)`,
    );
  }
  return new Uint8Array(idx.buffer, idx.byteOffset + headerBytes, expected);
}

const KIND_OF_MAGIC = new Map<number, IdxKind>([
  [IDX_IMAGES_MAGIC, 'images'],
  [IDX_LABELS_MAGIC, 'labels'],
]);

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

function hexBytes(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
