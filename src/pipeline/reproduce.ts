/**
 * `lsar reproduce`: the paper's tables in one command (Xie et al., EMNLP 2022, Tables 1 and 3):
 * for each model, LSAR fitted on the bundled monolingual corpora, evaluated on Tatoeba (36
 * XTREME languages, accuracy@1, English queries) and LAReQA (XQuAD-R, mAP), rank swept as the
 * paper did (every rank 1..L-1, the best reported beside the default L-1), printed beside the
 * paper's numbers. Each model is a Hub id or a local directory (`name=path[@layer]`); the data are
 * local paths. Every number comes from `retrieve` (the same runs `lsar retrieve` makes).
 */
import { createError, opt } from '../core/errors.js';
import type { Events } from '../core/events.js';
import { validate, type OptionsOf, type Schema } from '../core/schema.js';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readError } from '../io/fs-errors.js';
import { retrieve, type RetrieveResult } from './retrieve/index.js';
import { embedBatch, ModelHandle, modelOptions, modelRowSettings } from './services/model.js';

/** The paper's numbers (none -> LSAR) for the models it reports, by the names used here. */
export const PAPER: Record<string, { tatoeba?: [number, number]; lareqa?: [number, number]; model: string; layer?: number }> = {
  mbert: { model: 'Xenova/bert-base-multilingual-cased', layer: 8, tatoeba: [37.53, 44.64], lareqa: [23.36, 45.89] },
  'xlm-r': { model: 'Xenova/xlm-roberta-large', layer: 11, tatoeba: [57.68, 65.05] },
  labse: { model: 'Xenova/LaBSE', tatoeba: [95.47, 95.54] },
};

export const reproduceSchema = {
  models: {
    type: 'strings',
    default: ['mbert', 'xlm-r', 'labse'],
    description:
      "Models: mbert, xlm-r, labse (the paper's, from the Hub: Xenova/bert-base-multilingual-cased layer 8, Xenova/xlm-roberta-large layer 11, Xenova/LaBSE), or name=<Hub id or directory>[@layer] (a paper name keeps its paper numbers)",
  },
  tasks: {
    type: 'strings',
    choices: ['tatoeba', 'lareqa'],
    default: ['tatoeba', 'lareqa'],
    description: 'Tables to make: tatoeba (accuracy@1), lareqa (XQuAD-R mAP)',
  },
  rank: {
    type: 'integers',
    min: 1,
    description: 'LSAR ranks to sweep, comma-separated (ranks above min(L-1, d-1) are dropped; the default rank is always run)',
    defaultText: 'every rank 1..min(L-1, d-1), as the paper',
  },
  tatoeba: { type: 'string', description: 'Directory of LASER Tatoeba v1 (tatoeba.<xxx>-eng.*)', defaultText: '../shared/data/tatoeba' },
  xquadR: { type: 'string', description: 'Directory of XQuAD-R <lang>.json (LAReQA)', defaultText: '../shared/data/xquad-r' },
  corpora: { type: 'string', default: 'corpora', description: 'Monolingual corpora the methods are fitted on (<lang>.txt)' },
  report: { type: 'string', description: "Write each run's report (report.md, report.html) under this directory, one per model and task" },
  offline: { type: 'boolean', default: false, description: 'Never download: models from the cache or local directories only' },
  cacheDir: { type: 'string', description: 'Where Hub downloads are cached' },
  embedDir: { type: 'string', description: 'The embedding cache (embeddings of texts kept and reused)' },
} as const satisfies Schema;

export type ReproduceOptions = OptionsOf<typeof reproduceSchema> & { events?: Events };

export interface ReproduceRow {
  name: string;
  model: string;
  layer?: number;
  task: 'tatoeba' | 'lareqa';
  metric: string;
  none: number;
  /** LSAR at rank L-1 (the default), and the best of the rank sweep with its rank. */
  lsar: number;
  best: { rank: number; value: number };
  paper?: [number, number];
  languages: number;
  /** The model says it is a test model (config.json lsar_note): its numbers mean nothing. */
  testModel: boolean;
}

/** A model spec: a paper name, or name=<id or dir>[@layer]. */
export function parseModel(spec: string): { name: string; model: string; layer?: number } {
  const eq = spec.indexOf('=');
  if (eq < 0) {
    const p = PAPER[spec];
    if (!p)
      throw createError(
        'USAGE',
        `${opt('models')} ${spec}: expected one of ${Object.keys(PAPER).join(', ')} or name=<Hub id or directory>[@layer]`,
        {
          param: 'models',
        },
      );
    return { name: spec, model: p.model, ...(p.layer !== undefined ? { layer: p.layer } : {}) };
  }
  const name = spec.slice(0, eq);
  const rest = spec.slice(eq + 1);
  const at = /^(.*)@(\d+)$/.exec(rest);
  if (!name || !rest)
    throw createError('USAGE', `${opt('models')} ${spec}: expected name=<Hub id or directory>[@layer]`, { param: 'models' });
  return { name, model: at ? (at[1] as string) : rest, ...(at ? { layer: Number(at[2]) } : {}) };
}

/** Run every model on both tasks; the rows of the table, in order. */
export async function reproduce(given: ReproduceOptions): Promise<{ rows: ReproduceRow[]; missing: string[] }> {
  const o = validate(reproduceSchema, given);
  const models = o.models.map(parseModel);
  const tasks = (
    [
      { task: 'tatoeba', data: o.tatoeba },
      { task: 'lareqa', data: o.xquadR },
    ] as const
  ).filter((t) => (o.tasks as string[]).includes(t.task));
  const missing = tasks.filter((t) => t.data === undefined).map((t) => (t.task === 'tatoeba' ? opt('tatoeba') : opt('xquadR')));
  if (missing.length === tasks.length)
    throw createError('USAGE', `give ${opt('tatoeba')} and/or ${opt('xquadR')}: the evaluation data`, { param: 'tatoeba' });
  // L languages in the corpora: ranks 1..L-1
  const fitLangs = (
    await readdir(o.corpora).catch((e: unknown) => {
      throw readError(o.corpora, e, 'a directory of <lang>.txt corpora');
    })
  ).filter((f) => f.endsWith('.txt')).length;
  const maxRank = Math.max(1, fitLangs - 1);
  const rows: ReproduceRow[] = [];
  for (const m of models) {
    // ranks 1..min(L-1, d-1): d is the model's output (after a sentence-transformers Dense layer)
    const dim = await outputDimension(m, o, given.events);
    const ranks = Math.max(1, Math.min(maxRank, dim - 1));
    for (const t of tasks) {
      if (t.data === undefined) continue;
      const common = {
        data: t.data,
        model: m.model,
        corpora: o.corpora,
        methods: ['none', 'lsar'] as ('none' | 'lsar')[],
        offline: o.offline,
        quiet: true,
        ...(m.layer !== undefined ? { layer: m.layer } : {}),
        ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
        ...(o.embedDir !== undefined ? { embedDir: o.embedDir } : {}),
        ...(given.events ? { events: given.events } : {}),
      };
      // one run: none, and LSAR at every rank 1..L-1 (L-1, every direction, is lsar's default)
      const res: RetrieveResult = await retrieve({
        task: t.task,
        ...common,
        rank: [...new Set([...(o.rank ?? Array.from({ length: ranks }, (_, i) => i + 1)).filter((r) => r <= ranks), ranks])].sort(
          (a, b) => a - b,
        ),
        ...(o.report !== undefined ? { report: join(o.report, `${m.name}-${t.task}`) } : {}),
      });
      const swept = Object.entries(res.rankSweep?.lsar ?? {}).map(([r, v]) => ({ rank: Number(r), value: v }));
      const top = swept.find((x) => x.rank === ranks);
      const lsar = top?.value ?? Object.entries(res.results).find(([k]) => k.startsWith('lsar'))?.[1]?.mean ?? NaN;
      const best = swept.reduce((a, b) => (b.value > a.value ? b : a), swept[0] ?? { rank: ranks, value: lsar });
      const langs = Object.keys(res.results.none?.perLanguage ?? {}).length;
      const paper = PAPER[m.name]?.[t.task];
      rows.push({
        name: m.name,
        model: m.model,
        ...(m.layer !== undefined ? { layer: m.layer } : {}),
        task: t.task,
        metric: res.metric,
        none: res.results.none?.mean ?? NaN,
        lsar,
        best,
        ...(paper ? { paper } : {}),
        languages: langs,
        testModel: isTestModel(m.model),
      });
    }
  }
  return { rows, missing };
}

/** Whether a local model directory says it is a test model (config.json lsar_note). */
function isTestModel(model: string): boolean {
  try {
    return typeof (JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as { lsar_note?: unknown }).lsar_note === 'string';
  } catch {
    return false;
  }
}

/** The dimension of a model's sentence vectors: one sentence embedded as the runs will. */
async function outputDimension(
  m: { model: string; layer?: number },
  o: { offline: boolean; cacheDir?: string | undefined },
  events: Events | undefined,
): Promise<number> {
  const handle = new ModelHandle(
    modelOptions({
      model: m.model,
      offline: o.offline,
      ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
      ...(m.layer !== undefined ? { layer: m.layer } : {}),
    }),
    events,
  );
  try {
    const enc = await handle.get();
    const { pooling } = modelRowSettings(enc, {});
    return (await embedBatch(enc, [enc.encode('lsar')], { layer: m.layer ?? null, pooling, excludeSpecial: false, normalize: false })).dim;
  } finally {
    await handle.dispose();
  }
}
