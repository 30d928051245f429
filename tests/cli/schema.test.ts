/** Issue 20: one declaration per option. The CLI is generated from the library's schemas; an option means the same everywhere. */
import { describe, expect, it } from 'vitest';
import { kebab } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { embedSchema } from '../../src/pipeline/embed.js';
import { exportSchema } from '../../src/pipeline/export/index.js';
import { fitSchema } from '../../src/pipeline/fit.js';
import { inspectSchema } from '../../src/pipeline/inspect.js';
import { mineSchema } from '../../src/pipeline/mine/index.js';
import { projectSchema } from '../../src/pipeline/project/index.js';
import { retrieveSchema } from '../../src/pipeline/retrieve/index.js';
import { searchVerbSchema } from '../../src/pipeline/search/index.js';
import { serveSchema } from '../../src/pipeline/serve/index.js';
import { statsSchema } from '../../src/pipeline/stats.js';
import type { OptionSpec, Schema } from '../../src/core/schema.js';
import { runBin, runCli } from '../helpers.js';

const VERBS: Record<string, Schema> = {
  embed: embedSchema,
  fit: fitSchema,
  stats: statsSchema,
  project: projectSchema,
  retrieve: retrieveSchema,
  inspect: inspectSchema,
  search: searchVerbSchema,
  mine: mineSchema,
  export: exportSchema,
  serve: serveSchema,
};

/** Options whose meaning differs between commands on purpose, and why (everything else must agree). */
const DIFFERENT: Record<string, string> = {
  model: 'serve requires it; the others default to the small multilingual model or need none',
  excludeSpecial: 'export and serve default to how the projection was made',
  methods: 'retrieve compares none and lsar by default, inspect five methods',
  rank: 'fit takes one rank, retrieve and inspect a list to sweep',
  remove: 'fit takes one, retrieve a list to sweep',
  threshold: 'mine: the margin threshold; inspect: the share of variance kept',
  k: 'search: neighbours per query; mine: the neighbourhood of the margin',
  projection: 'retrieve and inspect take several, the others one; project needs one',
  out: 'project writes to stdout by default',
  queries: 'search reads stdin by default; retrieve and inspect need a file',
  dtype: 'embed, export and serve: which model weights (fp32, fp16, q8); project: the output values (float32, float64)',
};

const shape = (s: OptionSpec) => JSON.stringify([s.type, s.default, s.min, s.max, s.choices, s.required === true]);

describe('option schemas', () => {
  it('an option shared by several commands has the same type, default, range and choices everywhere (differences listed with reasons)', () => {
    const seen = new Map<string, { verb: string; shape: string }>();
    const mismatches: string[] = [];
    for (const [verb, schema] of Object.entries(VERBS)) {
      for (const [name, spec] of Object.entries(schema)) {
        const prev = seen.get(name);
        if (!prev) seen.set(name, { verb, shape: shape(spec) });
        else if (prev.shape !== shape(spec) && !(name in DIFFERENT))
          mismatches.push(`${name}: ${prev.verb} ${prev.shape} vs ${verb} ${shape(spec)}`);
      }
    }
    expect(mismatches).toEqual([]);
    // the listed differences are real (a stale entry would hide nothing)
    for (const name of Object.keys(DIFFERENT)) {
      const shapes = new Set(Object.values(VERBS).flatMap((s) => (s[name] ? [shape(s[name] as OptionSpec)] : [])));
      expect(shapes.size, name).toBeGreaterThan(1);
    }
  });

  it('every option of every verb is a flag of its command, shown in --help with its default', async () => {
    for (const [verb, schema] of Object.entries(VERBS)) {
      const help = (await runBin([verb, '--help'])).stdout;
      for (const [name, spec] of Object.entries(schema)) {
        const flag = spec.positional ? kebab(name) : name.length === 1 ? `-${name}` : `--${kebab(name)}`;
        expect(help, `${verb} ${flag}`).toContain(flag);
        if (spec.default !== undefined && spec.default !== false && spec.defaultText === undefined && !spec.positional) {
          const shown = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
          expect(help, `${verb} ${flag} default`).toContain(`[default: ${shown}]`);
        }
      }
    }
  });

  it('the library and the CLI refuse a value out of range with the same message (the CLI naming the flag)', async () => {
    const { searchNeighbors } = await import('../../src/pipeline/search/index.js');
    const lib = await searchNeighbors({ index: 'x.npy', queries: 'q.npy', k: 0 }).catch((e: Error & { code: string; param: string }) => e);
    expect(lib).toMatchObject({ code: 'RANGE', param: 'k', message: 'k must be a whole number from 1 to 1000000, got 0' });
    const cli = await runCli(['search', '-x', 'x.npy', '--queries', 'q.npy', '-k', '0']);
    expect(cli.stderr).toBe('lsar: -k must be a whole number from 1 to 1000000, got 0\n');
    expect(cli.code).toBe(2);
    void main;
  });
});
