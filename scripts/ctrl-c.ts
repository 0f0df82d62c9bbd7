import { StopRequest } from '../lib/util/interrupt';

/** Exit status of a run stopped by Ctrl-C, as a shell reports a process that SIGINT ended. */
export const STOPPED_EXIT = 130;

/**
 * A signal that aborts on Ctrl-C, for the command-line scripts to stop their
 * loops with (exit STOPPED_EXIT then). One press can arrive more than once
 * (`npm run` and tsx each pass the terminal's SIGINT on to their child), so
 * the SIGINTs of the first second count as one; a press after that ends the
 * process at once.
 */
export function ctrlC(): AbortSignal {
  const controller = new AbortController();
  let pressed = 0;
  process.on('SIGINT', () => {
    if (pressed === 0) {
      pressed = performance.now();
      controller.abort(new StopRequest('Ctrl-C'));
    } else if (performance.now() - pressed > 1000) {
      process.exit(STOPPED_EXIT);
    }
  });
  return controller.signal;
}
