/** The options and the summary of lsar mine. */
import type { Writable } from 'node:stream';
import type { Events } from '../../core/events.js';
import type { OptionsOf, Schema } from '../../core/schema.js';
import { MARGINS, RETRIEVALS, type Margin, type Retrieval } from '../../core/margin.js';
import type { Projection } from '../../core/projection.js';
import { cacheSchema } from '../services/embedding-cache.js';
import { columnSchema } from '../services/moments.js';
import { modelSchema } from '../services/model.js';
import { searchSchema, type SearchReport } from '../services/search/index.js';
import { shardSchema } from '../services/shard.js';

/** `lsar mine`: the two sides, the projection, the margin, and the search options. */
export const mineSchema = {
  src: {
    type: 'string',
    description: 'Source side: embeddings (.npy, .parquet, .jsonl) or texts (.txt, embedded with --model)',
  },
  trg: {
    type: 'string',
    description: 'Target side: embeddings (.npy, .parquet, .jsonl) or texts (.txt, embedded with --model)',
  },
  srcText: { type: 'string', description: 'Source texts (one per non-empty line, as the embeddings) to write beside each pair' },
  trgText: { type: 'string', description: 'Target texts (one per non-empty line) to write beside each pair' },
  projection: { type: 'string', alias: 'p', description: 'Apply this projection (lsar fit --out) to both sides' },
  srcLang: { type: 'string', description: 'Source language (lir and demean projections)' },
  trgLang: { type: 'string', description: 'Target language (lir and demean projections)' },
  margin: {
    type: 'string',
    choices: MARGINS,
    default: 'ratio',
    description: "ratio a/b (LASER default), distance a-b, or absolute a, with a = cosine, b = mean of both rows' k-NN similarities",
  },
  retrieval: {
    type: 'string',
    choices: RETRIEVALS,
    default: 'max',
    description: 'max: pooled best pairs of both directions, each row used once (LASER default); fwd; bwd; intersect',
  },
  k: { type: 'integer', min: 1, max: 100_000, default: 4, description: "Neighbourhood size (capped at each side's size)" },
  threshold: {
    type: 'number',
    description: 'Keep pairs scoring above this',
    defaultText: 'for max: 1.0 with ratio, 0 otherwise; other modes keep all',
  },
  unify: {
    type: 'boolean',
    default: false,
    description: "Deduplicate each side's texts first, as LASER --unify (pairs then name the first row of each text)",
  },
  out: {
    type: 'string',
    alias: 'o',
    required: true,
    description:
      'Output TSV (score, src row, trg row[, src text, trg text]), or - for stdout; written atomically. With --shard: the directory of the neighbour files',
  },
  fromNeighbours: {
    type: 'string',
    description:
      'Merge the neighbour files that lsar mine --shard tasks wrote into this directory, then mine (no --src/--trg: give --src-text/--trg-text for texts)',
    group: 'Shards:',
  },
  ...cacheSchema,
  column: columnSchema.column,
  ...searchSchema,
  ...modelSchema,
  ...shardSchema,
} as const satisfies Schema;

export type MineOptions = Omit<OptionsOf<typeof mineSchema>, 'projection'> & {
  /** A projection applied to both sides (lir/demean need srcLang and trgLang), or its path. */
  projection?: string | Projection | undefined;
  stdout?: Writable;
  events?: Events;
};

export interface MineSummary {
  sources: number;
  targets: number;
  k: number;
  margin: Margin;
  retrieval: Retrieval;
  threshold: number | null;
  pairs: number;
  /** Score quantiles of the mined pairs (min, 25%, median, 75%, max). */
  scores: { min: number; q25: number; median: number; q75: number; max: number } | null;
  search: { forward: SearchReport; backward: SearchReport };
  seconds: number;
  output: string;
  /** lsar mine --shard: this task's blocks of neighbours (no pairs yet: lsar mine --from-neighbours mines). */
  shard?: { index: number; count: number; sourceRows: [number, number]; targetRows: [number, number]; files: string[] };
}
