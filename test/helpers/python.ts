import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Debian's Python, which has python3-torch, numpy and scikit-image (the PATH python3 may be another one). */
export const PYTHON = process.env.BATCHCAM_PYTHON ?? '/usr/bin/python3';

/** Path of a script in test/py (tests run from dist/test, the scripts stay in the source tree). */
export function pyScript(name: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'py', name);
}
