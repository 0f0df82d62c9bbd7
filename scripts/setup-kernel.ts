/**
 * Registers the "TypeScript (Fashion-MNIST)" kernel with the machine's
 * Jupyter (run by `npm install` and `npm start`). One user-wide spec serves
 * every checkout (scripts/kernel-spec.ts), so running this again, from any
 * checkout, only refreshes it. A missing Jupyter is reported with the fix,
 * never as a failed install.
 */
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, installKernelSpec } from './kernel-spec';
import { JUPYTER_HELP, findJupyterPython } from './jupyter';

const python = findJupyterPython();
if (python === null) {
  console.warn(`[setup-kernel] ${JUPYTER_HELP}`);
} else {
  try {
    const where = installKernelSpec(python);
    console.log(`[setup-kernel] kernel "${KERNEL_DISPLAY_NAME}" (${KERNEL_NAME}) registered with ${python} in ${where}`);
  } catch (e) {
    console.warn(`[setup-kernel] ${(e as Error).message}; run \`npm run setup-kernel\` to retry.`);
  }
}
