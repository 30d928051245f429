/**
 * `lsar serve`: an OpenAI-compatible embeddings endpoint (POST /v1/embeddings, GET /v1/models,
 * GET /health, GET /metrics) with the projection applied, over node:http. Concurrent requests
 * share length-sorted batches (Batcher); every limit answers in OpenAI's error shape; close()
 * stops accepting, finishes what is in flight, and releases the model.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { checkNumber, createError, firstLine, opt } from '../../core/errors.js';
import { needsLanguage, outputDim, type Projection } from '../../core/projection.js';
import { applyInPlace, createOperator, type Projector } from '../../core/apply.js';
import { normalizeRowsInPlace } from '../../core/rows.js';
import type { Encoder } from '../../adapters/transformers.js';
import { tokenizeInPool } from '../../adapters/pool.js';
import { loadProjection } from '../../io/artifact.js';
import { checkExportedOptions, embedBatch, ModelHandle, truncateIds, type ModelOptions } from '../embed.js';
import { checkSameModel, manifestOf, resolveSettings, type Settings } from '../embedding-settings.js';
import { projectionKey } from '../services/search/index.js';
import { Batcher, QueueFull, type Ticket } from './batcher.js';
import { authorized, CREATED, methodNotAllowed, readBody, ROUTES, sha256 } from './http.js';
import { Metrics } from './metrics.js';
import { ApiError, embeddingsResponse, parseEmbeddingsRequest } from './openai.js';

/** One documented configuration object: the model and embedding options, the projection, the limits. */
export interface ServeOptions extends ModelOptions {
  /** A fitted projection (lsar, none; not lir/demean, which need each input's language), or its path. */
  projection?: string | Projection;
  /** L2-normalise the served vectors (after the projection). */
  normalize?: boolean;
  /** The model name in responses and /v1/models (default: the model's id, plus the projection's method and hash). */
  name?: string;
  /** Inputs per forward pass (default: batchSize, else 32). */
  maxBatch?: number;
  /** How long the first waiting input waits for others before its batch runs (default 5 ms). */
  maxWaitMs?: number;
  /** Inputs waiting at most; a request that would exceed it gets 503 with Retry-After (default 4096). */
  maxQueue?: number;
  /** Request body limit in bytes (default 4 MiB): 413 beyond. */
  maxBodyBytes?: number;
  /** Inputs per request (default 2048, as OpenAI). */
  maxInputs?: number;
  /** Characters per input (default 100,000). */
  maxChars?: number;
  /**
   * Cut inputs longer than `maxChars` or the model's maximum length (in tokens), and report how
   * many in `usage.truncated_inputs`; by default they are refused with 400.
   */
  truncate?: boolean;
  /** A request not answered within this many ms gets 503, and its remaining work is dropped (default 60,000). */
  timeoutMs?: number;
  /** Bearer key required on every route but /health (compared in constant time). */
  apiKey?: string;
}

export interface LsarServer {
  readonly http: Server;
  /** The served model name. */
  readonly model: string;
  readonly metrics: Metrics;
  /** Resolves once the model is loaded (and rejects if it cannot be); /health says 200 from then on. */
  readonly ready: Promise<void>;
  readonly warnings: string[];
  listen(port?: number, host?: string): Promise<{ host: string; port: number; url: string }>;
  /** Stop accepting, answer every request in flight, release the model. */
  close(): Promise<void>;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Create the server (not yet listening); the model loads in the background. */
export async function createServer(options: ServeOptions): Promise<LsarServer> {
  const maxBatch = checkNumber('maxBatch', options.maxBatch ?? options.batchSize ?? 32, { min: 1, max: 4096 });
  const maxWaitMs = checkNumber('maxWaitMs', options.maxWaitMs ?? 5, { min: 0, max: 60_000 });
  const maxQueue = checkNumber('maxQueue', options.maxQueue ?? 4096, { min: 1 });
  const maxBodyBytes = checkNumber('maxBodyBytes', options.maxBodyBytes ?? 4 * 2 ** 20, { min: 64 });
  const maxInputs = checkNumber('maxInputs', options.maxInputs ?? 2048, { min: 1 });
  const maxChars = checkNumber('maxChars', options.maxChars ?? 100_000, { min: 1 });
  const timeoutMs = checkNumber('timeoutMs', options.timeoutMs ?? 60_000, { min: 1 });
  if (maxQueue < maxInputs) {
    // a request of maxInputs inputs could never be queued: it would get 503 (retry) forever
    throw createError(
      'USAGE',
      `${opt('maxQueue')} ${maxQueue} is smaller than ${opt('maxInputs')} ${maxInputs}: a request of ${maxInputs} inputs could never be queued; raise ${opt('maxQueue')} to at least ${maxInputs}, or lower ${opt('maxInputs')}`,
      { params: ['maxQueue', 'maxInputs'] },
    );
  }
  if (options.maxLength !== undefined) checkNumber('maxLength', options.maxLength, { min: 2 });
  if (options.maxTokens !== undefined) checkNumber('maxTokens', options.maxTokens, { min: 1 });
  if (options.apiKey !== undefined && options.apiKey.length === 0)
    throw createError('USAGE', `${opt('apiKey')} is empty`, { param: 'apiKey' });
  const projection = typeof options.projection === 'string' ? await loadProjection(options.projection) : options.projection;
  if (projection && needsLanguage(projection.method)) {
    throw createError(
      'USAGE',
      `${projection.method} needs each input's language, which an embeddings request does not carry; serve an lsar projection (no language needed)`,
      { param: 'projection' },
    );
  }
  const warnings: string[] = [];
  const manifest = manifestOf(projection);
  const what = typeof options.projection === 'string' ? options.projection : 'the projection';
  const settings: Settings = projection
    ? resolveSettings(options, manifest, what, 'serving', warnings)
    : {
        layer: options.layer ?? null,
        pooling: options.pooling ?? 'mean',
        excludeSpecial: options.excludeSpecial === true,
        normalizeInput: false,
      };
  const op: Projector | undefined =
    projection && projection.method !== 'none' ? createOperator(projection, { normalize: options.normalize === true }) : undefined;
  const normalizeOut = options.normalize === true;
  // a local directory is named by its last part; a Hub id as it is
  const modelId = existsSync(options.model) ? basename(resolve(options.model)) : options.model;
  const name = options.name ?? (projection && projection.method !== 'none' ? `${modelId}+${projectionKey(projection)}` : modelId);

  const metrics = new Metrics(() => ({ queueDepth: batcher.depth, inFlight: inFlight.size, ready: encoder !== undefined }));
  const handle = new ModelHandle(options);
  let encoder: Encoder | undefined;
  let loadError: Error | undefined;
  let maxTokens = 0;
  let dim = 0;

  const batcher = new Batcher(
    async (batch) => {
      const enc = encoder as Encoder;
      const r = await embedBatch(enc, batch, { ...settings, normalize: settings.normalizeInput });
      if (op) {
        const p = applyInPlace(op, r.data, batch.length);
        if (p.problem) throw createError('NON_FINITE', `the model gave NaN or Inf for an input`);
        return { ...r, data: p.data, dim: p.dim };
      } else if (normalizeOut) normalizeRowsInPlace(r.data, r.dim, batch.length);
      return r;
    },
    { maxBatch, maxWaitMs, maxQueue, maxTokens: options.maxTokens },
    (size, tokens, padded) => {
      metrics.batches++;
      metrics.batchSize.observe(size);
      metrics.tokens += tokens;
      metrics.paddedTokens += padded;
    },
  );

  const ready = (async () => {
    const enc = await handle.get();
    const ex = enc.info.export;
    if (ex) {
      if (ex.projection && projection) {
        throw createError(
          'USAGE',
          `${options.model} was made by lsar export and projects inside (${ex.projection.method}); serving it with a projection would apply one twice: drop projection`,
          { param: 'projection' },
        );
      }
      // serve's normalize applies to what the model gives, so it never conflicts
      checkExportedOptions(options.model, ex, { ...options, normalize: undefined });
    }
    checkSameModel(manifest, enc.info.files, options.model);
    maxTokens = Math.min(options.maxLength ?? enc.maxLength, enc.maxLength);
    // one pass to learn the output dimension (and warm the session)
    const probe = await embedBatch(enc, [enc.encode('lsar')], { ...settings, normalize: settings.normalizeInput });
    dim = probe.dim;
    if (projection && projection.method !== 'none' && projection.dim !== dim) {
      throw createError('DIM_MISMATCH', `${options.model} gives ${dim} dimensions, but ${what} was fitted on ${projection.dim}`);
    }
    if (projection) dim = outputDim(projection);
    encoder = enc;
  })();
  ready.catch((e: unknown) => {
    loadError = e as Error;
  });

  const keyDigest = options.apiKey !== undefined ? sha256(options.apiKey) : undefined;
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  async function handle_(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = (req.url ?? '/').split('?')[0] as string;
    const method = req.method ?? 'GET';
    if (closing) res.setHeader('connection', 'close');
    const route = ROUTES[url];
    const label = route ? url : 'other';
    if (url === '/health') {
      if (method !== 'GET' && method !== 'HEAD') return send(res, label, methodNotAllowed(method, url, 'GET'));
      const status = encoder ? 200 : 503;
      const body = encoder
        ? { status: 'ok', model: name }
        : loadError
          ? { status: 'error', message: loadError.message }
          : { status: 'loading' };
      res.writeHead(status, JSON_TYPE).end(JSON.stringify(body));
      metrics.request(label, status);
      return;
    }
    if (keyDigest && !authorized(req.headers.authorization, keyDigest)) {
      return send(
        res,
        label,
        new ApiError(
          401,
          req.headers.authorization
            ? 'Incorrect API key provided.'
            : "You didn't provide an API key: send it as Authorization: Bearer <key>.",
          'invalid_request_error',
          null,
          'invalid_api_key',
          { 'www-authenticate': 'Bearer' },
        ),
      );
    }
    if (!route) return send(res, label, new ApiError(404, `Invalid URL (${method} ${url})`, 'invalid_request_error', null, 'unknown_url'));
    if (method !== route) return send(res, label, methodNotAllowed(method, url, route));
    if (url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
      metrics.request(label, 200);
      return;
    }
    if (url === '/v1/models') {
      const data = [{ id: name, object: 'model', created: CREATED, owned_by: 'lsar' }];
      res.writeHead(200, JSON_TYPE).end(JSON.stringify({ object: 'list', data }));
      metrics.request(label, 200);
      return;
    }
    // POST /v1/embeddings
    const started = performance.now();
    let ticket: Ticket | undefined;
    const gone = () => ticket?.cancel(new Error('the client went away'));
    res.on('close', () => {
      if (!res.writableFinished) gone();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const body = await readBody(req, maxBodyBytes);
      if (!encoder) {
        throw loadError
          ? new ApiError(500, `the model could not be loaded: ${loadError.message}`, 'server_error')
          : new ApiError(503, 'the model is still loading; retry shortly', 'server_error', null, 'model_loading', { 'retry-after': '2' });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch (e) {
        throw new ApiError(400, `We could not parse the JSON body of your request: ${(e as Error).message}`, 'invalid_request_error');
      }
      const r = parseEmbeddingsRequest(parsed, { maxInputs, dim, served: name });
      const enc = encoder;
      let truncated = 0;
      const texts = r.input.map((t, i) => {
        if (t.length <= maxChars) return t;
        if (!options.truncate) {
          throw new ApiError(
            400,
            `'input${r.single ? '' : `[${i}]`}' has ${t.length} characters; at most ${maxChars} (or start the server with truncation on)`,
            'invalid_request_error',
            'input',
            'input_too_long',
          );
        }
        truncated++;
        return t.slice(0, maxChars);
      });
      // tokenised on the worker pool: the main thread stays free for HTTP and the model's results
      const raw = await tokenizeInPool(enc.spec, texts);
      let tokens = 0;
      const ids = raw.map((t, i) => {
        if (t.length > maxTokens) {
          if (!options.truncate) {
            throw new ApiError(
              400,
              `This model's maximum context length is ${maxTokens} tokens, however 'input${r.single ? '' : `[${i}]`}' has ${t.length} tokens. Shorten it, or start the server with truncation on.`,
              'invalid_request_error',
              'input',
              'context_length_exceeded',
            );
          }
          if ((texts[i] as string).length === (r.input[i] as string).length) truncated++;
          t = truncateIds(enc, t, maxTokens);
        }
        tokens += t.length;
        return t;
      });
      if (res.destroyed) return;
      try {
        ticket = batcher.submit(ids);
      } catch (e) {
        if (e instanceof QueueFull) {
          throw new ApiError(503, `The server is overloaded: ${e.message}; retry after 1 s.`, 'server_error', null, 'queue_full', {
            'retry-after': '1',
          });
        }
        throw e;
      }
      const t = ticket;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const e = new ApiError(
            503,
            `The request did not complete within ${timeoutMs} ms; its work was dropped.`,
            'server_error',
            null,
            'timeout',
            { 'retry-after': '1' },
          );
          t.cancel(e);
          reject(e);
        }, timeoutMs);
      });
      const out = await Promise.race([t.done, timeout]);
      if (res.destroyed) return;
      const payload = embeddingsResponse(out.data, ids.length, out.dim, r.encodingFormat, name, { promptTokens: tokens, truncated });
      res.writeHead(200, JSON_TYPE).end(payload);
      metrics.sentences += ids.length;
      metrics.truncated += truncated;
      metrics.request(label, 200, (performance.now() - started) / 1000);
    } catch (e) {
      gone();
      if (res.destroyed) {
        metrics.request(label, 499);
        return;
      }
      send(res, label, e instanceof ApiError ? e : new ApiError(500, `internal error: ${firstLine(e)}`, 'server_error'));
    } finally {
      clearTimeout(timer);
    }
  }

  function send(res: ServerResponse, label: string, e: ApiError): void {
    if (!res.headersSent) res.writeHead(e.status, { ...JSON_TYPE, ...e.headers });
    res.end(e.body());
    metrics.request(label, e.status);
  }

  const http = createHttpServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const p = handle_(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 'other', new ApiError(500, `internal error: ${firstLine(e)}`, 'server_error'));
      else res.destroy();
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
  http.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy(err);
  });

  let closed: Promise<void> | undefined;
  return {
    http,
    model: name,
    metrics,
    ready,
    warnings,
    listen(port = 8080, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) =>
          reject(
            createError(
              'USAGE',
              e.code === 'EADDRINUSE'
                ? `port ${port} on ${host} is in use; choose another with port`
                : `cannot listen on ${host}:${port} (${e.message})`,
              { param: 'port' },
            ),
          );
        http.once('error', onError);
        http.listen(port, host, () => {
          http.off('error', onError);
          const a = http.address() as AddressInfo;
          const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `http://${h}:${a.port}` });
        });
      });
    },
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((r) => (http.listening ? http.close(() => r()) : r()));
        http.closeIdleConnections();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await batcher.drained();
        http.closeAllConnections();
        await stopped;
        await ready.catch(() => undefined);
        await handle.dispose();
      })();
      return closed;
    },
  };
}
