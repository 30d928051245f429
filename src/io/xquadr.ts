/**
 * XQuAD-R (LAReQA): SQuAD-format JSON per language with sentence breaks. Every sentence
 * of every paragraph in every language is a candidate; a candidate is relevant to a
 * question when it is the sentence holding that question's answer, in any language
 * (questions are 11-way parallel through their ids).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createError } from '../core/errors.js';

export interface XquadQuestion {
  lang: string;
  id: string;
  text: string;
}

export interface XquadCandidate {
  lang: string;
  text: string;
  /** The paragraph the sentence comes from. */
  context: string;
}

export interface XquadR {
  languages: string[];
  /** Questions of every language, grouped by language in `languages` order. */
  questions: XquadQuestion[];
  /** Candidate sentences of every language, grouped by language in `languages` order. */
  candidates: XquadCandidate[];
  /** For each question (index into `questions`), the indices of its relevant candidates. */
  relevant: number[][];
  files: string[];
}

interface SquadJson {
  data: {
    title?: string;
    paragraphs: {
      context: string;
      sentences: string[];
      sentence_breaks: [number, number][];
      qas: { id: string; question: string; answers: { answer_start: number; text: string }[] }[];
    }[];
  }[];
}

function notXquad(file: string, what: string): never {
  throw createError(
    'INPUT',
    `${file}: not an XQuAD-R file: ${what} (expected SQuAD JSON with "sentences" and "sentence_breaks" in each paragraph)`,
  );
}

function checkShape(json: unknown, file: string): SquadJson {
  const j = json as SquadJson;
  if (!j || !Array.isArray(j.data)) notXquad(file, 'no "data" array');
  for (const a of j.data) {
    if (!Array.isArray(a?.paragraphs)) notXquad(file, 'an article has no "paragraphs"');
    for (const p of a.paragraphs) {
      if (!Array.isArray(p.sentences) || !Array.isArray(p.sentence_breaks) || p.sentences.length !== p.sentence_breaks.length) {
        notXquad(file, 'a paragraph lacks matching "sentences" and "sentence_breaks"');
      }
      if (!Array.isArray(p.qas)) notXquad(file, 'a paragraph has no "qas"');
      for (const q of p.qas) {
        if (
          typeof q.id !== 'string' ||
          typeof q.question !== 'string' ||
          !Array.isArray(q.answers) ||
          typeof q.answers[0]?.answer_start !== 'number'
        ) {
          notXquad(file, 'a question lacks "id", "question" or "answers[0].answer_start"');
        }
      }
    }
  }
  return j;
}

/** Index of the sentence holding character offset `at` (breaks are [start, end) spans). */
function sentenceAt(breaks: [number, number][], at: number): number {
  let last = -1;
  for (let i = 0; i < breaks.length; i++) {
    const [b, e] = breaks[i] as [number, number];
    if (b <= at && at < e) return i;
    if (b <= at) last = i;
  }
  return last;
}

/** Languages available in an XQuAD-R directory (file stems of *.json, sorted). */
async function listXquadLanguages(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw createError('NOT_FOUND', `${dir}: no such XQuAD-R directory`);
  }
  const langs = names
    .filter((n) => n.endsWith('.json'))
    .map((n) => basename(n, '.json'))
    .sort();
  if (langs.length === 0) throw createError('NOT_FOUND', `${dir}: no XQuAD-R files found (expected <lang>.json files)`);
  return langs;
}

export async function loadXquadR(dir: string, languages?: string[]): Promise<XquadR> {
  const langs = languages ?? (await listXquadLanguages(dir));
  const questions: XquadQuestion[] = [];
  const candidates: XquadCandidate[] = [];
  const answerOf = new Map<string, number[]>(); // question id -> candidate indices (one per language)
  const questionIds: string[] = [];
  const files: string[] = [];
  for (const lang of langs) {
    const file = join(dir, `${lang}.json`);
    files.push(file);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') throw createError('NOT_FOUND', `${file}: missing (XQuAD-R language "${lang}")`);
      notXquad(file, `not valid JSON (${(e as Error).message})`);
    }
    const squad = checkShape(json, file);
    for (const a of squad.data) {
      for (const p of a.paragraphs) {
        const first = candidates.length;
        for (const s of p.sentences) candidates.push({ lang, text: s, context: p.context });
        for (const q of p.qas) {
          const idx = sentenceAt(p.sentence_breaks, (q.answers[0] as { answer_start: number }).answer_start);
          if (idx < 0) notXquad(file, `question ${q.id}: answer_start outside every sentence`);
          questions.push({ lang, id: q.id, text: q.question });
          questionIds.push(q.id);
          const list = answerOf.get(q.id) ?? [];
          list.push(first + idx);
          answerOf.set(q.id, list);
        }
      }
    }
  }
  const relevant = questionIds.map((id) => answerOf.get(id) as number[]);
  return { languages: langs, questions, candidates, relevant, files };
}
