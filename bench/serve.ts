/**
 * Serve: lsar serve (a child process, fixture model, 127.0.0.1 only) under 1, 8 and 64 concurrent
 * clients, each sending requests of INPUTS texts from the bundled corpora, against lsar embed's
 * offline throughput on the same texts; then an overload run past the queue limit (only 200 and
 * 503 expected, resident memory sampled). Bounded: a fixed number of texts per run, and a time cap.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { embedCorpora } from '../src/pipeline/embed.js';
import { ModelHandle } from '../src/pipeline/services/model.js';
import { corpusTexts } from './embed.js';
import { DIR, fmt, ROOT, SCALE, time } from './lib.js';
import type { Row } from './search.js';

const INPUTS = Number(process.env.BENCH_SERVE_INPUTS ?? '16');
const CAP_S = 120;

async function startServer(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'lsar.js'), 'serve', '--port', '0', '--json', '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0] as string) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`lsar serve exited (${code})`)));
  });
  return { child, url };
}

async function stopServer(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

async function rss(url: string): Promise<number> {
  const m = await (await fetch(`${url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)$/m.exec(m)?.[1] ?? NaN) / 2 ** 20;
}

/** `clients` loops, each posting INPUTS texts at a time, until `total` texts are sent. */
async function load(url: string, texts: string[], clients: number, total: number) {
  let next = 0;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const deadline = performance.now() + CAP_S * 1000;
  const worker = async () => {
    while (next < total && performance.now() < deadline) {
      const start = next;
      next += INPUTS;
      const input = Array.from({ length: INPUTS }, (_, k) => texts[(start + k) % texts.length] as string);
      const t0 = performance.now();
      const r = await fetch(`${url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input, encoding_format: 'base64' }),
      });
      await r.arrayBuffer();
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) latencies.push(performance.now() - t0);
    }
  };
  const [seconds] = await time(() => Promise.all(Array.from({ length: clients }, worker)));
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { seconds, ok: latencies.length * INPUTS, p50: q(0.5), p99: q(0.99), statuses };
}

export async function benchServe(rows: Row[]): Promise<void> {
  // the MiniLM geometry by default (what a served model costs); BENCH_SERVE_MODEL=tiny-bert for the fixture
  const name = process.env.BENCH_SERVE_MODEL ?? 'minilm-l12-h384';
  const tiny = name === 'tiny-bert';
  let model = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
  if (!tiny) {
    const { GEOMETRIES, writeFixture } = await import('../scripts/make-fixture-model.js');
    const g = GEOMETRIES[name];
    if (!g) throw new Error(`bench serve: unknown model ${name}`);
    model = join(DIR, 'models', name);
    if (!existsSync(join(model, 'onnx', 'model.onnx'))) writeFixture(model, join(ROOT, 'corpora'), g);
  }
  const texts = corpusTexts(Math.round((tiny ? 34_000 : 1024) * SCALE));
  // offline: lsar embed of the same texts, the model loaded beforehand (as the server has it)
  const base = join(DIR, 'serve');
  await rm(base, { recursive: true, force: true });
  const textFile = join(DIR, 'serve-texts.txt');
  await writeFile(textFile, texts.join('\n') + '\n');
  const handle = new ModelHandle({ model, offline: true });
  await handle.get();
  let tEmbed = Infinity;
  for (let rep = 0; rep < 2; rep++) {
    const [t] = await time(() => embedCorpora({ model, encoder: handle, force: true, input: [`xx=${textFile}`], out: base }));
    tEmbed = Math.min(tEmbed, t);
  }
  await handle.dispose();
  const offline = texts.length / tEmbed;
  console.log(`  ${fmt(texts.length)} texts from the bundled corpora, model ${name}, requests of ${INPUTS} texts`);
  console.log(`  lsar embed offline (model loaded, best of 2): ${tEmbed.toFixed(2)} s  ${fmt(offline)} sentences/s`);

  const { child, url } = await startServer(['--model', model, '--offline', '--max-batch', '32', '--truncate']);
  try {
    // warm up
    await load(url, texts, 8, tiny ? 2000 : 128);
    for (const clients of [1, 8, 64]) {
      // long enough for every client to send several requests (saturation, not a burst)
      const r = await load(url, texts, clients, Math.max(texts.length, 4 * clients * INPUTS));
      const tput = r.ok / r.seconds;
      console.log(
        `  ${String(clients).padStart(2)} clients: ${fmt(tput)} sentences/s (${((100 * tput) / offline).toFixed(0)}% of offline; target >= 85% at saturation)  latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms  statuses ${JSON.stringify(Object.fromEntries(r.statuses))}`,
      );
      rows.push({ stage: `serve ${clients} clients, sentences/s (vs lsar embed offline)`, lsar: tput, reference: offline, unit: '/s' });
    }
  } finally {
    console.log(`  lsar serve exit code after SIGTERM: ${await stopServer(child)}`);
  }

  // overload: a queue of 256 inputs against 64 clients x 16 inputs
  const over = await startServer(['--model', model, '--offline', '--max-batch', '32', '--max-queue', '256', '--truncate']);
  try {
    const start = await rss(over.url);
    // a first round warms up (allocator pools, JIT); memory must then stay flat
    await load(over.url, texts, 64, tiny ? 20_000 : 1024);
    const before = await rss(over.url);
    const samples: number[] = [];
    for (let round = 0; round < 4; round++) {
      const r = await load(over.url, texts, 64, tiny ? 20_000 : 1024);
      samples.push(await rss(over.url));
      const other = [...r.statuses.keys()].filter((s) => s !== 200 && s !== 503);
      console.log(
        `  overload round ${round + 2}: statuses ${JSON.stringify(Object.fromEntries(r.statuses))}${other.length ? ` UNEXPECTED ${other.join(',')}` : ''}; resident ${samples[round]?.toFixed(0)} MiB`,
      );
    }
    console.log(
      `  resident memory: ${start.toFixed(0)} MiB at start, ${before.toFixed(0)} MiB after a warm-up round, ${samples.map((x) => x.toFixed(0)).join(', ')} MiB after each further round`,
    );
    rows.push({
      stage: 'serve overload, resident MiB after 4 rounds (vs after warm-up)',
      lsar: samples[3] as number,
      reference: before,
      unit: 'MiB',
    });
  } finally {
    console.log(`  lsar serve exit code after SIGTERM: ${await stopServer(over.child)}`);
  }
  await rm(base, { recursive: true, force: true });
}
