/**
 * Files lsar adds to a model as transformers.js loads it: a Hub model's sentence-transformers
 * configuration (transformers.js downloads only what it runs), and a standard export's graph
 * with a hidden state added (./layer-tap.ts), kept in the cache.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeDirAtomic } from '../io/atomic.js';
import { hashFile } from '../io/hash.js';
import { tapLayer } from './layer-tap.js';
import { decodeModel, encodeModel } from './onnx.js';

/**
 * A Hub model's sentence-transformers files (transformers.js downloads only what it runs):
 * modules.json, then each module's config (and a Dense layer's model.safetensors) and
 * config_sentence_transformers.json, into the model's cache directory. A model without
 * modules.json is not a sentence-transformers model; a failed download of one of its files is
 * left for readSentenceTransformers to report.
 */
export async function fetchSentenceTransformersFiles(host: string, id: string, revision: string, root: string): Promise<void> {
  const url = (f: string) => `${host.replace(/\/?$/, '/')}${id}/resolve/${encodeURIComponent(revision)}/${f}`;
  const get = async (f: string): Promise<Uint8Array | undefined> => {
    try {
      const r = await fetch(url(f));
      return r.ok ? new Uint8Array(await r.arrayBuffer()) : undefined;
    } catch {
      return undefined;
    }
  };
  const modules = await get('modules.json');
  if (!modules) return;
  const files: [string, Uint8Array][] = [['modules.json', modules]];
  let list: { path?: string; type?: string }[] = [];
  try {
    list = JSON.parse(new TextDecoder().decode(modules)) as typeof list;
  } catch {
    /* readSentenceTransformers reports it */
  }
  for (const m of list) {
    if (!m.path) continue;
    const c = await get(`${m.path}/config.json`);
    if (c) files.push([`${m.path}/config.json`, c]);
    if (String(m.type).endsWith('.Dense')) {
      const w = await get(`${m.path}/model.safetensors`);
      if (w) files.push([`${m.path}/model.safetensors`, w]);
    }
  }
  const st = await get('config_sentence_transformers.json');
  if (st) files.push(['config_sentence_transformers.json', st]);
  for (const [f, bytes] of files) {
    await mkdir(dirname(join(root, f)), { recursive: true });
    await writeFile(join(root, f), bytes);
  }
}

/**
 * A copy of the model in `root` whose graph also outputs hidden_states.<layer>, in the cache
 * (`<cacheDir>/lsar-tapped/<hash of the graph>-layer<N>/`, reused while the source graph is the
 * same): the top-level files as they are, the edited graph, its external data linked.
 */
export async function tappedCopy(
  root: string,
  onnxFile: string,
  layer: number,
  cacheDir: string,
): Promise<{ dir: string; tensor: string }> {
  const src = join(root, 'onnx', onnxFile);
  const key = (await hashFile(src)).slice(0, 16);
  const dir = join(cacheDir, 'lsar-tapped', `${key}-layer${layer}`);
  const done = join(dir, 'onnx', onnxFile);
  const model = decodeModel(await readFile(src));
  const { tensor } = tapLayer(model, layer, src);
  if (existsSync(done)) return { dir, tensor };
  await mkdir(dirname(dir), { recursive: true });
  await writeDirAtomic(dir, async (tmp) => {
    for (const e of await readdir(root, { withFileTypes: true }))
      if (e.isFile() && !e.name.startsWith('.')) await copyFile(join(root, e.name), join(tmp, e.name));
    await mkdir(join(tmp, 'onnx'));
    await writeFile(join(tmp, 'onnx', onnxFile), encodeModel(model));
    for (const t of model.graph.initializer) {
      const location = t.externalData?.find((d) => d.key === 'location')?.value;
      if (location && !existsSync(join(tmp, 'onnx', location))) await symlink(join(root, 'onnx', location), join(tmp, 'onnx', location));
    }
  });
  return { dir, tensor };
}
