/**
 * lsar serve on 127.0.0.1 (ephemeral ports) with the offline fixture model: the official openai
 * client gets what lsar embed + lsar project give (1e-5), every fault has its status and message,
 * and the server keeps serving after each.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Projection } from '../../src/core/projection.js';
import { loadProjection } from '../../src/io/artifact.js';
import { readNpy } from '../../src/io/npy.js';
import { embedCorpora } from '../../src/pipeline/embed.js';
import { fitToArtifact } from '../../src/pipeline/fit.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { projectStream } from '../../src/pipeline/project/index.js';
import { createServer, type LsarServer, type ServeOptions } from '../../src/pipeline/serve/index.js';
import { planted, ROOT, tempDir } from '../helpers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const MODEL = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
// short lines: within the fixture model's 128 tokens, so that no truncation differs between embed and serve
const TEXTS = readFileSync(join(ROOT, 'corpora', 'de.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0 && l.length < 150)
  .slice(0, 64);

let work: string;
let projPath: string;
let projection: Projection;
/** lsar embed + lsar project of TEXTS: the rows the server must give. */
let expected: Float32Array;
let dim: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'lsar-serve-'));
  const emb = join(work, 'emb');
  await embedCorpora({
    model: MODEL,
    offline: true,
    input: ['de', 'fr', 'es'].map((l) => `${l}=${join(ROOT, 'corpora', `${l}.txt`)}`),
    out: emb,
  });
  projPath = (await fitToArtifact({ dir: emb, method: 'lsar', out: join(work, 'proj.json') })).path;
  projection = await loadProjection(projPath);
  await writeFile(join(work, 'texts.txt'), TEXTS.join('\n') + '\n');
  await embedCorpora({ model: MODEL, offline: true, input: [`xx=${join(work, 'texts.txt')}`], out: join(work, 'texts') });
  await projectStream(projection, { input: join(work, 'texts', 'xx.npy'), output: join(work, 'texts.lsar.npy') });
  const e = await readNpy(join(work, 'texts.lsar.npy'));
  expected = e.data as Float32Array;
  dim = e.dim;
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const servers: LsarServer[] = [];
async function start(o: Partial<ServeOptions> = {}): Promise<{ server: LsarServer; url: string }> {
  const server = await createServer({ model: MODEL, offline: true, projection: projPath, ...o });
  servers.push(server);
  const { url } = await server.listen(0, '127.0.0.1');
  await server.ready;
  return { server, url };
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

function maxDiff(rows: number[][], idx: number[]): number {
  let m = 0;
  rows.forEach((r, i) => {
    expect(r).toHaveLength(dim);
    const o = (idx[i] as number) * dim;
    r.forEach((x, k) => (m = Math.max(m, Math.abs(x - (expected[o + k] as number)))));
  });
  return m;
}

/** A JSON body as the tests read it (fields checked by the assertions). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, json: (await r.json()) as Json };
}

/** The server still answers a normal request correctly. */
async function stillServes(url: string, headers: Record<string, string> = {}) {
  const r = await post(url, { input: [TEXTS[3], TEXTS[4]] }, headers);
  expect(r.status).toBe(200);
  expect(
    maxDiff(
      r.json.data.map((d: { embedding: number[] }) => d.embedding),
      [3, 4],
    ),
  ).toBeLessThan(1e-5);
}

describe('the openai client against lsar serve', () => {
  let url: string;
  let client: OpenAI;
  let server: LsarServer;
  beforeAll(async () => {
    ({ server, url } = await start());
    client = new OpenAI({ apiKey: 'unused', baseURL: `${url}/v1`, maxRetries: 0 });
  });

  it('a string: one row equal to lsar embed + lsar project (1e-5); usage counts tokens; the model name says the projection', async () => {
    const r = await client.embeddings.create({ model: 'anything', input: TEXTS[0] as string, encoding_format: 'float' });
    expect(r.object).toBe('list');
    expect(r.data).toHaveLength(1);
    expect(r.data[0]).toMatchObject({ object: 'embedding', index: 0 });
    expect(maxDiff([r.data[0]!.embedding], [0])).toBeLessThan(1e-5);
    expect(r.model).toMatch(/^tiny-bert\+lsar-[0-9a-f]{16}$/);
    expect(r.model).toBe(server.model);
    expect(r.usage.prompt_tokens).toBeGreaterThan(2);
    expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens);
  });

  it('an array of 64: every row in order (1e-5); the client default (base64, decoded by the client) gives the same', async () => {
    const r = await client.embeddings.create({ model: 'm', input: TEXTS, encoding_format: 'float' });
    expect(r.data.map((d) => d.index)).toEqual(TEXTS.map((_, i) => i));
    expect(
      maxDiff(
        r.data.map((d) => d.embedding),
        TEXTS.map((_, i) => i),
      ),
    ).toBeLessThan(1e-5);
    const b = await client.embeddings.create({ model: 'm', input: TEXTS.slice(0, 5) });
    expect(
      maxDiff(
        b.data.map((d) => d.embedding),
        [0, 1, 2, 3, 4],
      ),
    ).toBeLessThan(1e-5);
  });

  it('encoding_format base64: little-endian float32 bytes of the same rows (exactly the float rows)', async () => {
    const f = await client.embeddings.create({ model: 'm', input: TEXTS.slice(0, 3), encoding_format: 'float' });
    const r = await post(url, { input: TEXTS.slice(0, 3), encoding_format: 'base64' });
    expect(r.status).toBe(200);
    r.json.data.forEach((d: { embedding: string }, i: number) => {
      const buf = Buffer.from(d.embedding, 'base64');
      const v = Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4));
      expect(v).toEqual(f.data[i]!.embedding);
    });
  });

  it('32 concurrent clients, each with its own inputs: each response holds exactly its rows, in its order; batches were shared', async () => {
    const before = server.metrics.batches;
    const sets = Array.from({ length: 32 }, (_, c) => Array.from({ length: 1 + (c % 7) }, (_, k) => (c * 5 + k * 11) % TEXTS.length));
    const results = await Promise.all(
      sets.map((idx) => client.embeddings.create({ model: 'm', input: idx.map((i) => TEXTS[i] as string), encoding_format: 'float' })),
    );
    results.forEach((r, c) => {
      const idx = sets[c] as number[];
      expect(r.data).toHaveLength(idx.length);
      expect(
        maxDiff(
          r.data.map((d) => d.embedding),
          idx,
        ),
      ).toBeLessThan(1e-5);
    });
    const inputs = sets.reduce((n, s) => n + s.length, 0);
    // dynamic batching: far fewer forward passes than inputs
    expect(server.metrics.batches - before).toBeLessThan(inputs / 2);
  });

  it('GET /v1/models lists the served model; /metrics is Prometheus text', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([server.model]);
    const m = await (await fetch(`${url}/metrics`)).text();
    expect(m).toMatch(/^lsar_requests_total\{route="\/v1\/embeddings",code="200"\} \d+$/m);
    expect(m).toMatch(/^lsar_batch_size_bucket\{le="\+Inf"\} \d+$/m);
    expect(m).toMatch(/^lsar_request_duration_seconds_count \d+$/m);
    expect(m).toMatch(/^lsar_queue_depth \d+$/m);
  });
});

describe('faults: status, OpenAI error shape, and the server keeps serving', () => {
  let url: string;
  beforeAll(async () => {
    ({ url } = await start({ maxInputs: 8, maxBodyBytes: 4096, maxChars: 300 }));
  });

  it.each([
    ['malformed JSON', '{"input": ["a",', 400, /could not parse the JSON body/, null],
    ['a body that is no object', '[1, 2]', 400, /must be a JSON object, got an array/, null],
    ['input missing', { model: 'm' }, 400, /'input' is a required property/, 'input'],
    ['input of the wrong type', { input: 5 }, 400, /'input' must be a string or an array of strings, got a number/, 'input'],
    ['an item of the wrong type', { input: ['a', null] }, 400, /'input\[1\]' must be a string, got null/, 'input'],
    ['token ids', { input: [[101, 2023, 102]] }, 400, /token ids: lsar serve takes text only/, 'input'],
    ['an empty array', { input: [] }, 400, /must not be an empty array/, 'input'],
    ['an empty string', { input: ['a', ''] }, 400, /'input\[1\]' is an empty string/, 'input'],
    ['too many inputs', { input: Array(9).fill('a') }, 400, /holds 9 items; at most 8/, 'input'],
    ['an input too long', { input: ['x'.repeat(301)] }, 400, /has 301 characters; at most 300/, 'input'],
    [
      'dimensions other than d',
      { input: 'a', dimensions: 8 },
      400,
      /'dimensions' 8 would need a truncation, which a projection is not/,
      'dimensions',
    ],
    [
      'a bad encoding_format',
      { input: 'a', encoding_format: 'int8' },
      400,
      /'encoding_format' must be "float" or "base64"/,
      'encoding_format',
    ],
    ['an unknown field', { input: 'a', temperature: 1 }, 400, /unrecognized request argument supplied: temperature/, 'temperature'],
    ['a body too large', { input: ['y'.repeat(5000)] }, 413, /request body is \d+ bytes; at most 4096/, null],
  ] as const)('%s', async (_name, body, status, message, param) => {
    const r = await post(url, body);
    expect(r.status).toBe(status);
    expect(Object.keys(r.json)).toEqual(['error']);
    expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(r.json.error.message).toMatch(message);
    expect(r.json.error.type).toBe('invalid_request_error');
    expect(r.json.error.param).toBe(param);
    await stillServes(url);
  });

  it('a token budget per pass (maxTokens) changes the batches, not the rows (1e-5)', async () => {
    const { url: u, server } = await start({ maxTokens: 64 });
    const idx = Array.from({ length: 20 }, (_, i) => i);
    const r = await post(u, { input: idx.map((i) => TEXTS[i]) });
    expect(r.status).toBe(200);
    expect(
      maxDiff(
        r.json.data.map((d: { embedding: number[] }) => d.embedding),
        idx,
      ),
    ).toBeLessThan(1e-5);
    expect(server.metrics.batches).toBeGreaterThan(1);
  });

  it('dimensions equal to d is accepted', async () => {
    const r = await post(url, { input: TEXTS[0], dimensions: dim });
    expect(r.status).toBe(200);
  });

  it('whiten with dims 4: rows of 4 values equal to lsar project with it (1e-4 relative), dimensions checked against 4', async () => {
    const w = (await fitToArtifact({ dir: join(work, 'emb'), method: 'whiten', dims: 4, out: join(work, 'whiten.json') })).path;
    await projectStream(await loadProjection(w), { input: join(work, 'texts', 'xx.npy'), output: join(work, 'texts.whiten.npy') });
    const want = await readNpy(join(work, 'texts.whiten.npy'));
    expect(want.dim).toBe(4);
    const ws = await start({ projection: w });
    const r = await post(ws.url, { input: [TEXTS[0], TEXTS[2]] });
    expect(r.status).toBe(200);
    const rows = r.json.data.map((d: { embedding: number[] }) => d.embedding) as number[][];
    const scale = Math.max(...Array.from(want.data, Math.abs));
    [0, 2].forEach((t, i) => {
      expect(rows[i]).toHaveLength(4);
      rows[i]?.forEach((x, k) => expect(Math.abs(x - (want.data[t * 4 + k] as number)) / scale).toBeLessThan(1e-4));
    });
    expect((await post(ws.url, { input: TEXTS[0], dimensions: 4 })).status).toBe(200);
    expect((await post(ws.url, { input: TEXTS[0], dimensions: dim })).status).toBe(400);
  });

  it('an unknown route is 404, a wrong method 405 with Allow', async () => {
    let r = await fetch(`${url}/v1/completions`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(404);
    expect(((await r.json()) as Json).error.message).toBe('Invalid URL (POST /v1/completions)');
    r = await fetch(`${url}/v1/embeddings`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    await stillServes(url);
  });

  it('with truncation on: long inputs are cut and counted in usage.truncated_inputs', async () => {
    const { url: u } = await start({ maxChars: 300, maxLength: 8, truncate: true });
    const long = TEXTS.slice(0, 6).join(' ');
    const r = await post(u, { input: [long, 'kurz'] });
    expect(r.status).toBe(200);
    expect(r.json.usage.truncated_inputs).toBe(1);
    expect(r.json.usage.prompt_tokens).toBeLessThanOrEqual(8 + 8);
    // the same limits without truncation: the long input is refused, not cut
    const { url: strict } = await start({ maxChars: 300, maxLength: 8 });
    const off = await post(strict, { input: [long, 'kurz'] });
    expect(off.status).toBe(400);
    expect(off.json.error.code).toBe('input_too_long');
  });

  it('inputs beyond the model maximum length are refused without truncation (context_length_exceeded)', async () => {
    const { url: u } = await start({ maxLength: 8 });
    const r = await post(u, { input: ['kurz', TEXTS.slice(0, 3).join(' ')] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'context_length_exceeded', param: 'input' });
    expect(r.json.error.message).toMatch(/maximum context length is 8 tokens, however 'input\[1\]' has \d+ tokens/);
    expect((await post(u, { input: ['kurz'] })).status).toBe(200);
  });

  it('a bearer key: 401 without it or with a wrong one (WWW-Authenticate), 200 with it; /health needs none', async () => {
    const { url: u } = await start({ apiKey: 's3cret' });
    let r = await post(u, { input: 'a' });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('invalid_api_key');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    r = await post(u, { input: 'a' }, { authorization: 'Bearer s3cretX' });
    expect(r.status).toBe(401);
    expect(r.json.error.message).toBe('Incorrect API key provided.');
    expect((await fetch(`${u}/health`)).status).toBe(200);
    expect((await fetch(`${u}/v1/models`)).status).toBe(401);
    await stillServes(u, { authorization: 'Bearer s3cret' });
    const client = new OpenAI({ apiKey: 's3cret', baseURL: `${u}/v1`, maxRetries: 0 });
    expect((await client.embeddings.create({ model: 'm', input: 'a' })).data).toHaveLength(1);
  });

  it('a full queue answers 503 with Retry-After; requests already queued complete', async () => {
    const { url: u } = await start({ maxQueue: 4, maxInputs: 4, maxBatch: 64, maxWaitMs: 400 });
    const first = post(u, { input: [TEXTS[0], TEXTS[1], TEXTS[2]] });
    await new Promise((r) => setTimeout(r, 50));
    const second = await post(u, { input: [TEXTS[3], TEXTS[4]] });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.json.error).toMatchObject({ type: 'server_error', code: 'queue_full' });
    expect(second.json.error.message).toMatch(/the queue holds 3 inputs \(limit 4\)/);
    const f = await first;
    expect(f.status).toBe(200);
    expect(
      maxDiff(
        f.json.data.map((d: { embedding: number[] }) => d.embedding),
        [0, 1, 2],
      ),
    ).toBeLessThan(1e-5);
    await stillServes(u);
  });

  it('a request past its timeout gets 503 and its work is dropped', async () => {
    const { url: u, server } = await start({ timeoutMs: 50, maxBatch: 64, maxWaitMs: 300 });
    const sentences = server.metrics.sentences;
    const r = await post(u, { input: [TEXTS[0]] });
    expect(r.status).toBe(503);
    expect(r.json.error).toMatchObject({ code: 'timeout', type: 'server_error' });
    expect(r.json.error.message).toMatch(/did not complete within 50 ms/);
    await new Promise((res) => setTimeout(res, 350));
    expect(server.metrics.sentences).toBe(sentences);
    expect(server.metrics.batches).toBe(0);
  });

  it('a client that disconnects mid-request: its work is dropped, the others get their rows', async () => {
    const { url: u, server } = await start({ maxBatch: 64, maxWaitMs: 200 });
    const ac = new AbortController();
    const gone = fetch(`${u}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: TEXTS.slice(10, 40) }),
      signal: ac.signal,
    }).catch((e: Error) => e);
    const other = post(u, { input: [TEXTS[5]] });
    await new Promise((r) => setTimeout(r, 60));
    ac.abort();
    expect(await gone).toBeInstanceOf(Error);
    const o = await other;
    expect(o.status).toBe(200);
    expect(maxDiff([o.json.data[0].embedding], [5])).toBeLessThan(1e-5);
    // only the remaining request's input ran
    expect(server.metrics.batchSize.sum).toBe(1);
    await stillServes(u);
    const m = server.metrics.render();
    expect(m).toMatch(/lsar_requests_total\{route="\/v1\/embeddings",code="499"\} 1/);
  });
});

describe('lifetime', () => {
  it('/health is 503 while the model loads, 200 once ready; a model that cannot load gives 503 on /health and 500 on embeddings', async () => {
    const server = await createServer({ model: MODEL, offline: true });
    servers.push(server);
    const { url } = await server.listen(0);
    const early = await fetch(`${url}/health`);
    expect(early.status).toBe(503);
    expect(await early.json()).toEqual({ status: 'loading' });
    await server.ready;
    expect((await fetch(`${url}/health`)).status).toBe(200);

    const dir = await tempDir();
    const broken = await createServer({ model: join(dir, 'no-such-model'), offline: true });
    servers.push(broken);
    const b = await broken.listen(0);
    await expect(broken.ready).rejects.toThrow(/no-such-model/);
    const h = await fetch(`${b.url}/health`);
    expect(h.status).toBe(503);
    expect(((await h.json()) as Json).status).toBe('error');
    const r = await post(b.url, { input: 'a' });
    expect(r.status).toBe(500);
    expect(r.json.error.message).toMatch(/the model could not be loaded/);
  });

  it('close(): stops accepting, and requests in flight complete with their rows', async () => {
    const server = await createServer({ model: MODEL, offline: true, projection: projPath, maxBatch: 64, maxWaitMs: 200 });
    const { url } = await server.listen(0);
    await server.ready;
    const inflight = [post(url, { input: [TEXTS[0], TEXTS[1]] }), post(url, { input: [TEXTS[2]] })];
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close();
    const [a, b] = await Promise.all(inflight);
    expect([a!.status, b!.status]).toEqual([200, 200]);
    expect(
      maxDiff(
        a!.json.data.map((d: { embedding: number[] }) => d.embedding),
        [0, 1],
      ),
    ).toBeLessThan(1e-5);
    await closing;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('refuses lir (it needs each input language) and a projection fitted on another dimension', async () => {
    const lir = fitFromArrays(planted(['de', 'fr'], 20, dim), dim, { method: 'lir' });
    await expect(createServer({ model: MODEL, offline: true, projection: lir })).rejects.toThrow(/lir needs each input's language/);
    const other = fitFromArrays(planted(['de', 'fr', 'es'], 20, 4), 4, { method: 'lsar' });
    const s = await createServer({ model: MODEL, offline: true, projection: other });
    servers.push(s);
    await expect(s.ready).rejects.toThrow(/gives \d+ dimensions, but the projection was fitted on 4/);
  });

  it('bin/lsar.js serve: SIGTERM finishes the request in flight, then exits 0', async () => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'lsar.js'),
        'serve',
        '--model',
        MODEL,
        '--offline',
        '--port',
        '0',
        '--json',
        '--max-wait-ms',
        '300',
        '--max-batch',
        '64',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      child.on('exit', () => reject(new Error(`exited early: ${err}`)));
    });
    const { url } = JSON.parse(line) as { url: string };
    const pending = post(url, { input: [TEXTS[0]] });
    await new Promise((r) => setTimeout(r, 50));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const r = await pending;
    expect(r.status).toBe(200);
    expect(await exited).toBe(0);
    clearTimeout(killer);
    expect(err).toMatch(/SIGTERM: finishing requests in flight/);
    expect(err).toMatch(/stopped\n$/);
  }, 40_000);
});
