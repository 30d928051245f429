/**
 * The routes of lsar serve, one small function each, and the router that finds them: the bearer
 * key (every route but /health, and /metrics when public), 404 and 405, errors in OpenAI's
 * shape, and a count of every answer by route and status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { firstLine } from '../../core/errors.js';
import type { App, Reply } from './context.js';
import { embeddings } from './embeddings.js';
import { authorized, CREATED, methodNotAllowed } from './http.js';
import { ApiError } from './openai.js';

export type Route = (app: App, req: IncomingMessage, res: ServerResponse) => Promise<Reply | undefined> | Reply;

const JSON_TYPE = 'application/json';

function health(app: App): Reply {
  const { encoder, error } = app.model;
  const body = encoder
    ? { status: 'ok', model: app.config.name }
    : error
      ? { status: 'error', message: error.message }
      : { status: 'loading' };
  return { status: encoder ? 200 : 503, body: JSON.stringify(body) };
}

function models(app: App): Reply {
  const data = [{ id: app.config.name, object: 'model', created: CREATED, owned_by: 'lsar' }];
  return { status: 200, body: JSON.stringify({ object: 'list', data }) };
}

function metrics(app: App): Reply {
  return { status: 200, body: app.metrics.render(), type: 'text/plain; version=0.0.4; charset=utf-8' };
}

/** The route table: `<METHOD> <path>` -> its function. */
export const ROUTES: Record<string, Route> = {
  'POST /v1/embeddings': embeddings,
  'GET /v1/models': models,
  'GET /health': health,
  'HEAD /health': health,
  'GET /metrics': metrics,
};

/** Routes that need no key. */
function isOpen(app: App, path: string): boolean {
  return path === '/health' || (path === '/metrics' && app.config.publicMetrics);
}

function send(app: App, res: ServerResponse, label: string, r: Reply): void {
  if (!res.headersSent) res.writeHead(r.status, { 'content-type': r.type ?? JSON_TYPE, ...r.headers });
  res.end(r.body);
  app.metrics.request(label, r.status, r.seconds);
}

function errorReply(e: ApiError): Reply {
  return { status: e.status, body: e.body(), headers: e.headers };
}

/** The request handler: find the route, check the key, answer (or map the error). */
export function router(app: App): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const paths = new Set(Object.keys(ROUTES).map((k) => k.split(' ')[1] as string));
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const method = req.method ?? 'GET';
    const label = paths.has(path) ? path : 'other';
    if (app.closing) res.setHeader('connection', 'close');
    try {
      const route = ROUTES[`${method} ${path}`];
      if (!isOpen(app, path) && app.config.keyDigest && !authorized(req.headers.authorization, app.config.keyDigest)) {
        throw new ApiError(
          401,
          req.headers.authorization
            ? 'Incorrect API key provided.'
            : "You didn't provide an API key: send it as Authorization: Bearer <key>.",
          'invalid_request_error',
          null,
          'invalid_api_key',
          { 'www-authenticate': 'Bearer' },
        );
      }
      if (!route) {
        if (!paths.has(path)) throw new ApiError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null, 'unknown_url');
        const allowed = Object.keys(ROUTES)
          .filter((k) => k.endsWith(` ${path}`) && !k.startsWith('HEAD '))
          .map((k) => k.split(' ')[0])
          .join(', ');
        throw methodNotAllowed(method, path, allowed);
      }
      const reply = await route(app, req, res);
      if (!reply || res.destroyed) {
        app.metrics.request(label, 499);
        return;
      }
      send(app, res, label, reply);
    } catch (e) {
      if (res.destroyed) {
        app.metrics.request(label, 499);
        return;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(app, res, label, errorReply(e instanceof ApiError ? e : new ApiError(500, `internal error: ${firstLine(e)}`, 'server_error')));
    }
  };
}
