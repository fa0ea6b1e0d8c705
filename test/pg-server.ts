/**
 * A real PostgreSQL wire-protocol server on 127.0.0.1 for the tests: PGlite 0.5 (PostgreSQL 18 in WASM) with
 * pgvector 0.8, served by @electric-sql/pglite-socket and reached through `pg` exactly as a real server is.
 *
 * pglite-socket 0.2 multiplexes several connections onto PGlite's one backend: it runs one protocol message at a
 * time and, while a transaction is open, only that connection's messages (so SET LOCAL and transactions stay
 * per connection; session-level state such as temp tables is shared, which densekit never relies on across
 * connections). It runs every message as its own PGlite call, and a COPY FROM STDIN then fails ("protocol
 * synchronization was lost"): the backend needs the COPY's data in the same call as the COPY. So this server
 * holds a COPY's messages until CopyDone and hands PGlite the Query + CopyData + CopyDone together, answering
 * the client's wait for CopyInResponse itself. PGlite then parses and loads the CSV as PostgreSQL does.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface TestPgServer {
  url: string;
  port: number;
  db: PGlite;
  /** Stops listening and drops every connection (the database stays, for a restart on the same port). */
  stop(): Promise<void>;
  /** Listens again on the same port, same data: a server restart. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

type OnData = (data: Uint8Array) => void;
interface QueryQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: OnData): Promise<number>;
}

const COPY_FROM_STDIN = /^\s*COPY\b[\s\S]*\bFROM\s+STDIN\b/i;

/** CopyInResponse: text format, no per-column formats (pg and pg-copy-streams read only its arrival). */
const COPY_IN_RESPONSE = Uint8Array.from([0x47, 0, 0, 0, 7, 0, 0, 0]);

function holdCopies(queue: QueryQueue): void {
  const enqueue = queue.enqueue.bind(queue);
  const held = new Map<number, Uint8Array[]>();
  queue.enqueue = (handlerId, message, onData) => {
    const type = String.fromCharCode(message[0]!);
    const pending = held.get(handlerId);
    if (!pending && type === 'Q' && COPY_FROM_STDIN.test(Buffer.from(message.subarray(5, message.length - 1)).toString('utf8'))) {
      held.set(handlerId, [message]);
      onData(COPY_IN_RESPONSE);
      return Promise.resolve(COPY_IN_RESPONSE.length);
    }
    if (!pending) return enqueue(handlerId, message, onData);
    pending.push(message);
    if (type === 'd') return Promise.resolve(0);
    held.delete(handlerId);
    // CopyDone or CopyFail: run the whole COPY at once, minus the CopyInResponse the client already has.
    let first = true;
    return enqueue(handlerId, Buffer.concat(pending), (data) => {
      if (first && data[0] === 0x47) {
        first = false;
        const len = Buffer.from(data).readInt32BE(1);
        data = data.subarray(1 + len);
      }
      first = false;
      if (data.length) onData(data);
    });
  };
}

export async function startPgServer(opts: { pgvector?: boolean; maxConnections?: number } = {}): Promise<TestPgServer> {
  const db = await PGlite.create(opts.pgvector === false ? {} : { extensions: { vector } });
  let port = 0;
  let server: PGLiteSocketServer;
  const listen = async () => {
    server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: opts.maxConnections ?? 16 });
    holdCopies((server as unknown as { queryQueue: QueryQueue }).queryQueue);
    await server.start();
    port = Number(server.getServerConn().split(':')[1]);
  };
  await listen();
  let listening = true;
  return {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    get port() {
      return port;
    },
    db,
    async stop() {
      if (listening) await server.stop();
      listening = false;
    },
    async restart() {
      if (!listening) await listen();
      listening = true;
    },
    async close() {
      if (listening) await server.stop();
      listening = false;
      await db.close();
    },
  };
}
