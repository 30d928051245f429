import { createError } from '../../core/errors.js';
import { createServer } from '../../pipeline/serve/index.js';
import { defineCommand } from '../command.js';
import { numberOption, madeLikeArgs, withMadeLikeOptions } from '../options.js';

export const serveCommand = defineCommand({
  command: 'serve',
  describe: 'Serve embeddings over HTTP with the projection applied: the OpenAI embeddings API (POST /v1/embeddings)',
  builder: (y) =>
    withMadeLikeOptions(y, 'Model weights to load')
      .option('threads', numberOption('threads', { describe: 'onnxruntime intra-op threads (default: every core)', min: 1, max: 1024 }))
      .option('model', {
        type: 'string',
        demandOption: true,
        describe: 'Hub id or a local model directory (an lsar export is served as it is)',
      })
      .option('projection', {
        alias: 'p',
        type: 'string',
        describe: 'Projection from lsar fit (lsar or none; JSON, its directory, or .safetensors)',
      })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (0.0.0.0 for every interface)' })
      .option('port', numberOption('port', { describe: 'Port to listen on (0: any free port)', min: 0, max: 65_535, default: 8080 }))
      .option('name', {
        type: 'string',
        describe: "The model name in responses and /v1/models (default: the model's id + the projection's method and hash)",
      })
      .option('api-key', {
        type: 'string',
        describe: 'Require Authorization: Bearer <key> on every route but /health (default $LSAR_API_KEY)',
      })
      .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise the served vectors (after the projection)' })
      .option('max-length', numberOption('max-length', { describe: "Tokens per input at most (default: the model's maximum)", min: 2 }))
      .option(
        'max-tokens',
        numberOption('max-tokens', {
          describe: 'Token budget per forward pass (batch x longest input): long inputs in smaller batches',
          min: 1,
        }),
      )
      .option(
        'max-batch',
        numberOption('max-batch', { describe: 'Inputs per forward pass, across requests', min: 1, max: 4096, default: 32 }),
      )
      .option(
        'max-wait-ms',
        numberOption('max-wait-ms', { describe: 'How long an input waits for others to fill its batch', min: 0, max: 60_000, default: 5 }),
      )
      .option(
        'max-queue',
        numberOption('max-queue', { describe: 'Inputs waiting at most; beyond, 503 with Retry-After', min: 1, default: 4096 }),
      )
      .option(
        'max-body-bytes',
        numberOption('max-body-bytes', { describe: 'Request body size limit (413 beyond)', min: 64, default: 4 * 2 ** 20 }),
      )
      .option('max-inputs', numberOption('max-inputs', { describe: 'Inputs per request at most', min: 1, default: 2048 }))
      .option('max-chars', numberOption('max-chars', { describe: 'Characters per input at most', min: 1, default: 100_000 }))
      .option('truncate', {
        type: 'boolean',
        default: false,
        describe: 'Cut inputs beyond --max-chars or the maximum length, counted in usage.truncated_inputs (default: 400)',
      })
      .option(
        'timeout-ms',
        numberOption('timeout-ms', { describe: 'Per-request time limit (503 beyond; its work is dropped)', min: 1, default: 60_000 }),
      )
      .option('json', { type: 'boolean', default: false, describe: 'Print {"url", "model"} on stdout once ready' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No messages on stderr' })
      .group(
        [
          'model',
          'projection',
          'normalize',
          'layer',
          'pooling',
          'exclude-special',
          'max-length',
          'dtype',
          'cache-dir',
          'offline',
          'revision',
          'threads',
        ],
        'Model:',
      )
      .group(['host', 'port', 'name', 'api-key'], 'Server:')
      .group(
        ['max-batch', 'max-tokens', 'max-wait-ms', 'max-queue', 'max-body-bytes', 'max-inputs', 'max-chars', 'truncate', 'timeout-ms'],
        'Batching and limits:',
      )
      .example('$0 serve --model Xenova/LaBSE -p proj.json --port 8080', 'serve language-agnostic LaBSE embeddings')
      .example(`curl -s localhost:8080/v1/embeddings -H 'content-type: application/json' -d '{"input": ["Hallo Welt"]}'`, 'ask for one'),
  async run(a, io) {
    const apiKey = a.apiKey ?? process.env.LSAR_API_KEY;
    if (apiKey === '') throw createError('USAGE', '--api-key is empty', { param: 'apiKey' });
    const server = await createServer({
      model: a.model,
      ...madeLikeArgs(a),
      ...(a.projection !== undefined ? { projection: a.projection } : {}),
      normalize: a.normalize,
      ...(a.maxLength !== undefined ? { maxLength: a.maxLength } : {}),
      ...(typeof a.threads === 'number' ? { threads: a.threads } : {}),
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      maxBatch: a.maxBatch ?? 32,
      ...(typeof a.maxTokens === 'number' ? { maxTokens: a.maxTokens } : {}),
      maxWaitMs: a.maxWaitMs ?? 5,
      maxQueue: a.maxQueue ?? 4096,
      maxBodyBytes: a.maxBodyBytes ?? 4 * 2 ** 20,
      maxInputs: a.maxInputs ?? 2048,
      maxChars: a.maxChars ?? 100_000,
      truncate: a.truncate,
      timeoutMs: a.timeoutMs ?? 60_000,
    });
    const say = (s: string) => {
      if (!a.quiet) io.stderr.write(`lsar serve: ${s}\n`);
    };
    for (const w of server.warnings) if (!a.quiet) io.stderr.write(`lsar: warning: ${w}\n`);
    let stop: (() => void) | undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    const onSignal = (signal: string) => {
      say(`${signal}: finishing requests in flight, then exiting`);
      stop?.();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const { url } = await server.listen(a.port ?? 8080, a.host);
      say(`listening on ${url} (loading ${a.model})`);
      await Promise.race([server.ready, stopped]);
      if (await isReady(server.ready)) {
        say(`ready: ${server.model} at ${url}/v1/embeddings`);
        if (a.json) io.stdout.write(JSON.stringify({ url, model: server.model }) + '\n');
        await stopped;
      }
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await server.close();
    }
    await server.ready;
    say('stopped');
  },
});

async function isReady(p: Promise<void>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}
