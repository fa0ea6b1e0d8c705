/**
 * Micro-batching: callers submit one item each and get its own result back, while the items that arrive
 * close together are handed to the batch function in ONE call. The encoder is synchronous and runs in a
 * worker, so calling it once per query would serialise everything; one call per batch amortises its fixed
 * cost, which is what makes throughput rise with load.
 *
 * Policy: when idle, the first item opens a window of `maxWaitMs` (or fills `maxBatch`) before the call.
 * While a batch is running, new items queue; as soon as it finishes, everything queued (up to maxBatch)
 * goes out at once: those items have already waited, so no extra window is added under load.
 */
import { DensekitError } from '../errors.js';

export interface MicroBatcherOptions {
  /** Most items in one call. */
  maxBatch: number;
  /** Longest an item waits for company when the batch function is idle. */
  maxWaitMs: number;
  /** Most items waiting (not yet in a call); submit() rejects beyond it instead of queueing forever. */
  maxQueue?: number;
}

export interface BatchStats {
  /** Items waiting for a call. */
  queued: number;
  /** Items inside the running call. */
  running: number;
}

interface Pending<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

/** An item whose caller went away (its signal aborted) before its batch ran: it never reaches the batch function. */
export class CallerGoneError extends DensekitError {
  override name = 'CallerGoneError';
  constructor() {
    // 499, nginx's "client closed request": nobody reads it, but logs and metrics see why the request ended.
    super('the client went away before its queries were searched', { code: 'DENSEKIT_REQUEST', statusCode: 499 });
  }
}

export class QueueFullError extends DensekitError {
  override name = 'QueueFullError';
  constructor(queued: number, limit: number) {
    super(`the service is overloaded (${queued} items already queued (limit ${limit})); retry later`, { code: 'DENSEKIT_OVERLOADED', statusCode: 503 });
  }
}

export class MicroBatcher<In, Out> {
  private queue: Pending<In, Out>[] = [];
  private runningCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly opts: MicroBatcherOptions,
    /** Called with every batch size sent (for metrics). */
    private readonly onBatch?: (size: number) => void,
    /** Called with the number of items dropped because their caller had gone (for metrics). */
    private readonly onDrop?: (size: number) => void,
  ) {
    if (!(opts.maxBatch >= 1)) throw new RangeError(`maxBatch must be >= 1, got ${opts.maxBatch}`);
    if (!(opts.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${opts.maxWaitMs}`);
  }

  get stats(): BatchStats {
    return { queued: this.queue.length, running: this.runningCount };
  }

  submit(item: In, signal?: AbortSignal): Promise<Out> {
    return this.submitAll([item], signal).then((outs) => outs[0]!);
  }

  /**
   * One caller's items, results in order. `signal`: aborted when the caller no longer wants them (its client
   * disconnected); its items still queued are then taken out and the call rejects with CallerGoneError, so a
   * batch never encodes for nobody (items already inside a running call finish, their results unused).
   */
  submitAll(items: readonly In[], signal?: AbortSignal): Promise<Out[]> {
    if (this.closed) return Promise.reject(new Error('the batcher is closed'));
    if (signal?.aborted) {
      this.onDrop?.(items.length);
      return Promise.reject(new CallerGoneError());
    }
    if (this.opts.maxQueue !== undefined && this.queue.length + items.length > this.opts.maxQueue) {
      return Promise.reject(new QueueFullError(this.queue.length, this.opts.maxQueue));
    }
    const mine = new Set<Pending<In, Out>>();
    const results = items.map((item) => new Promise<Out>((resolve, reject) => {
      const p = { item, resolve, reject };
      mine.add(p);
      this.queue.push(p);
    }));
    // One listener per caller, not per item (a 64-query request would otherwise pass Node's listener warning).
    let onAbort: (() => void) | undefined;
    const gone = signal && new Promise<never>((_, reject) => {
      onAbort = (): void => {
        const before = this.queue.length;
        this.queue = this.queue.filter((p) => !mine.has(p));
        this.onDrop?.(before - this.queue.length);
        reject(new CallerGoneError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    this.schedule();
    const all = Promise.all(results);
    if (!gone) return all;
    // Results of items dropped from the queue never settle: the race answers the caller.
    all.catch(() => {});
    return Promise.race([all, gone]).finally(() => signal!.removeEventListener('abort', onAbort!));
  }

  /** Rejects nothing: lets queued and running items finish, then refuses new ones. */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.runningCount > 0) {
      if (this.runningCount === 0) this.flush();
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  private schedule(): void {
    if (this.runningCount > 0) return; // the finishing batch flushes the queue
    if (this.queue.length >= this.opts.maxBatch || this.opts.maxWaitMs === 0) {
      this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
    }
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0 || this.runningCount > 0) return;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    this.runningCount = batch.length;
    this.onBatch?.(batch.length);
    let call: Promise<Out[]>;
    try {
      call = this.run(batch.map((p) => p.item));
    } catch (e) {
      call = Promise.reject(e);
    }
    call.then(
      (outs) => {
        if (outs.length !== batch.length) {
          const err = new Error(`batch function returned ${outs.length} results for ${batch.length} items`);
          for (const p of batch) p.reject(err);
        } else {
          batch.forEach((p, i) => p.resolve(outs[i]!));
        }
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    ).finally(() => {
      this.runningCount = 0;
      if (this.queue.length > 0) this.flush();
    });
  }
}
