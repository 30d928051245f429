import { createServer, serveSchema } from '../../pipeline/serve/index.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const serveCommand = defineCommand({
  name: 'serve',
  describe: 'Serve embeddings over HTTP with the projection applied: the OpenAI embeddings API (POST /v1/embeddings)',
  schema: {
    ...serveSchema,
    json: { ...outputSchema.json, description: 'Print {"url", "model"} on stdout once ready' },
    quiet: { ...outputSchema.quiet, description: 'No messages on stderr' },
  },
  examples: [
    ['$0 serve --model Xenova/LaBSE -p proj.json --port 8080', 'serve language-agnostic LaBSE embeddings'],
    [`curl -s localhost:8080/v1/embeddings -H 'content-type: application/json' -d '{"input": ["Hallo Welt"]}'`, 'ask for one'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const server = await createServer({ ...o, apiKey: o.apiKey ?? process.env.LSAR_API_KEY, events: ui.events });
    const say = (s: string) => {
      if (!o.quiet) io.stderr.write(`lsar serve: ${s}\n`);
    };
    for (const w of server.warnings) ui.events.warn?.('NO_MANIFEST', w);
    let stop: (() => void) | undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    const onSignal = (signal: string) => {
      say(`${signal}: finishing requests in flight, then exiting`);
      stop?.();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const { url } = await server.listen();
      say(`listening on ${url} (loading ${o.model})`);
      await Promise.race([server.ready, stopped]);
      if (await isReady(server.ready)) {
        say(`ready: ${server.model} at ${url}/v1/embeddings`);
        if (o.json) io.stdout.write(JSON.stringify({ url, model: server.model }) + '\n');
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
