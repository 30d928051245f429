/**
 * How a projection's embeddings were made (its embedding manifest), and the settings that apply
 * it to new text: what export bakes into a graph and serve applies per request.
 */
import { createError, opt } from '../../core/errors.js';
import type { Pooling } from '../../core/pooling.js';
import type { Projection } from '../../core/projection.js';
import type { LsarExport } from '../../adapters/transformers.js';
import { POOLINGS } from '../../core/pooling.js';
import type { Schema } from '../../core/schema.js';
import { modelSchema } from './model.js';
import type { EmbedManifest } from '../embed.js';

export type Settings = Pick<LsarExport, 'layer' | 'pooling' | 'excludeSpecial' | 'normalizeInput'>;

/**
 * The embedding options of export and serve: unset, each is as the projection's embeddings were
 * made (its manifest), and where it has none as lsar embed's default.
 */
export const madeLikeSchema = {
  model: modelSchema.model,
  layer: { ...modelSchema.layer, defaultText: "as the projection's embeddings were made, else the last layer" },
  pooling: {
    type: 'string',
    choices: POOLINGS,
    description: modelSchema.pooling.description,
    defaultText: "as the projection's embeddings were made, else mean",
    group: 'Model and embedding:',
  },
  excludeSpecial: {
    type: 'boolean',
    description: modelSchema.excludeSpecial.description,
    defaultText: "as the projection's embeddings were made",
    group: 'Model and embedding:',
  },
  dtype: modelSchema.dtype,
  cacheDir: modelSchema.cacheDir,
  offline: modelSchema.offline,
  revision: modelSchema.revision,
} as const satisfies Schema;

/** The options a user may give (any may be left out). */
export interface GivenSettings {
  projection?: string | Projection | undefined;
  layer?: number | null | undefined;
  pooling?: Pooling | undefined;
  excludeSpecial?: boolean | undefined;
}

/** The embedding manifest recorded in a loaded projection's artifact, if any. */
export function manifestOf(p: Projection | undefined): EmbedManifest | undefined {
  const source = (p as { artifact?: { source?: { manifest?: unknown } } } | undefined)?.artifact?.source;
  const m = source?.manifest as EmbedManifest | undefined;
  return m?.format === 'lsar-embeddings' ? m : undefined;
}

/** A setting as a user reads it: `--layer 3`, "the last layer" for no layer recorded. */
function setting(param: string, value: unknown): string {
  if (param === 'layer' && (value === null || value === undefined)) return "the model's last layer";
  if (value === undefined) return `${opt(param)} unset`;
  return `${opt(param)} ${JSON.stringify(value)}`;
}

/** Embedding settings: those given, else those the projection's embeddings were made with; a conflict is refused. */
export function resolveSettings(
  o: GivenSettings,
  manifest: EmbedManifest | undefined,
  what: string,
  doing: string,
  warnings: string[],
): Settings {
  const made = manifest?.options;
  if (made) {
    const given: [keyof Settings, string, unknown, unknown][] = [
      ['layer', 'layer', o.layer, made.layer],
      ['pooling', 'pooling', o.pooling, made.pooling],
      ['excludeSpecial', 'excludeSpecial', o.excludeSpecial, made.excludeSpecial],
    ];
    for (const [, param, value, recorded] of given) {
      if (value !== undefined && value !== recorded) {
        throw createError(
          'USAGE',
          `${what} was fitted on embeddings made with ${setting(param, recorded)} (its embedding manifest); ${doing} with ${setting(param, value)} would apply it to other vectors: drop ${opt(param)}, or fit on embeddings made with ${setting(param, value)}`,
          { param, params: [param] },
        );
      }
    }
    return {
      layer: made.layer ?? null,
      pooling: made.pooling,
      excludeSpecial: made.excludeSpecial,
      normalizeInput: made.normalize === true,
    };
  }
  if (typeof o.projection === 'string' || o.projection) {
    warnings.push(
      `${what} does not record how its embeddings were made (no lsar embed manifest.json beside the fitted files): used with ${o.pooling ?? 'mean'} pooling of ${o.layer != null ? `layer ${o.layer}` : 'the last layer'}; make sure that is how they were made`,
    );
  }
  return { layer: o.layer ?? null, pooling: o.pooling ?? 'mean', excludeSpecial: o.excludeSpecial === true, normalizeInput: false };
}

export /** The projection's embeddings must come from this model: its config and tokenizer files are compared by hash. */
function checkSameModel(manifest: EmbedManifest | undefined, files: { name: string; sha256: string }[], name: string): void {
  const recorded = manifest?.model?.files;
  if (!recorded) return;
  for (const f of ['tokenizer.json', 'config.json']) {
    const a = recorded.find((r) => r.name === f)?.sha256;
    const b = files.find((r) => r.name === f)?.sha256;
    if (a && b && a !== b) {
      throw createError(
        'USAGE',
        `${name}: its ${f} differs from that of the model the projection's embeddings were made with (${manifest?.model?.path ?? manifest?.model?.id}): fit on embeddings of this model`,
        { param: 'model' },
      );
    }
  }
}
