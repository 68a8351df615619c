/** Thrown by {@link JobQueue.run} when the queue is full: the server answers 503. */
export class QueueFullError extends Error {}

/**
 * Runs jobs one at a time, in the order they came, with at most `bound` waiting: libtorch work for clients (explain)
 * never runs two at once and a flood of requests is turned away (503) instead of piling up in memory or starving a
 * training run on the same machine.
 */
export class JobQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #served = 0;

  constructor(readonly bound: number) {}

  /** Jobs queued or running now. */
  get pending(): number {
    return this.#waiting;
  }

  /** Jobs finished (or failed) so far. */
  get served(): number {
    return this.#served;
  }

  /** Queues `job`; rejects at once with QueueFullError when `bound` jobs are already queued or running. */
  run<T>(job: () => Promise<T> | T): Promise<T> {
    if (this.#waiting >= this.bound) return Promise.reject(new QueueFullError(`the explain queue is full (${this.bound} requests waiting); try again shortly`));
    this.#waiting++;
    const result = this.#tail.then(job).finally(() => {
      this.#waiting--;
      this.#served++;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
