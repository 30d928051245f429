/**
 * `lsar serve`: an OpenAI-compatible embeddings endpoint (POST /v1/embeddings, GET /v1/models,
 * GET /health, GET /metrics) with the projection applied. ./app.ts is the application (config,
 * model, lifecycle), ./routes.ts the route table, ./embeddings.ts the embeddings route;
 * ./batcher.ts, ./openai.ts, ./http.ts and ./metrics.ts what they say.
 */
export { createServer, serveSchema, type LsarServer, type ServeOptions } from './app.js';
