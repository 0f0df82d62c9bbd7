import * as fs from 'node:fs';

/** The errno code (ENOENT, EACCES, ...) of a Node.js file-system or network error, if it has one. */
export function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * What is wrong with `path` when stat-ing it failed with `statError` because
 * it is a broken symbolic link, in words that follow the path ("is a symbolic
 * link to x, which does not exist"); null when the error has another cause.
 */
export function brokenLinkProblem(path: string, statError: unknown): string | null {
  const code = errorCode(statError);
  if (code === 'ELOOP') return 'is, or is under, a symbolic link that loops';
  if (code !== 'ENOENT') return null;
  try {
    return fs.lstatSync(path).isSymbolicLink() ? `is a symbolic link to ${fs.readlinkSync(path)}, which does not exist` : null;
  } catch {
    return null;
  }
}
