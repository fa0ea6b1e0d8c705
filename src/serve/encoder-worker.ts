/**
 * Worker-thread entry: owns the model. Encoding is synchronous inside the native addon, so running it
 * here keeps the service's event loop free to accept and answer requests while a batch is computed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EncodeRequest, EncoderWorkerData, WorkerMessage } from './encoder-protocol.js';
import type { QueryEncoder } from './encoder.js';

const data = workerData as EncoderWorkerData;
const port = parentPort;
if (!port) throw new Error('encoder-worker.ts must run as a worker thread');

function post(msg: WorkerMessage, transfer?: ArrayBuffer[]): void {
  port!.postMessage(msg, transfer ?? []);
}

function isInputError(e: unknown): boolean {
  // DensekitError and its subclasses are caused by input; anything else is a bug or a crash.
  for (let p: unknown = e; p && typeof p === 'object'; p = Object.getPrototypeOf(p)) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === 'DensekitError') return true;
  }
  return false;
}

try {
  if (data.threads) (await import('../tensor/index.js')).setNumThreads(data.threads);
  const mod = (await import(data.encoderModule)) as {
    openEncoder(model: string, options: object): Promise<QueryEncoder> | QueryEncoder;
  };
  // The loader's one line about the weights dtype it chose goes to stderr, as in the other verbs.
  const encoder = await mod.openEncoder(data.model, { ...data.options, log: (line: string) => process.stderr.write(`densekit serve: ${line}\n`) });
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
        const out = req.kind === 'query' ? await encoder.encodeQueries(req.texts) : await encoder.encodePassages(req.texts);
        // A view into a shared/pooled buffer must not be transferred away: copy it to its own buffer.
        const vectors = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength && out.buffer instanceof ArrayBuffer
          ? out
          : out.slice();
        post({ type: 'result', id: req.id, vectors }, [vectors.buffer as ArrayBuffer]);
      } catch (e) {
        post({ type: 'error', id: req.id, message: (e as Error)?.message ?? String(e), inputError: isInputError(e) });
      }
    });
  });
  post({ type: 'ready', dim: encoder.dim, similarity: encoder.similarity });
} catch (e) {
  post({ type: 'error', id: null, message: (e as Error)?.message ?? String(e), inputError: isInputError(e) });
}
