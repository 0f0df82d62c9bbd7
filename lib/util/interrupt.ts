/**
 * How a stop request reaches the loops. Kernel -> Interrupt sends the kernel
 * SIGINT; tslab's own handler only rejects the running cell's promise, so
 * whatever the cell started would go on (tslab 1.0.22, main.js). The
 * project's kernel launcher (scripts/kernel/launch.cjs) turns the signal
 * into INTERRUPT_EVENT on `process` first, with an `ack` callback; a loop
 * that is running calls `ack`, aborts its stop signal and ends its cell
 * itself. When no loop acknowledges, the launcher interrupts the cell as
 * tslab would.
 */

/** The event scripts/kernel/launch.cjs emits on `process` for Kernel -> Interrupt (test/training/interrupt.test.ts checks that both name it alike). */
export const INTERRUPT_EVENT = 'fashion-mnist-ts:interrupt';

/** What scripts/kernel/launch.cjs does on SIGINT: asks the running loops to stop. True if one was running (it then ends its cell itself). */
export function interruptLoops(): boolean {
  let running = false;
  (process.emit as (event: string, ack: () => void) => boolean)(INTERRUPT_EVENT, () => (running = true));
  return running;
}

/** The event loop gets a turn at least this often inside the loops, so that a signal reaches its handler. */
const YIELD_EVERY_MS = 50;

/** Why a loop stopped: `by` names who asked ("Kernel -> Interrupt", "Ctrl-C"); the reason of a stop signal. */
export class StopRequest extends Error {
  constructor(readonly by: string) {
    super(`stopped by ${by}`);
    this.name = 'StopRequest';
  }
}

/** Who asked an aborted signal to stop, for messages: a StopRequest's `by`, else the reason's message. */
export function stoppedBy(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof StopRequest) return reason.by;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  return typeof reason === 'string' ? reason : 'an abort signal';
}

/** A stop signal for one run of a loop; `release()` when the loop ends stops its listening. */
export interface StopSignal {
  readonly signal: AbortSignal;
  release(): void;
}

/**
 * A signal that aborts when `signal` does or on the next Kernel -> Interrupt,
 * whichever comes first. While it is not released and `running()` holds, the
 * kernel launcher leaves ending the cell to the loop; one found not running
 * (a loop that failed without releasing it) releases itself.
 */
export function stopSignal(signal?: AbortSignal, running: () => boolean = () => true): StopSignal {
  const controller = new AbortController();
  const onInterrupt = (ack?: () => void) => {
    if (!running()) return release();
    ack?.();
    controller.abort(new StopRequest('Kernel -> Interrupt'));
  };
  const onAbort = () => controller.abort(signal?.reason);
  process.on(INTERRUPT_EVENT, onInterrupt);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  function release(): void {
    process.off(INTERRUPT_EVENT, onInterrupt);
    signal?.removeEventListener('abort', onAbort);
  }
  return { signal: controller.signal, release };
}

let lastYield = performance.now();

/**
 * Where a loop may stop: gives the event loop a turn if it has not had one
 * for YIELD_EVERY_MS (steps on the main thread await only settled promises,
 * and a signal's handler runs only on the event loop), then throws the
 * signal's reason if it has aborted.
 */
export async function checkpoint(signal?: AbortSignal): Promise<void> {
  if (performance.now() - lastYield >= YIELD_EVERY_MS) {
    await new Promise((resolve) => setImmediate(resolve));
    lastYield = performance.now();
  }
  signal?.throwIfAborted();
}
