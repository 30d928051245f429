/**
 * The projection artifact: `<name>.json` (metadata, provenance) with `.npy` sidecars
 * holding the numbers, so numpy loads them directly:
 *
 *   meta = json.load(open("projection.json"))
 *   B = np.load("projection.basis.npy")          # lsar: (K, d), rows are directions
 *   B = B[:meta["remove"]]
 *   y = x - (x @ B.T) @ B
 *
 * `--out` may name the JSON file or a directory (then `<dir>/projection.json`).
 * Sidecars are written first, the JSON last, each atomically; the JSON records
 * each sidecar's SHA-256 and loading checks it.
 */
import { readError } from './fs-errors.js';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { createError, firstLine } from '../core/errors.js';
import type { Dense } from '../core/linalg.js';
import { METHODS, needsLanguage, type Method, type Projection } from '../core/projection.js';
import { VERSION } from '../version.js';
import { writeFileAtomic } from './atomic.js';
import { hashBytes } from './hash.js';
import { readSafetensors, writeSafetensors, type SafeTensor } from './safetensors.js';
import { decodeNpy, encodeNpy } from './npy.js';

export const ARTIFACT_FORMAT = 'lsar-projection';
export const ARTIFACT_FORMAT_VERSION = 1;

interface ArrayRef {
  file: string;
  shape: number[];
  dtype: '<f8';
  sha256: string;
  description: string;
}

export interface ArtifactJson {
  format: typeof ARTIFACT_FORMAT;
  formatVersion: number;
  lsarVersion: string;
  created: string;
  method: Method;
  dim: number;
  rank?: number;
  remove: number;
  /** whiten: output dimension k (rows of the basis). */
  dims?: number;
  /** True when applying needs the input's language (lir, demean). */
  needsLanguage: boolean;
  languages: { lang: string; rows: number }[];
  singularValues?: number[];
  languageEigenvalues?: Record<string, number[]>;
  arrays: { means: ArrayRef; basis?: ArrayRef };
  source?: unknown;
}

/** Resolve `--out`: a `.json` path (any case), or a directory that will hold `projection.json`. */
export async function resolveArtifactPath(out: string): Promise<string> {
  if (extname(out).toLowerCase() === '.json') return out;
  try {
    if ((await stat(out)).isDirectory()) return join(out, 'projection.json');
  } catch {
    // does not exist: a directory to create
  }
  return join(out, 'projection.json');
}

function sidecarName(jsonPath: string, what: string): string {
  return `${basename(jsonPath, extname(jsonPath))}.${what}.npy`;
}

/** Every file `saveProjection(out, ...)` writes: the JSON and its possible sidecars. */
export async function artifactPaths(out: string): Promise<string[]> {
  const jsonPath = await resolveArtifactPath(out);
  return [jsonPath, ...['means', 'basis'].map((w) => join(dirname(jsonPath), sidecarName(jsonPath, w)))];
}

/** Save a projection atomically; returns the JSON path. */
export async function saveProjection(out: string, projection: Projection, source?: unknown): Promise<string> {
  const jsonPath = await resolveArtifactPath(out);
  const dir = dirname(jsonPath);
  const d = projection.dim;
  const langs = projection.languages.map((l) => l.lang);
  const written: string[] = [];
  const arrays: { means: ArrayRef; basis?: ArrayRef } = {} as { means: ArrayRef };
  try {
    const means = new Float64Array(langs.length * d);
    langs.forEach((l, i) => means.set(projection.means[l] as Float64Array, i * d));
    arrays.means = await writeSidecar(
      jsonPath,
      'means',
      means,
      [langs.length, d],
      'mean embedding of each language, rows in the order of "languages"',
      written,
    );
    const basisNote: Partial<Record<Method, string>> = {
      lsar: `orthonormal language subspace, rows are directions (most important first); the projection removes the first ${projection.remove}: y = x - (x @ B[:remove].T) @ B[:remove]`,
      abtt: 'top principal directions of the pooled data (rows); with mu the row-weighted mean of the language means: y = (x - mu) - ((x - mu) @ B.T) @ B',
      whiten:
        'top eigenvectors (rows) of the pooled sample covariance, eigenvalues s in "singularValues"; with mu the row-weighted mean of the language means: y = ((x - mu) @ B.T) / sqrt(s)',
    };
    const note = basisNote[projection.method];
    if (note && projection.basis) {
      const b = projection.basis;
      arrays.basis = await writeSidecar(jsonPath, 'basis', b.data, [b.rows, d], note, written);
    } else if (projection.method === 'lir' && projection.languageBases) {
      const r = projection.remove;
      const all = new Float64Array(langs.length * r * d);
      langs.forEach((l, i) => all.set((projection.languageBases as Record<string, Dense>)[l]?.data as Float64Array, i * r * d));
      arrays.basis = await writeSidecar(
        jsonPath,
        'basis',
        all,
        [langs.length, r, d],
        'per language (order of "languages"), r x d orthonormal top singular directions of its raw embeddings: y = x - (x @ B[i].T) @ B[i]',
        written,
      );
    }
    const json: ArtifactJson = {
      format: ARTIFACT_FORMAT,
      formatVersion: ARTIFACT_FORMAT_VERSION,
      lsarVersion: VERSION,
      created: new Date().toISOString(),
      method: projection.method,
      dim: d,
      ...(projection.rank !== undefined ? { rank: projection.rank } : {}),
      remove: projection.remove,
      ...(projection.dims !== undefined ? { dims: projection.dims } : {}),
      needsLanguage: needsLanguage(projection.method),
      languages: projection.languages,
      ...(projection.singularValues ? { singularValues: projection.singularValues } : {}),
      ...(projection.languageEigenvalues ? { languageEigenvalues: projection.languageEigenvalues } : {}),
      arrays,
      ...(source !== undefined ? { source } : {}),
    };
    await writeFileAtomic(jsonPath, JSON.stringify(json, null, 1) + '\n');
    return jsonPath;
  } catch (e) {
    await Promise.all(written.map((f) => rm(join(dir, f), { force: true })));
    throw e;
  }
}

async function writeSidecar(
  jsonPath: string,
  what: string,
  data: Float64Array,
  shape: number[],
  description: string,
  written: string[],
): Promise<ArrayRef> {
  const file = sidecarName(jsonPath, what);
  const bytes = encodeNpy(data, shape, '<f8');
  await writeFileAtomic(join(dirname(jsonPath), file), bytes);
  written.push(file);
  return { file, shape, dtype: '<f8', sha256: hashBytes(bytes), description };
}

function bad(path: string, what: string): never {
  throw createError('ARTIFACT', `${path}: ${what}`);
}

/** A loaded projection: its arrays, the artifact's JSON, and the files it was read from. */
export type LoadedProjection = Projection & { artifact: ArtifactJson; files: string[] };

/** A projection given as an object stands for itself; anything else (a path, or several by mistake) is an option to validate. */
export function projectionOption<T>(p: T): T extends Projection ? undefined : T {
  return (typeof p === 'object' && p !== null && !Array.isArray(p) ? undefined : p) as T extends Projection ? undefined : T;
}

/** The projection a verb was given: loaded from its path, or the object itself. */
export async function projectionOf(p: string | Projection): Promise<Projection>;
export async function projectionOf(p: string | Projection | undefined): Promise<Projection | undefined>;
export async function projectionOf(p: string | Projection | undefined): Promise<Projection | undefined> {
  return typeof p === 'string' ? loadProjection(p) : p;
}

/** The files a projection was loaded from (empty for one made in memory). */
export function projectionFiles(p: Projection | undefined): string[] {
  return (p as Partial<LoadedProjection> | undefined)?.files ?? [];
}

/** Where the JSON of a projection given as `path` is: the path itself when it is a file, else `<dir>/projection.json`. */
async function artifactJsonPath(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? join(path, 'projection.json') : path;
  } catch {
    return resolveArtifactPath(path);
  }
}

/** Load a projection saved by `saveProjection` (path to the JSON or its directory). */
export async function loadProjection(path: string): Promise<LoadedProjection> {
  if (/\.safetensors$/i.test(path)) return loadSafetensorsProjection(path);
  const jsonPath = await artifactJsonPath(path);
  const what = 'expected the projection.json of lsar fit, its directory, or a .safetensors export';
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw createError('NOT_FOUND', `${jsonPath}: no such projection file (make one with lsar fit --out)`);
    if (code === 'ENOTDIR') throw createError('NOT_FOUND', `${path}: not a directory: ${what}`);
    throw readError(jsonPath, e, 'the projection.json of lsar fit');
  }
  let json: ArtifactJson;
  try {
    json = JSON.parse(text) as ArtifactJson;
  } catch (e) {
    // binary files (a .npy given as -p) are named by what they are, not quoted
    if (text.startsWith('\uFFFDNUMPY') || /\.npy$/i.test(jsonPath)) bad(jsonPath, `a .npy file, not a projection: ${what}`);
    const binary = [...text.slice(0, 256)].some((c) => c.charCodeAt(0) < 9 || c === '\uFFFD');
    bad(jsonPath, `not valid JSON: ${what}${binary ? '' : ` (${firstLine(e)})`}`);
  }
  if (json?.format !== ARTIFACT_FORMAT)
    bad(jsonPath, `not an lsar projection (format is ${JSON.stringify(json?.format)}, expected "${ARTIFACT_FORMAT}"): ${what}`);
  if (json.formatVersion !== ARTIFACT_FORMAT_VERSION)
    bad(jsonPath, `format version ${json.formatVersion} is not supported (this lsar reads ${ARTIFACT_FORMAT_VERSION})`);
  if (!METHODS.includes(json.method)) bad(jsonPath, `unknown method ${JSON.stringify(json.method)}`);
  const d = json.dim;
  const L = json.languages?.length ?? 0;
  if (!Number.isInteger(d) || d < 1 || L < 1) bad(jsonPath, 'missing dim or languages');
  const files = [jsonPath];
  const means = await loadSidecar(jsonPath, 'means', json.arrays?.means, [L, d], files);
  const projection: Projection = {
    method: json.method,
    dim: d,
    languages: json.languages,
    remove: json.remove,
    means: Object.fromEntries(json.languages.map((l, i) => [l.lang, means.slice(i * d, (i + 1) * d)])),
    ...(json.rank !== undefined ? { rank: json.rank } : {}),
  };
  if (json.method === 'lsar') {
    const K = json.rank as number;
    if (!Number.isInteger(K) || !(json.remove >= 1 && json.remove <= K)) bad(jsonPath, `bad rank ${K} / remove ${json.remove}`);
    projection.basis = { rows: K, cols: d, data: await loadSidecar(jsonPath, 'basis', json.arrays?.basis, [K, d], files) };
    if (json.singularValues) projection.singularValues = json.singularValues;
  } else if (json.method === 'abtt') {
    if (!Number.isInteger(json.remove) || !(json.remove >= 1 && json.remove < d)) bad(jsonPath, `bad remove ${json.remove}`);
    projection.basis = {
      rows: json.remove,
      cols: d,
      data: await loadSidecar(jsonPath, 'basis', json.arrays?.basis, [json.remove, d], files),
    };
    if (json.singularValues) projection.singularValues = json.singularValues;
  } else if (json.method === 'whiten') {
    const k = json.dims as number;
    if (!Number.isInteger(k) || k < 1 || k > d) bad(jsonPath, `bad dims ${json.dims}`);
    if (!Array.isArray(json.singularValues) || json.singularValues.length < k || !json.singularValues.every((v) => v > 0))
      bad(jsonPath, `whiten needs ${k} positive eigenvalues in "singularValues"`);
    projection.dims = k;
    projection.basis = { rows: k, cols: d, data: await loadSidecar(jsonPath, 'basis', json.arrays?.basis, [k, d], files) };
    projection.singularValues = json.singularValues;
  } else if (json.method === 'lir') {
    const r = json.remove;
    const all = await loadSidecar(jsonPath, 'basis', json.arrays?.basis, [L, r, d], files);
    projection.languageBases = Object.fromEntries(
      json.languages.map((l, i) => [l.lang, { rows: r, cols: d, data: all.slice(i * r * d, (i + 1) * r * d) }]),
    );
  }
  return Object.assign(projection, { artifact: json, files });
}

/**
 * A sidecar as recorded; when that file is missing (the artifact was renamed, p.json ->
 * q.json with its sidecars alike), the one named after the JSON (q.means.npy). Either way
 * its hash must be the recorded one.
 */
async function loadSidecar(
  jsonPath: string,
  what: string,
  ref: ArrayRef | undefined,
  shape: number[],
  files: string[],
): Promise<Float64Array> {
  if (!ref?.file) bad(jsonPath, 'an array sidecar is missing from "arrays"');
  const recorded = join(dirname(jsonPath), ref.file);
  const own = join(dirname(jsonPath), sidecarName(jsonPath, what));
  let file = recorded;
  let bytes: Buffer;
  try {
    bytes = await readFile(recorded);
  } catch {
    try {
      file = own;
      bytes = await readFile(own);
    } catch {
      bad(jsonPath, `its array file ${recorded} is missing${own !== recorded ? ` (and so is ${own})` : ''}`);
    }
  }
  files.push(file);
  if (ref.sha256 && hashBytes(bytes) !== ref.sha256) {
    bad(jsonPath, `${file} does not match the SHA-256 recorded in the projection (was it overwritten by another fit?)`);
  }
  const { header, data } = decodeNpy(bytes, file);
  const total = shape.reduce((a, b) => a * b, 1);
  if (header.shape.length !== shape.length || header.shape.some((n, i) => n !== shape[i])) {
    bad(jsonPath, `${file}: shape (${header.shape.join(', ')}), expected (${shape.join(', ')})`);
  }
  const out = new Float64Array(total);
  out.set(data);
  return out;
}

/** A projection as safetensors (basis, means; metadata: method, dim, rank, remove, languages, ...). */
export async function saveProjectionSafetensors(path: string, p: Projection): Promise<void> {
  const d = p.dim;
  const langs = p.languages.map((l) => l.lang);
  const means = new Float64Array(langs.length * d);
  langs.forEach((l, i) => means.set(p.means[l] as Float64Array, i * d));
  const tensors: Record<string, SafeTensor> = { means: { dtype: 'F64', shape: [langs.length, d], data: means } };
  if ((p.method === 'lsar' || p.method === 'abtt' || p.method === 'whiten') && p.basis)
    tensors.basis = { dtype: 'F64', shape: [p.basis.rows, d], data: p.basis.data };
  if (p.method === 'lir' && p.languageBases) {
    const all = new Float64Array(langs.length * p.remove * d);
    langs.forEach((l, i) => all.set((p.languageBases as Record<string, Dense>)[l]?.data as Float64Array, i * p.remove * d));
    tensors.basis = { dtype: 'F64', shape: [langs.length, p.remove, d], data: all };
  }
  await writeSafetensors(path, tensors, {
    format: ARTIFACT_FORMAT,
    formatVersion: String(ARTIFACT_FORMAT_VERSION),
    lsarVersion: VERSION,
    method: p.method,
    dim: String(d),
    ...(p.rank !== undefined ? { rank: String(p.rank) } : {}),
    remove: String(p.remove),
    ...(p.dims !== undefined ? { dims: String(p.dims) } : {}),
    languages: JSON.stringify(p.languages),
    ...(p.singularValues ? { singularValues: JSON.stringify(p.singularValues) } : {}),
  });
}

async function loadSafetensorsProjection(path: string): Promise<LoadedProjection> {
  const { tensors, metadata: m } = await readSafetensors(path);
  if (m.format !== ARTIFACT_FORMAT) bad(path, `not an lsar projection (metadata format ${JSON.stringify(m.format)})`);
  const method = m.method as Method;
  if (!METHODS.includes(method)) bad(path, `unknown method ${JSON.stringify(m.method)}`);
  const d = Number(m.dim);
  let languages: { lang: string; rows: number }[];
  try {
    languages = JSON.parse(m.languages ?? '[]');
  } catch {
    bad(path, 'languages metadata is not JSON');
  }
  const L = languages.length;
  const means = tensors.means;
  if (!means || means.shape.join() !== `${L},${d}`) bad(path, `means must be ${L} x ${d}`);
  const remove = Number(m.remove);
  const projection: Projection = {
    method,
    dim: d,
    languages,
    remove,
    means: Object.fromEntries(languages.map((l, i) => [l.lang, Float64Array.from(means.data.subarray(i * d, (i + 1) * d))])),
    ...(m.rank !== undefined ? { rank: Number(m.rank) } : {}),
    ...(m.singularValues ? { singularValues: JSON.parse(m.singularValues) as number[] } : {}),
  };
  const basis = tensors.basis;
  if (method === 'lsar' || method === 'abtt' || method === 'whiten') {
    if (!basis || basis.shape.length !== 2 || basis.shape[1] !== d) bad(path, `basis must be K x ${d}`);
    projection.basis = { rows: basis.shape[0] as number, cols: d, data: Float64Array.from(basis.data) };
    if (method === 'whiten') {
      projection.dims = basis.shape[0] as number;
      if (!(projection.singularValues && projection.singularValues.length >= projection.dims))
        bad(path, 'whiten needs its eigenvalues in the singularValues metadata');
    }
  } else if (method === 'lir') {
    if (!basis || basis.shape.join() !== `${L},${remove},${d}`) bad(path, `basis must be ${L} x ${remove} x ${d}`);
    projection.languageBases = Object.fromEntries(
      languages.map((l, i) => [
        l.lang,
        { rows: remove, cols: d, data: Float64Array.from(basis.data.subarray(i * remove * d, (i + 1) * remove * d)) },
      ]),
    );
  }
  const artifact = {
    format: ARTIFACT_FORMAT,
    formatVersion: ARTIFACT_FORMAT_VERSION,
    lsarVersion: m.lsarVersion ?? '',
    created: '',
    method,
    dim: d,
    ...(projection.rank !== undefined ? { rank: projection.rank } : {}),
    remove,
    needsLanguage: needsLanguage(method),
    languages,
    arrays: {} as ArtifactJson['arrays'],
  } satisfies ArtifactJson;
  return Object.assign(projection, { artifact, files: [path] });
}
