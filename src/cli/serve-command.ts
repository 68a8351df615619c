import { OptionError } from '../train/options.js';
import { isLoopback, startServer } from '../server/index.js';
import { parseArgs, helpText, type FlagSpec } from './args.js';

const FLAGS: FlagSpec[] = [
  { flag: 'port', kind: 'int', def: 6006, help: 'TCP port (0: any free one)' },
  { flag: 'host', kind: 'string', def: '127.0.0.1', help: 'address to listen on; anything but loopback makes the runs reachable from the network and must be given explicitly' },
  { flag: 'queue', kind: 'int', def: 4, help: 'explain requests waiting or running at most (one libtorch job at a time); more get 503' },
  { flag: 'max-upload-mb', kind: 'number', def: 10, help: 'largest image upload in MiB' },
  { flag: 'max-pixels', kind: 'int', def: 25_000_000, help: 'largest image upload in pixels (checked before decoding)' },
];

export const SERVE_USAGE = 'Usage: batchcam serve [DIR] [--port 6006] [--host 127.0.0.1]\n\n' +
  'A local web app over the runs and experiments under DIR (default runs/): status, config and final metrics, experiment\n' +
  'tables, live training curves, the CAM timeline (--probe-every) of one or two runs, and explanations on demand.\n' +
  'Prints a URL with a random access token that every request needs. BATCHCAM_HOST sets a default host (loopback only).';

/** `batchcam serve`: the local explorer of a runs directory. Runs until interrupted. */
export async function serveCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(helpText(SERVE_USAGE, FLAGS, false));
    return;
  }
  const { flags, positional } = parseArgs(argv, FLAGS, false);
  if (positional.length > 1) throw new OptionError(`expected one directory, got ${positional.length}: ${positional.join(' ')}`);
  const explicitHost = argv.some((a) => a === '--host' || a.startsWith('--host='));
  const host = explicitHost ? (flags.host as string) : (process.env.BATCHCAM_HOST ?? '127.0.0.1');
  const port = flags.port as number;
  if (!(port >= 0 && port <= 65535)) throw new OptionError(`--port: got ${port}, expected 0…65535`);
  const queue = flags.queue as number;
  if (!(queue >= 1 && queue <= 1000)) throw new OptionError(`--queue: got ${queue}, expected 1…1000`);
  const mb = flags['max-upload-mb'] as number;
  if (!(mb > 0 && mb <= 1024)) throw new OptionError(`--max-upload-mb: got ${mb}, expected a number in (0, 1024]`);
  const dir = positional[0] ?? 'runs';
  let server;
  try {
    server = await startServer({
      dir, host, port, allowRemote: explicitHost, queue, maxUploadBytes: Math.round(mb * 1024 * 1024), maxPixels: flags['max-pixels'] as number,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new OptionError(`${dir}: no such directory; give the directory your runs are in (default runs/)`);
    if (err.code === 'EADDRINUSE') throw new OptionError(`port ${port} is in use; pass --port with another one (or 0 for any free port)`);
    throw e;
  }
  if (!isLoopback(host)) {
    process.stderr.write(`batchcam serve: WARNING: listening on ${host} (port ${new URL(server.origin).port}), not loopback: anyone on the network ` +
      'who can reach this machine and has the token can read these runs and explain images with their models\n');
  }
  console.log(`batchcam serve: ${server.catalog.root}\n  open ${server.url}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
