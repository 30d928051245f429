/**
 * POST /v1/embeddings: parse the body, cut or refuse what is too long, tokenize (on the worker
 * pool, so the main thread stays free for HTTP and the model's results), submit to the shared
 * batcher, and answer with the rows in request order. A client that goes away, or a request past
 * its time limit, has its remaining work dropped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Encoder } from '../../adapters/transformers.js';
import { tokenizeInPool } from '../../adapters/pool.js';
import { truncateIds } from '../services/model.js';
import type { App, Reply } from './context.js';
import { QueueFull, type Ticket } from './batcher.js';
import { readBody } from './http.js';
import { ApiError, embeddingsResponse, parseEmbeddingsRequest } from './openai.js';

/** The request's texts, each cut to maxChars when truncating (else refused); how many were cut. */
function limitChars(app: App, input: string[], single: boolean): { texts: string[]; truncated: number } {
  const { maxChars, truncate } = app.config;
  let truncated = 0;
  const texts = input.map((t, i) => {
    if (t.length <= maxChars) return t;
    if (!truncate) {
      throw new ApiError(
        400,
        `'input${single ? '' : `[${i}]`}' has ${t.length} characters; at most ${maxChars} (or start the server with truncation on)`,
        'invalid_request_error',
        'input',
        'input_too_long',
      );
    }
    truncated++;
    return t.slice(0, maxChars);
  });
  return { texts, truncated };
}

/** Token ids of the texts, each cut to the model's maximum when truncating (else refused). */
async function tokenIds(app: App, enc: Encoder, texts: string[], input: string[], single: boolean) {
  const { maxTokens } = app.model;
  const raw = await tokenizeInPool(enc.spec, texts);
  let tokens = 0;
  let truncated = 0;
  const ids = raw.map((t, i) => {
    if (t.length > maxTokens) {
      if (!app.config.truncate) {
        throw new ApiError(
          400,
          `This model's maximum context length is ${maxTokens} tokens, however 'input${single ? '' : `[${i}]`}' has ${t.length} tokens. Shorten it, or start the server with truncation on.`,
          'invalid_request_error',
          'input',
          'context_length_exceeded',
        );
      }
      // an input already cut by characters is counted once
      if ((texts[i] as string).length === (input[i] as string).length) truncated++;
      t = truncateIds(enc, t, maxTokens);
    }
    tokens += t.length;
    return t;
  });
  return { ids, tokens, truncated };
}

function submit(app: App, ids: number[][]): Ticket {
  try {
    return app.batcher.submit(ids);
  } catch (e) {
    if (e instanceof QueueFull) {
      throw new ApiError(503, `The server is overloaded: ${e.message}; retry after 1 s.`, 'server_error', null, 'queue_full', {
        'retry-after': '1',
      });
    }
    throw e;
  }
}

/** The rows of a ticket, or 503 when the request's time is up (its work dropped). */
async function rowsOf(app: App, ticket: Ticket): Promise<{ data: Float32Array; dim: number }> {
  const ms = app.config.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new ApiError(503, `The request did not complete within ${ms} ms; its work was dropped.`, 'server_error', null, 'timeout', {
        'retry-after': '1',
      });
      ticket.cancel(e);
      reject(e);
    }, ms);
  });
  try {
    return await Promise.race([ticket.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function embeddings(app: App, req: IncomingMessage, res: ServerResponse): Promise<Reply | undefined> {
  const started = performance.now();
  let ticket: Ticket | undefined;
  const gone = () => ticket?.cancel(new Error('the client went away'));
  res.on('close', () => {
    if (!res.writableFinished) gone();
  });
  try {
    const body = await readBody(req, app.config.maxBodyBytes);
    const { encoder, error } = app.model;
    if (!encoder) {
      throw error
        ? new ApiError(500, `the model could not be loaded: ${error.message}`, 'server_error')
        : new ApiError(503, 'the model is still loading; retry shortly', 'server_error', null, 'model_loading', { 'retry-after': '2' });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new ApiError(400, `We could not parse the JSON body of your request: ${(e as Error).message}`, 'invalid_request_error');
    }
    const r = parseEmbeddingsRequest(parsed, { maxInputs: app.config.maxInputs, dim: app.model.dim, served: app.config.name });
    const cut = limitChars(app, r.input, r.single);
    const t = await tokenIds(app, encoder, cut.texts, r.input, r.single);
    if (res.destroyed) return undefined;
    ticket = submit(app, t.ids);
    const out = await rowsOf(app, ticket);
    if (res.destroyed) return undefined;
    const truncated = cut.truncated + t.truncated;
    app.metrics.sentences += t.ids.length;
    app.metrics.truncated += truncated;
    return {
      status: 200,
      body: embeddingsResponse(out.data, t.ids.length, out.dim, r.encodingFormat, app.config.name, { promptTokens: t.tokens, truncated }),
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    gone();
    throw e;
  }
}
