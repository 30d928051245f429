/** What the routes of lsar serve share: the application they serve (config, model, batcher, metrics) and a route's answer. */
import type { Resolved } from '../../core/schema.js';
import type { Encoder } from '../../adapters/transformers.js';
import type { serveSchema } from './schema.js';
import type { Batcher } from './batcher.js';
import type { Metrics } from './metrics.js';

export type ServeConfig = Resolved<typeof serveSchema> & { name: string; keyDigest?: Buffer };

/** The served model: loading in the background, then ready (or failed). */
export interface ModelState {
  encoder?: Encoder;
  error?: Error;
  /** Tokens per input at most (the model's maximum, or maxLength). */
  maxTokens: number;
  /** Values per served vector. */
  dim: number;
}

/** What the routes see. */
export interface App {
  config: ServeConfig;
  model: ModelState;
  batcher: Batcher;
  metrics: Metrics;
  closing: boolean;
}

/** A route's answer (undefined: the client went away, nothing to write). */
export interface Reply {
  status: number;
  body: string;
  type?: string;
  headers?: Record<string, string>;
  /** Seconds the request took (observed for /v1/embeddings). */
  seconds?: number;
}
