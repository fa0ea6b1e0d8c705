/**
 * Worker-thread entry: owns the model. Encoding is synchronous inside the native addon, so running it
 * here keeps the service's event loop free to accept and answer requests while a batch is computed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TextEncoder } from '../retrieval/types.js';
import type { EncodeRequest, EncoderWorkerData, WorkerError, WorkerMessage } from './encoder-protocol.js';

const data = workerData as EncoderWorkerData;
const port = parentPort;
if (!port) throw new Error('encoder-worker.ts must run as a worker thread');

function post(msg: WorkerMessage, transfer?: ArrayBuffer[]): void {
  port!.postMessage(msg, transfer ?? []);
}

function workerError(e: unknown): WorkerError {
  const message = (e as Error)?.message ?? String(e);
  // Duck-typed: a DensekitError from the encoder module has its code and status (the class need not be this module's).
  const { code, statusCode } = (e ?? {}) as { code?: unknown; statusCode?: unknown };
  const densekit = typeof code === 'string' && code.startsWith('DENSEKIT_') && typeof statusCode === 'number';
  return densekit ? { message, densekit: { code: code as NonNullable<WorkerError['densekit']>['code'], statusCode } } : { message };
}

try {
  if (data.threads) (await import('../tensor/index.js')).setNumThreads(data.threads);
  const mod = (await import(data.encoderModule)) as {
    openEncoder(model: string, options: object): Promise<TextEncoder> | TextEncoder;
    openTextEncoder?(model: string, options: object): Promise<TextEncoder>;
  };
  // The loader's lines (engine, weights dtype) go to stderr, as in the other verbs.
  const log = (line: string) => process.stderr.write(`densekit serve: ${line}\n`);
  // openTextEncoder picks the engine (--engine); the onnx engine takes its threads per session.
  const encoder = mod.openTextEncoder
    ? await mod.openTextEncoder(data.model, { ...data.options, ...(data.threads ? { threads: data.threads } : {}), log })
    : await mod.openEncoder(data.model, { ...data.options, log });
  // Requests are handled one at a time, in arrival order: the encoder is not re-entrant.
  let chain = Promise.resolve();
  port.on('message', (req: EncodeRequest | 'close') => {
    chain = chain.then(async () => {
      if (req === 'close') {
        await encoder.close();
        port.close();
        return;
      }
      try {
        const { vectors: out, truncated } = await encoder.encode(req.texts, req.kind);
        // A view into a shared/pooled buffer must not be transferred away: copy it to its own buffer.
        const vectors = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength && out.buffer instanceof ArrayBuffer
          ? out
          : out.slice();
        post({ type: 'result', id: req.id, vectors, truncated }, [vectors.buffer as ArrayBuffer]);
      } catch (e) {
        post({ type: 'error', id: req.id, ...workerError(e) });
      }
    });
  });
  post({ type: 'ready', model: encoder.model, dim: encoder.dim, similarity: encoder.similarity, maxLength: { ...encoder.maxLength } });
} catch (e) {
  post({ type: 'error', id: null, ...workerError(e) });
}
