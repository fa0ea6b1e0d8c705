/**
 * Reaching PostgreSQL: connection URLs (the password never appears in a message), and pg's errors turned into
 * one-line DensekitErrors that say which server and what went wrong (a refused connection, a lost one, an
 * SQLSTATE from the server).
 */
import pg from 'pg';
import { DensekitError, UsageError } from '../../errors.js';

/** A failure talking to PostgreSQL: the server, then what happened (and the SQLSTATE when the server sent one). */
export class PostgresError extends DensekitError {
  override name = 'PostgresError';
  constructor(readonly server: string, problem: string, readonly sqlState?: string, options?: { cause?: unknown }) {
    super(`${server}: ${problem}`, options);
  }
}

/** True when `s` names a PostgreSQL server rather than an index folder. */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The URL with its password removed, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return '<unparseable postgres URL>';
  }
}

export function checkPostgresUrl(url: string): void {
  if (!isPostgresUrl(url)) throw new UsageError(`expected a postgres://USER@HOST:PORT/DB URL, got "${redactUrl(url)}"`);
  try {
    new URL(url);
  } catch {
    throw new UsageError(`"${redactUrl(url)}" is not a valid postgres:// URL`);
  }
}

/** Node's socket errors that mean the server is not there (or went away). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** Turns anything pg throws into a PostgresError with a one-line message; leaves DensekitErrors alone. */
export function describePgError(server: string, e: unknown): DensekitError {
  if (e instanceof DensekitError) return e;
  const err = e as { code?: string; message?: string; severity?: string };
  const message = String(err?.message ?? e).split('\n')[0]!;
  if (err?.code && UNREACHABLE.has(err.code)) return new PostgresError(server, `cannot reach the server (${err.code}); is PostgreSQL running there?`, undefined, { cause: e });
  if (/Connection terminated|connection.*(ended|closed)|ECONNRESET/i.test(message))
    return new PostgresError(server, `the server closed the connection (${message}); was it stopped or restarted?`, undefined, { cause: e });
  if (err?.code && /^[0-9A-Z]{5}$/.test(err.code)) return new PostgresError(server, `${message} (SQLSTATE ${err.code})`, err.code, { cause: e });
  return new PostgresError(server, message, undefined, { cause: e });
}

export interface PoolOptions {
  /** Connections in the pool (default 4). */
  connections?: number;
  /** Milliseconds to wait for a connection before giving up (default 10,000). */
  connectTimeoutMs?: number;
}

export function newPool(url: string, opts: PoolOptions = {}): pg.Pool {
  checkPostgresUrl(url);
  const max = opts.connections ?? 4;
  if (!Number.isInteger(max) || max < 1 || max > 1024) throw new UsageError(`connections must be an integer in 1..1024, got ${max}`);
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its server emits on the pool; the next query reports it, so this must not crash the process.
  pool.on('error', () => {});
  // ... and so must one losing it while checked out: the query in flight rejects with the same error.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export async function connectClient(url: string, connectTimeoutMs = 10_000): Promise<pg.Client> {
  checkPostgresUrl(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  // Errors after connect (server gone) surface through the failing query; keep the emitter from throwing.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    throw describePgError(redactUrl(url), e);
  }
  return client;
}
