/** PostgreSQL + pgvector as a densekit vector index: ingest (build) and search (open). */
export { buildPgvectorIndex, defaultLists, DEFAULT_PG_HNSW, resolveAnn, type AnnRequest, type PgvectorBuildOptions, type PgvectorBuildSummary } from './ingest.js';
export { PgvectorIndex, type PgvectorOpenOptions } from './search.js';
export { isPostgresUrl, redactUrl, PostgresError } from './connection.js';
export { parseFilterFlag } from './sql.js';
export type { AnnSpec, TableRecord } from './schema.js';
