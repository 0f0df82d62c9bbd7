/** The errno code (ENOENT, EACCES, ...) of a Node.js file-system or network error, if it has one. */
export function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}
