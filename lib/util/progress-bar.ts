/** A bar of `width` characters, `fraction` of it filled: the one progress bar of downloads and training. */
export function textBar(fraction: number, width = 30): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}
