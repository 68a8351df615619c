/** Progress of a long loop: a redrawn bar with rate and ETA on a TTY, plain periodic lines otherwise. */
export class Progress {
  readonly #start = Date.now();
  #lastLine = 0;
  readonly #tty: boolean;

  constructor(readonly label: string, readonly total: number, readonly unit = 'img',
    readonly stream: NodeJS.WriteStream = process.stderr, readonly quiet = false) {
    this.#tty = Boolean(stream.isTTY);
  }

  /** done items so far; `extra` is shown after the rate (loss, accuracy…). */
  update(done: number, extra = ''): void {
    if (this.quiet) return;
    const now = Date.now();
    const secs = (now - this.#start) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 ? (this.total - done) / rate : 0;
    const text = `${this.label} ${done}/${this.total} ${rate.toFixed(0)} ${this.unit}/s ETA ${fmt(eta)} ${extra}`;
    if (this.#tty) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(1, this.total));
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else if (now - this.#lastLine > 10_000 || done === this.total) {
      this.#lastLine = now;
      this.stream.write(`${text}\n`);
    }
  }

  done(extra = ''): void {
    if (this.quiet) return;
    this.update(this.total, extra);
    if (this.#tty) this.stream.write('\n');
  }
}

function fmt(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60).toString().padStart(2, '0')}s` : `${Math.round(s)}s`;
}
