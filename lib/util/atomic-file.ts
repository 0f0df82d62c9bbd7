/**
 * Files that appear whole or not at all: the one way the project writes what a
 * crash must not leave half-written (downloads, CSVs, saved models).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/**
 * Writes `file` through `write`, which fills `temp`: a new file beside it (same
 * file system, so the rename is atomic), then fsynced, closed and renamed onto
 * `file`. When `write` or any step fails, the temporary is removed and `file` is
 * as it was. Returns what `write` returned.
 */
export async function writeAtomically<T>(
  file: string,
  write: (out: fsp.FileHandle) => Promise<T>,
  temp = `${file}.tmp-${randomBytes(6).toString('hex')}`,
): Promise<T> {
  const out = await fsp.open(temp, 'wx');
  let open = true;
  let result: T;
  try {
    result = await write(out);
    // Flushed before the rename, so a crash cannot leave `file` present but empty.
    await out.sync();
    open = false;
    await out.close();
    await fsp.rename(temp, file);
  } catch (e) {
    // Closed before the delete, so no write still in flight can race it.
    if (open) await out.close().catch(() => undefined);
    await fsp.rm(temp, { force: true });
    throw e;
  }
  // After the rename `file` is in place whatever this says: a failure here is not a failed write.
  await syncDirectory(path.dirname(file)).catch(() => undefined);
  return result;
}

/** Writes and fsyncs `data`, so the rename that publishes the file cannot reach disk before its bytes. */
export async function writeDurably(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Persists a directory's entries (new files, renames). Skipped on Windows: it cannot open a directory to fsync. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
