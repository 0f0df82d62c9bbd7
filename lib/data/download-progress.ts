import { textBar } from '../util/progress-bar';

/** How a download shows its progress: one redrawn bar on a terminal, whole lines elsewhere. */
interface EventBase {
  /** Name of the file being downloaded. */
  file: string;
  url: string;
  /** 1 for the first try. */
  attempt: number;
}

export type DownloadEvent =
  /** Bytes arrived; the first event of an attempt has receivedBytes 0. */
  | (EventBase & { phase: 'progress'; receivedBytes: number; totalBytes: number })
  /** The attempt failed and another follows after `delayMs`. */
  | (EventBase & { phase: 'retry'; error: string; delayMs: number })
  /** Verified and in place. */
  | (EventBase & { phase: 'done'; receivedBytes: number });

/** Where progress goes: a terminal gets one updating line, anything else whole lines. */
export interface ProgressSink {
  tty: boolean;
  write(text: string): void;
}

/**
 * The default progress display. On a terminal: one bar on stderr, redrawn in
 * place. Elsewhere (tslab notebooks, CI logs): a line on stdout at every 10%,
 * which a notebook shows as plain output rather than as a red stderr block.
 */
export function progressReporter(
  sink: ProgressSink = process.stderr.isTTY
    ? { tty: true, write: (text) => process.stderr.write(text) }
    : { tty: false, write: (text) => process.stdout.write(text) },
): (event: DownloadEvent) => void {
  let shown = -1;
  return (event) => {
    if (event.phase === 'retry') {
      const seconds = (event.delayMs / 1000).toFixed(1);
      sink.write(
        `${sink.tty ? '\n' : ''}${event.file}: attempt ${event.attempt} failed: ${event.error}; retrying in ${seconds} s\n`,
      );
      return;
    }
    if (event.phase === 'done') {
      sink.write(
        sink.tty
          ? `\r${bar(event.file, event.receivedBytes, event.receivedBytes)}\n`
          : `${event.file}: done, ${amount(event.receivedBytes, null)}\n`,
      );
      return;
    }
    const { file, url, receivedBytes, totalBytes } = event;
    if (receivedBytes === 0) {
      shown = -1;
      sink.write(`Downloading ${file} from ${url}\n`);
    }
    // Steps of 1% (terminal) or 10% (lines).
    const step = Math.floor((receivedBytes / totalBytes) * (sink.tty ? 100 : 10));
    if (step === shown) return;
    shown = step;
    if (sink.tty) {
      sink.write(`\r${bar(file, receivedBytes, totalBytes)}`);
    } else if (receivedBytes > 0) {
      sink.write(`${file}: ${Math.floor((receivedBytes / totalBytes) * 100)}% ${amount(receivedBytes, totalBytes)}\n`);
    }
  };
}

function bar(file: string, receivedBytes: number, totalBytes: number): string {
  const percent = Math.floor((receivedBytes / totalBytes) * 100);
  return `${file} ${textBar(receivedBytes / totalBytes)} ${percent}% ${amount(receivedBytes, totalBytes)}`;
}

/** "1.2/26.4 MB", or "12.3 kB" alone: in the unit of the total, so small files do not read 0.0 MB. */
function amount(receivedBytes: number, totalBytes: number | null): string {
  const [unit, scale] = (totalBytes ?? receivedBytes) >= 1e6 ? ['MB', 1e6] : ['kB', 1e3];
  const format = (bytes: number) => (bytes / scale).toFixed(1);
  return `${format(receivedBytes)}${totalBytes === null ? '' : `/${format(totalBytes)}`} ${unit}`;
}
