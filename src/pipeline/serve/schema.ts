/** The options of lsar serve: the model and its embedding settings, the server, batching and limits. */
import type { Schema } from '../../core/schema.js';
import { madeLikeSchema } from '../services/embedding-settings.js';
import { modelSchema } from '../services/model.js';

export const serveSchema = {
  ...madeLikeSchema,
  model: { ...modelSchema.model, required: true, description: 'Hub id or a local model directory (an lsar export is served as it is)' },
  projection: {
    type: 'string',
    alias: 'p',
    description: 'Projection from lsar fit (lsar, abtt, whiten or none; JSON, its directory, or .safetensors)',
    group: 'Model and embedding:',
  },
  normalize: {
    type: 'boolean',
    default: false,
    description: 'L2-normalise the served vectors (after the projection)',
    group: 'Model and embedding:',
  },
  maxLength: { ...modelSchema.maxLength, description: 'Tokens per input at most' },
  threads: modelSchema.threads,
  host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on (0.0.0.0 for every interface)', group: 'Server:' },
  port: { type: 'integer', min: 0, max: 65_535, default: 8080, description: 'Port to listen on (0: any free port)', group: 'Server:' },
  name: {
    type: 'string',
    description: 'The model name in responses and /v1/models',
    defaultText: "the model's id + the projection's method and hash",
    group: 'Server:',
  },
  apiKey: {
    type: 'string',
    description: 'Require Authorization: Bearer <key> on every route but /health (and /metrics with --public-metrics)',
    defaultText: '$LSAR_API_KEY',
    group: 'Server:',
  },
  publicMetrics: {
    type: 'boolean',
    default: false,
    description: 'Serve /metrics without the API key (Prometheus scrapers usually have none)',
    group: 'Server:',
  },
  maxBatch: {
    type: 'integer',
    min: 1,
    max: 4096,
    default: 32,
    description: 'Inputs per forward pass, across requests',
    group: 'Batching and limits:',
  },
  maxTokens: {
    ...modelSchema.maxTokens,
    description: 'Token budget per forward pass (batch x longest input): long inputs in smaller batches',
    group: 'Batching and limits:',
  },
  maxWaitMs: {
    type: 'integer',
    min: 0,
    max: 60_000,
    default: 5,
    description: 'How long an input waits for others to fill its batch',
    group: 'Batching and limits:',
  },
  maxQueue: {
    type: 'integer',
    min: 1,
    default: 4096,
    description: 'Inputs waiting at most; beyond, 503 with Retry-After',
    group: 'Batching and limits:',
  },
  maxBodyBytes: {
    type: 'integer',
    min: 64,
    default: 4 * 2 ** 20,
    description: 'Request body size limit (413 beyond)',
    group: 'Batching and limits:',
  },
  maxInputs: { type: 'integer', min: 1, default: 2048, description: 'Inputs per request at most', group: 'Batching and limits:' },
  maxChars: { type: 'integer', min: 1, default: 100_000, description: 'Characters per input at most', group: 'Batching and limits:' },
  truncate: {
    type: 'boolean',
    default: false,
    description: 'Cut inputs beyond --max-chars or the maximum length, counted in usage.truncated_inputs (default: 400)',
    group: 'Batching and limits:',
  },
  timeoutMs: {
    type: 'integer',
    min: 1,
    default: 60_000,
    description: 'Per-request time limit (503 beyond; its work is dropped)',
    group: 'Batching and limits:',
  },
} as const satisfies Schema;
