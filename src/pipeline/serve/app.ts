/**
 * `lsar serve`: an OpenAI-compatible embeddings endpoint with the projection applied. This is
 * the application: its configuration (one schema), the model it serves (loaded in the
 * background; /health says when it is ready), the batcher every request shares, and its
 * lifecycle (listen; close stops accepting, finishes what is in flight, releases the model).
 * The routes are in ./routes.ts, the embeddings route in ./embeddings.ts.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createError, opt } from '../../core/errors.js';
import { warnings, type Events } from '../../core/events.js';
import { needsLanguage, outputDim, type Projection } from '../../core/projection.js';
import { createOperator, projectRows, type Projector } from '../../core/apply.js';
import { normalizeRowsInPlace } from '../../core/rows.js';
import { validate, type OptionsOf, type Resolved } from '../../core/schema.js';
import type { Encoder } from '../../adapters/transformers.js';
import { projectionOf, projectionOption } from '../../io/artifact.js';
import type { EmbedManifest } from '../embed.js';
import { checkSameModel, manifestOf, resolveSettings, type Settings } from '../services/embedding-settings.js';
import { checkExportedOptions, embedBatch, ModelHandle, modelOptions } from '../services/model.js';
import { projectionKey } from '../services/search/index.js';
import { Batcher } from './batcher.js';
import { sha256 } from './http.js';
import { Metrics } from './metrics.js';
import { router } from './routes.js';
import { serveSchema } from './schema.js';
import type { App, ModelState, ServeConfig } from './context.js';

export { serveSchema } from './schema.js';

/** One documented configuration object: the model and embedding options, the projection, the limits. */
export type ServeOptions = Omit<OptionsOf<typeof serveSchema>, 'projection'> & {
  projection?: string | Projection | undefined;
  events?: Events;
};

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

/** Load the served model and check it against the projection; `model` is ready when this resolves. */
async function loadModel(
  handle: ModelHandle,
  model: ModelState,
  c: {
    options: Resolved<typeof serveSchema>;
    settings: Settings;
    projection: Projection | undefined;
    manifest: EmbedManifest | undefined;
    what: string;
  },
): Promise<void> {
  const { options: o, settings, projection } = c;
  const enc = await handle.get();
  const ex = enc.info.export;
  if (ex) {
    if (ex.projection && projection) {
      throw createError(
        'USAGE',
        `${o.model} was made by lsar export and projects inside (${ex.projection.method}); serving it with a projection would apply one twice: drop ${opt('projection')}`,
        { param: 'projection' },
      );
    }
    // serve's normalize applies to what the model gives, so it never conflicts
    checkExportedOptions(o.model, ex, { ...o, normalize: undefined });
  }
  checkSameModel(c.manifest, enc.info.files, o.model);
  // a sentence-transformers model pools as its configuration says, unless --pooling or the projection's manifest says otherwise
  if (!ex && !c.manifest && o.pooling === undefined && enc.st?.pooling) settings.pooling = enc.st.pooling;
  model.maxTokens = Math.min(o.maxLength ?? enc.maxLength, enc.maxLength);
  // one pass to learn the output dimension (and warm the session)
  const probe = await embedBatch(enc, [enc.encode('lsar')], { ...settings, normalize: settings.normalizeInput });
  if (projection && projection.method !== 'none' && projection.dim !== probe.dim) {
    throw createError('DIM_MISMATCH', `${o.model} gives ${probe.dim} dimensions, but ${c.what} was fitted on ${projection.dim}`);
  }
  model.dim = projection ? outputDim(projection) : probe.dim;
  model.encoder = enc;
}

/** The HTTP server of an app, and the requests in flight (close() waits for them). */
function httpServer(app: App): { http: Server; inFlight: Set<Promise<void>> } {
  const inFlight = new Set<Promise<void>>();
  const route = router(app);
  const http = createHttpServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const p = route(req, res);
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  });
  http.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy(err);
  });
  return { http, inFlight };
}

/** Create the server (not yet listening); the model loads in the background. */
export async function createServer(given: ServeOptions): Promise<LsarServer> {
  const o = validate(serveSchema, { ...given, projection: projectionOption(given.projection) });
  if (o.maxQueue < o.maxInputs) {
    // a request of maxInputs inputs could never be queued: it would get 503 (retry) forever
    throw createError(
      'USAGE',
      `${opt('maxQueue')} ${o.maxQueue} is smaller than ${opt('maxInputs')} ${o.maxInputs}: a request of ${o.maxInputs} inputs could never be queued; raise ${opt('maxQueue')} to at least ${o.maxInputs}, or lower ${opt('maxInputs')}`,
      { param: 'maxQueue' },
    );
  }
  if (o.apiKey !== undefined && o.apiKey.length === 0) throw createError('USAGE', `${opt('apiKey')} is empty`, { param: 'apiKey' });
  const projection = await projectionOf(given.projection);
  if (projection && needsLanguage(projection.method)) {
    throw createError(
      'USAGE',
      `${projection.method} needs each input's language, which an embeddings request does not carry; serve an lsar projection (no language needed)`,
      { param: 'projection' },
    );
  }
  const w = warnings(given.events);
  const manifest = manifestOf(projection);
  const what = typeof given.projection === 'string' ? given.projection : 'the projection';
  const settings: Settings = projection
    ? resolveSettings(o, manifest, what, 'serving', w.list)
    : { layer: o.layer ?? null, pooling: o.pooling ?? 'mean', excludeSpecial: o.excludeSpecial === true, normalizeInput: false };
  const op: Projector | undefined =
    projection && projection.method !== 'none' ? createOperator(projection, { normalize: o.normalize }) : undefined;
  // a local directory is named by its last part; a Hub id as it is
  const modelId = existsSync(o.model) ? basename(resolve(o.model)) : o.model;
  const name = o.name ?? (projection && projection.method !== 'none' ? `${modelId}+${projectionKey(projection)}` : modelId);
  const config: ServeConfig = { ...o, name, ...(o.apiKey !== undefined ? { keyDigest: sha256(o.apiKey) } : {}) };

  const model: ModelState = { maxTokens: 0, dim: 0 };
  const handle = new ModelHandle(modelOptions(o), given.events);
  const forward = async (batch: number[][]) => {
    const r = await embedBatch(model.encoder as Encoder, batch, { ...settings, normalize: settings.normalizeInput });
    if (op) {
      const p = projectRows(op, r.data, batch.length, "the model's output");
      return { ...r, data: p.data, dim: p.dim };
    }
    if (o.normalize) normalizeRowsInPlace(r.data, r.dim, batch.length);
    return r;
  };
  const app: App = { config, model, batcher: undefined as unknown as Batcher, metrics: undefined as unknown as Metrics, closing: false };
  app.metrics = new Metrics(() => ({ queueDepth: app.batcher.depth, inFlight: inFlight.size, ready: model.encoder !== undefined }));
  app.batcher = new Batcher(
    forward,
    { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, maxQueue: o.maxQueue, maxTokens: o.maxTokens },
    (size, tokens, padded) => {
      app.metrics.batches++;
      app.metrics.batchSize.observe(size);
      app.metrics.tokens += tokens;
      app.metrics.paddedTokens += padded;
    },
  );

  const ready = loadModel(handle, model, { options: o, settings, projection, manifest, what });
  ready.catch((e: unknown) => {
    model.error = e as Error;
  });
  const { http, inFlight } = httpServer(app);

  let closed: Promise<void> | undefined;
  return {
    http,
    model: name,
    metrics: app.metrics,
    ready,
    warnings: w.list,
    listen(port = o.port, host = o.host) {
      return new Promise((resolveListen, reject) => {
        const onError = (e: NodeJS.ErrnoException) =>
          reject(
            createError(
              'USAGE',
              e.code === 'EADDRINUSE'
                ? `port ${port} on ${host} is in use; choose another with ${opt('port')}`
                : `cannot listen on ${host}:${port} (${e.message})`,
              { param: 'port' },
            ),
          );
        http.once('error', onError);
        http.listen(port, host, () => {
          http.off('error', onError);
          const a = http.address() as AddressInfo;
          const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolveListen({ host: a.address, port: a.port, url: `http://${h}:${a.port}` });
        });
      });
    },
    close() {
      closed ??= (async () => {
        app.closing = true;
        const stopped = new Promise<void>((r) => (http.listening ? http.close(() => r()) : r()));
        http.closeIdleConnections();
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        await app.batcher.drained();
        http.closeAllConnections();
        await stopped;
        await ready.catch(() => undefined);
        await handle.dispose();
      })();
      return closed;
    },
  };
}
