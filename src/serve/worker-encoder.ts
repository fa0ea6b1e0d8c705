/**
 * A TextEncoder whose model lives in a worker thread (see encoder-worker.ts). Requests are numbered and
 * answered in order by the worker; vectors come back as transferred buffers (no copy).
 */
import { Worker } from 'node:worker_threads';
import type { openTextEncoder } from '../encode/index.js';
import { DensekitError } from '../errors.js';
import type { Encoded, Similarity, TextEncoder, TextKind } from '../retrieval/types.js';
import type { EncodeRequest, EncoderWorkerData, WorkerError, WorkerMessage } from './encoder-protocol.js';

/** Options of the real encoder (engine, dtype, device, batch size), passed through to the worker. */
export type EncoderOpenOptions = Omit<NonNullable<Parameters<typeof openTextEncoder>[1]>, 'threads' | 'log'>;

type Ready = Extract<WorkerMessage, { type: 'ready' }>;

/** The worker's error as this thread throws it: a DensekitError keeps its code and status. */
function rebuild(e: WorkerError, crashPrefix: string): Error {
  return e.densekit ? new DensekitError(e.message, e.densekit) : new Error(`${crashPrefix}${e.message}`);
}

// Under tsx (tests, development) this module is the .ts source and so is the worker next to it.
const SOURCE_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const WORKER_URL = new URL(`./encoder-worker${SOURCE_EXT}`, import.meta.url);
const REAL_ENCODER_MODULE = new URL(`../encode/index${SOURCE_EXT}`, import.meta.url).href;

interface Waiter {
  resolve: (v: Encoded) => void;
  reject: (e: Error) => void;
}

export class WorkerEncoder implements TextEncoder {
  private nextId = 0;
  private readonly waiting = new Map<number, Waiter>();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  readonly model: string;
  readonly dim: number;
  readonly similarity: Similarity;
  readonly maxLength: { readonly query: number; readonly passage: number };

  private constructor(private readonly worker: Worker, ready: Ready) {
    this.model = ready.model;
    this.dim = ready.dim;
    this.similarity = ready.similarity;
    this.maxLength = ready.maxLength;
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'ready' || msg.id === null) return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.type === 'result') w.resolve({ vectors: msg.vectors, truncated: msg.truncated });
      else w.reject(rebuild(msg, 'encoder: '));
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
    };
    worker.on('error', (e) => fail(new Error(`encoder worker crashed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => fail(new Error(`encoder worker exited (code ${code})`)));
  }

  /** Starts the worker and waits until the model is loaded; load failures reject here. */
  static async start(model: string, options: EncoderOpenOptions & { threads?: number } = {}, encoderModule = REAL_ENCODER_MODULE): Promise<WorkerEncoder> {
    const { threads, ...encoderOptions } = options;
    const data: EncoderWorkerData = { model, options: encoderOptions, encoderModule, ...(threads ? { threads } : {}) };
    const worker = SOURCE_EXT === '.ts'
      // Node 20 does not run the parent's `--import tsx` in workers before their entry: register it here.
      ? new Worker(`import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(WORKER_URL.href)}))`, { eval: true, workerData: data })
      : new Worker(WORKER_URL, { workerData: data });
    // Listeners are removed one by one: Worker keeps internal listeners that removeAllListeners() would drop.
    let onMessage!: (msg: WorkerMessage) => void;
    let onError!: (e: Error) => void;
    let onExit!: (code: number) => void;
    const ready = await new Promise<Ready>((resolve, reject) => {
      onMessage = (msg) => {
        if (msg.type === 'ready') resolve(msg);
        else if (msg.type === 'error' && msg.id === null) {
          reject(rebuild(msg, `loading model ${model}: `));
        }
      };
      onError = reject;
      onExit = (code) => reject(new Error(`encoder worker exited (code ${code}) while loading ${model}`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    }).finally(() => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
    return new WorkerEncoder(worker, ready);
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Undefined while the worker is alive; the reason once it died. */
  get error(): Error | undefined {
    return this.failure;
  }

  encode(texts: readonly string[], kind: TextKind): Promise<Encoded> {
    return this.send(kind, texts);
  }

  async encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    return (await this.send('query', texts)).vectors;
  }

  async encodePassages(texts: readonly string[]): Promise<Float32Array> {
    return (await this.send('passage', texts)).vectors;
  }

  /** Lets the requests already sent finish, then releases the model and stops the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure) return;
      const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
      this.worker.postMessage('close');
      await exited;
    })();
    return this.closing;
  }

  private send(kind: TextKind, texts: readonly string[]): Promise<Encoded> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('encoder is closed'));
    const id = this.nextId++;
    return new Promise<Encoded>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const req: EncodeRequest = { id, kind, texts: [...texts] };
      this.worker.postMessage(req);
    });
  }
}
