import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI entry (dist/src/cli/main.js). */
export function cliPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
}
