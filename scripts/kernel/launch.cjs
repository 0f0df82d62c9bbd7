'use strict';
/**
 * The kernel of the "TypeScript (Fashion-MNIST)" spec. Jupyter starts a
 * kernel in the notebook's folder, so the tslab that runs is the one of the
 * checkout holding the notebook (the nearest node_modules/tslab above it):
 * one user-wide spec serves every checkout, and none points at another.
 * Usage (from kernel.json): node launch.cjs {connection_file}
 */
const fs = require('fs');
const path = require('path');

function findTslab(start) {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const main = path.join(dir, 'node_modules', 'tslab', 'dist', 'main.js');
    if (fs.existsSync(main)) return main;
    if (path.dirname(dir) === dir) return null;
  }
}

/**
 * Jupyter's messages must all arrive, in order, or a cell loses outputs and
 * the page its status. tslab 1.0.22 sends without awaiting, and zeromq 6
 * rejects a send while the socket's previous one is in flight ("Socket is
 * busy writing", EBUSY, zeromq/zeromq.js#427): that message is lost, and its
 * rejection goes unhandled (fatal while the wasm backend's listeners rethrew,
 * see lib/engine/backend.ts). So each socket's sends are queued. And a
 * publisher drops what exceeds its send high-water mark (1000 messages by
 * default) while the page is slow to read: the outputs socket gets no limit.
 */
function reliableSockets(zmq) {
  const send = zmq.Socket.prototype.send;
  const queues = new WeakMap();
  function queuedSend(message) {
    const next = (queues.get(this) || Promise.resolve()).then(() => send.call(this, message));
    const settled = next.catch((e) => console.error('a message to Jupyter was not sent:', e));
    queues.set(this, settled);
    return settled;
  }
  // The native Socket.prototype.send is read-only; tslab's sockets are these subclasses.
  for (const type of [zmq.Publisher, zmq.Router, zmq.Reply]) {
    Object.defineProperty(type.prototype, 'send', { value: queuedSend, writable: true, configurable: true });
  }
  const Publisher = zmq.Publisher;
  zmq.Publisher = class extends Publisher {
    constructor(options) {
      super({ sendHighWaterMark: 0, ...options });
    }
  };
}

/**
 * Kernel -> Interrupt sends the kernel SIGINT, and tslab's handler only
 * rejects the running cell's promise: whatever the cell started (training on
 * worker threads) runs on. So the signal goes first to the project's loops,
 * as INTERRUPT_EVENT on `process` (lib/util/interrupt.ts): a loop that is
 * running acknowledges it, stops within a step and ends its cell itself, with
 * a one-line message. tslab's interrupt follows at once when no loop
 * acknowledged (as before), or after GRACE_MS if that cell is still running.
 */
const INTERRUPT_EVENT = 'fashion-mnist-ts:interrupt';
const GRACE_MS = 2000;

function routeInterrupts(tslabDir, start) {
  const executorModule = require(path.join(tslabDir, 'executor.js'));
  const createExecutor = executorModule.createExecutor;
  let executor = null;
  let started = 0;
  // A depth, not a flag: tslab queues cells, but an execute within an execute must not end the outer one.
  let running = 0;
  // main.js calls createExecutor through the module's exports, so the executor it makes is this one.
  executorModule.createExecutor = (...args) => {
    executor = createExecutor(...args);
    const execute = executor.execute;
    executor.execute = async (code) => {
      started++;
      running++;
      try {
        return await execute(code);
      } finally {
        running--;
      }
    };
    return executor;
  };
  const before = new Set(process.listeners('SIGINT'));
  start();
  for (const listener of process.listeners('SIGINT')) if (!before.has(listener)) process.removeListener('SIGINT', listener);
  process.on('SIGINT', () => {
    let acknowledged = false;
    process.emit(INTERRUPT_EVENT, () => (acknowledged = true));
    if (!acknowledged) return executor?.interrupt();
    const cell = started;
    setTimeout(() => running > 0 && started === cell && executor?.interrupt(), GRACE_MS).unref();
  });
}

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: launch.cjs CONNECTION_FILE (Jupyter passes it; see kernel.json)');
  process.exit(2);
}
const main = findTslab(process.cwd());
if (main === null) {
  console.error(
    `no node_modules/tslab in ${process.cwd()} or any folder above it: open the notebook from inside a checkout ` +
      'of the project after `npm install` (the kernel runs the tslab of the checkout that holds the notebook)',
  );
  process.exit(1);
}
reliableSockets(require(require.resolve('zeromq', { paths: [path.dirname(main)] })));
routeInterrupts(path.dirname(main), () => require(main).startKernel({ configPath, enableFindLocal: false, jsKernel: false }));
