/**
 * Notebook cells are rerun all day, and tfjs frees tensors only when told.
 * `keepLatest` holds one value per name for the kernel's life and disposes
 * the one it replaces, so rerunning a cell frees what its last run made.
 */
const latest = new Map<string, () => void>();

export function keepLatest<T>(name: string, value: T, dispose: (value: T) => void): T {
  latest.get(name)?.();
  latest.set(name, () => dispose(value));
  return value;
}

