/**
 * Embed: lsar embed against raw onnxruntime session.run on the same tokenised, length-sorted
 * batches (same thread count), and against PyTorch on CPU running the same weights
 * (bench/torch_embed.py, checked to 1e-4 against lsar's embeddings before it is timed), for
 * the fixture model and two compute-realistic geometries with random weights
 * (scripts/make-fixture-model.ts GEOMETRIES, built into .bench/models once).
 *
 * BENCH_EMBED_MODELS=tiny-bert,minilm-l12-h384,mbert-l12-h768 picks models;
 * BENCH_EMBED_SENTENCES overrides the texts per realistic model (default 1,020 and 510).
 */
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { DIR, fmt, PYTHON, pythonHas, ROOT, SCALE, time } from './lib.js';
import type { Row } from './search.js';

export interface EmbedResult {
  model: string;
  lsar_per_s: number;
  onnxruntime_per_s: number;
  torch_per_s: number | null;
  padding: number;
  rss_mib: number;
  /** lsar embed with a token budget per pass. */
  max_tokens: { max_tokens: number; lsar_per_s: number; padding: number };
}

const BATCH = 32;

export async function benchEmbed(rows: Row[]): Promise<{ results: EmbedResult[] }> {
  const { GEOMETRIES, writeFixture } = await import('../scripts/make-fixture-model.js');
  const wanted = (process.env.BENCH_EMBED_MODELS ?? 'tiny-bert,minilm-l12-h384,mbert-l12-h768').split(',');
  const results: EmbedResult[] = [];
  for (const name of wanted) {
    let model: string;
    if (name === 'tiny-bert') model = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
    else {
      const g = GEOMETRIES[name];
      if (!g) throw new Error(`bench embed: unknown model ${name}`);
      model = join(DIR, 'models', name);
      if (!existsSync(join(model, 'onnx', 'model.onnx'))) {
        console.log(`  building ${name} into ${model} (once)`);
        writeFixture(model, join(ROOT, 'corpora'), g);
      }
    }
    results.push(await benchModel(name, model, rows));
  }
  return { results };
}

/** Texts from every bundled corpus in turn (scripts and lengths mixed). */
export function corpusTexts(count: number): string[] {
  const corpora = join(ROOT, 'corpora');
  const files = readdirSync(corpora)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  const lines = files.map((f) =>
    readFileSync(join(corpora, f), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== ''),
  );
  const out: string[] = [];
  for (let i = 0; out.length < count && i < 1000; i++)
    for (const l of lines) if (out.length < count && l[i] !== undefined) out.push(l[i] as string);
  return out;
}

async function benchModel(name: string, model: string, rows: Row[]): Promise<EmbedResult> {
  const ortModule = await import('onnxruntime-node');
  const ort = (ortModule as unknown as { default?: typeof ortModule }).default ?? ortModule;
  const { Encoder } = await import('../src/adapters/transformers.js');
  const { embedCorpora, WINDOW_BATCHES } = await import('../src/pipeline/embed.js');
  const { ModelHandle, truncateIds } = await import('../src/pipeline/services/model.js');
  const { planBatches } = await import('../src/core/batching.js');
  const tiny = name === 'tiny-bert';
  const defaultCount = tiny ? 34_000 : name.startsWith('minilm') ? 1020 : 510;
  const count = Math.max(64, Math.round((Number(process.env.BENCH_EMBED_SENTENCES) || defaultCount) * SCALE));
  const texts = corpusTexts(count);
  const textFile = join(DIR, `embed-${name}.txt`);
  await writeFile(textFile, texts.join('\n') + '\n');
  const threads = availableParallelism();
  const reps = tiny ? 3 : 1;

  // the batches lsar embed makes: windows of 8 batches sorted by length
  const enc = await Encoder.load({ model, offline: true });
  const ids = texts.map((t) => truncateIds(enc, enc.encode(t), enc.maxLength));
  await enc.dispose();
  const batches: { idx: number[]; ids: number[][] }[] = [];
  const window = BATCH * WINDOW_BATCHES;
  let real = 0;
  let padded = 0;
  // the windows and batches lsar embed makes (planBatches), so the raw run computes the same passes
  for (let w = 0; w < ids.length; w += window) {
    const win = ids.slice(w, w + window);
    const plan = planBatches(
      win.map((t) => t.length),
      BATCH,
    );
    real += plan.tokens;
    padded += plan.positions;
    for (const b of plan.batches) batches.push({ idx: b.map((i) => w + i), ids: b.map((i) => win[i] as number[]) });
  }
  const padding = 1 - real / padded;

  // raw onnxruntime on the same batches, same threads
  const session = await ort.InferenceSession.create(join(model, 'onnx', 'model.onnx'), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const feeds = batches.map(({ ids: seqs }) => {
    const s = Math.max(...seqs.map((x) => x.length));
    const t = new BigInt64Array(seqs.length * s);
    const m = new BigInt64Array(seqs.length * s);
    seqs.forEach((seq, i) =>
      seq.forEach((tok, j) => {
        t[i * s + j] = BigInt(tok);
        m[i * s + j] = 1n;
      }),
    );
    return {
      input_ids: new ort.Tensor('int64', t, [seqs.length, s]),
      attention_mask: new ort.Tensor('int64', m, [seqs.length, s]),
      token_type_ids: new ort.Tensor('int64', new BigInt64Array(seqs.length * s), [seqs.length, s]),
    };
  });
  for (const f of feeds.slice(0, tiny ? 20 : 2)) await session.run(f, ['last_hidden_state']);
  let tRaw = Infinity;
  for (let rep = 0; rep < reps; rep++) {
    const [t] = await time(async () => {
      for (const f of feeds) await session.run(f, ['last_hidden_state']);
    });
    tRaw = Math.min(tRaw, t);
  }
  await session.release();

  // lsar embed, end to end (load excluded: timed from the first batch through the written file)
  const out = join(DIR, `embed-${name}`);
  await rm(out, { recursive: true, force: true });
  // the model loaded once beforehand and warmed up on a few texts, as the raw session was
  const handle = new ModelHandle({ model, offline: true, threads });
  await handle.get();
  const warm = join(DIR, `embed-${name}-warm.txt`);
  await writeFile(warm, texts.slice(0, 2 * BATCH).join('\n') + '\n');
  await embedCorpora({ model, encoder: handle, force: true, input: [`xx=${warm}`], out: `${out}-warm`, batchSize: BATCH });
  await rm(`${out}-warm`, { recursive: true, force: true });
  await rm(warm, { force: true });
  // lsar embed of the texts with the loaded model (extra options: the token-budget run)
  const embedTexts = (o: { out: string; maxTokens?: number; onLanguage?: (p: { padding?: number }) => void }) =>
    embedCorpora({ model, encoder: handle, force: true, input: [`xx=${textFile}`], batchSize: BATCH, ...o });
  let tLsar = Infinity;
  let rss = 0;
  for (let rep = 0; rep < reps; rep++) {
    const [t] = await time(() => embedTexts({ out, onLanguage: () => (rss = Math.max(rss, process.memoryUsage().rss / 2 ** 20)) }));
    tLsar = Math.min(tLsar, t);
  }
  // and with a token budget (BENCH_EMBED_MAX_TOKENS, default 1024): long sentences in smaller batches
  const maxTokens = Number(process.env.BENCH_EMBED_MAX_TOKENS ?? '1024');
  let budgetPadding = 0;
  const [tBudget] = await time(() => embedTexts({ out: `${out}-budget`, maxTokens, onLanguage: (p) => (budgetPadding = p.padding ?? 0) }));
  await rm(`${out}-budget`, { recursive: true, force: true });
  await handle.dispose();
  const lsarPerS = texts.length / tLsar;
  const budgetPerS = texts.length / tBudget;

  // PyTorch on the same batches and weights
  let torchPerS: number | null = null;
  let torchNote = '';
  if (!tiny && pythonHas('torch', 'onnx', 'numpy')) {
    const bfile = join(DIR, `embed-${name}-batches.json`);
    await writeFile(bfile, JSON.stringify(batches));
    try {
      const r = JSON.parse(
        execFileSync(
          PYTHON,
          [
            join(ROOT, 'bench', 'torch_embed.py'),
            '--model',
            model,
            '--batches',
            bfile,
            '--threads',
            String(threads),
            '--check',
            join(out, 'xx.npy'),
          ],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          },
        )
          .trim()
          .split('\n')
          .pop() as string,
      ) as { per_s: number; max_abs_diff: number; torch: string };
      torchPerS = r.per_s;
      torchNote = `torch ${r.torch}, its embeddings within ${r.max_abs_diff.toExponential(1)} of lsar's`;
    } catch (e) {
      torchNote = `failed: ${String((e as { stdout?: string }).stdout ?? e).trim()}`;
    }
    await rm(bfile, { force: true });
  } else
    torchNote = tiny
      ? 'not run on the fixture model'
      : 'skipped: /usr/bin/python3 with torch, onnx and numpy not found (apt-get install python3-torch python3-onnx)';
  await rm(out, { recursive: true, force: true });

  const n = texts.length;
  const rawPerS = n / tRaw;
  console.log(
    `embed ${name}: ${fmt(n)} sentences from the bundled corpora, batch ${BATCH}, ${threads} threads, padding ${(100 * padding).toFixed(1)}%`,
  );
  console.log(`  raw onnxruntime session.run (pre-tokenised): ${fmt(rawPerS)} sentences/s`);
  console.log(
    `  lsar embed (tokenise, sort, run, pool, write; model loaded beforehand): ${fmt(lsarPerS)} sentences/s  = ${((100 * lsarPerS) / rawPerS).toFixed(0)}% of raw (target >= ${tiny ? '87' : '91'}%)   resident ${Math.round(rss)} MiB`,
  );
  console.log(
    `  lsar embed --max-tokens ${maxTokens}: ${fmt(budgetPerS)} sentences/s (${((100 * budgetPerS) / lsarPerS).toFixed(0)}% of lsar's default batches), padding ${(100 * budgetPadding).toFixed(1)}%`,
  );
  console.log(
    `  PyTorch CPU, same weights and batches: ${torchPerS !== null ? `${fmt(torchPerS)} sentences/s; lsar/torch ${(lsarPerS / torchPerS).toFixed(2)}x (target >= 1.3x); ${torchNote}` : torchNote}`,
  );
  rows.push({ stage: `embed ${name} sentences/s (vs raw onnxruntime)`, lsar: lsarPerS, reference: rawPerS, unit: '/s' });
  if (torchPerS !== null) rows.push({ stage: `embed ${name} sentences/s (vs PyTorch)`, lsar: lsarPerS, reference: torchPerS, unit: '/s' });
  return {
    model: name,
    lsar_per_s: lsarPerS,
    onnxruntime_per_s: rawPerS,
    torch_per_s: torchPerS,
    padding,
    rss_mib: rss,
    max_tokens: { max_tokens: maxTokens, lsar_per_s: budgetPerS, padding: budgetPadding },
  };
}
