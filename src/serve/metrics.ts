/**
 * Prometheus metrics for one service instance (its own registry, so several services in one process,
 * as in tests, do not mix their numbers).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceGauges {
  queueDepth(): number;
  indexSizes(): { dense?: number; bm25?: number };
}

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;
  readonly batchSize: Histogram;
  readonly queries: Counter<'mode'>;
  readonly dropped: Counter;

  constructor(gauges: ServiceGauges, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'densekit_http_requests_total',
      help: 'HTTP requests answered, by route and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'densekit_http_request_duration_seconds',
      help: 'Time from request received to response sent',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'densekit_encoder_batch_size',
      help: 'Queries per encoder call (micro-batching)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.dropped = new Counter({
      name: 'densekit_encoder_dropped_total',
      help: 'Queries never encoded because their client disconnected while they waited for the encoder',
      registers,
    });
    this.queries = new Counter({
      name: 'densekit_queries_total',
      help: 'Queries searched, by mode',
      labelNames: ['mode'],
      registers,
    });
    new Gauge({
      name: 'densekit_encoder_queue_depth',
      help: 'Queries waiting for or inside an encoder call',
      registers,
      collect() {
        this.set(gauges.queueDepth());
      },
    });
    new Gauge({
      name: 'densekit_index_documents',
      help: 'Documents in each loaded index',
      labelNames: ['index'],
      registers,
      collect() {
        for (const [index, size] of Object.entries(gauges.indexSizes())) {
          if (size !== undefined) this.set({ index }, size);
        }
      },
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'densekit_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
