/** What every route plugin of the service is given. */
import type { TextEncoder } from '../../retrieval/types.js';
import type { DocumentLookup } from '../documents.js';
import type { ServiceLimits } from '../limits.js';
import type { ServiceMetrics } from '../metrics.js';
import type { ServiceRetrievers } from '../retrievers.js';
import type { WebAssets } from '../web-assets.js';

export interface RouteContext {
  retrievers: ServiceRetrievers;
  /** The model, unbatched (POST /encode, GET /health); undefined when the service has none. */
  encoder: TextEncoder | undefined;
  documents: DocumentLookup | undefined;
  limits: ServiceLimits;
  metrics: ServiceMetrics;
  evalReportHtml: string | undefined;
  web: WebAssets;
}

export const TEXT_SCHEMA = { type: 'string' } as const;
