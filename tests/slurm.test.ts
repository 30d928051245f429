/**
 * Shards on a real Slurm cluster (issue 21): Debian's slurm-wlm and munge, a one-node cluster
 * (slurmctld + slurmd on 127.0.0.1, proctrack/linuxproc, task/none, select/cons_tres) started in
 * a temporary directory and stopped by PID. `sbatch --array=0-3` runs lsar's shards with no
 * --shard flag (the tasks take SLURM_ARRAY_TASK_ID/COUNT), a job with --dependency=afterok
 * merges them, and the results equal the single-process run: the fit from the stats to 1e-12,
 * the mined pairs identical (scores as written), the embeddings byte for byte.
 * Skipped, with the reason, where the binaries are missing or the tests do not run as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../src/io/npy.js';
import { embedCorpora } from '../src/pipeline/embed.js';
import { fitToArtifact } from '../src/pipeline/fit.js';
import { mine } from '../src/pipeline/mine/index.js';
import { BIN, planted, ROOT, TINY_BERT } from './helpers.js';

const BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo'];
const missing = BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
const why =
  missing.length > 0
    ? `Slurm is not installed (missing ${missing.join(', ')}: apt-get install slurm-wlm munge)`
    : process.getuid?.() !== 0
      ? 'slurmd must run as root here'
      : undefined;

let dir: string;
let env: NodeJS.ProcessEnv;
const pids: number[] = [];

function pidOf(file: string): number | undefined {
  for (let i = 0; i < 100; i++) {
    if (existsSync(file)) {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0) return pid;
    }
    spawnSync('sleep', ['0.1']);
  }
  return undefined;
}

async function startCluster(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'lsar-slurm-'));
  for (const d of ['munge', 'state', 'spool', 'log', 'run', 'work']) mkdirSync(join(dir, d));
  chmodSync(join(dir, 'munge'), 0o700);
  writeFileSync(join(dir, 'munge', 'munge.key'), execFileSync('head', ['-c', '1024', '/dev/urandom']), { mode: 0o400 });
  const sock = join(dir, 'munge', 'munge.sock');
  execFileSync('munged', [
    `--key-file=${join(dir, 'munge', 'munge.key')}`,
    `--socket=${sock}`,
    `--pid-file=${join(dir, 'munge', 'munged.pid')}`,
    `--log-file=${join(dir, 'munge', 'munged.log')}`,
    `--seed-file=${join(dir, 'munge', 'seed')}`,
    '--force',
  ]);
  const munged = pidOf(join(dir, 'munge', 'munged.pid'));
  if (munged) pids.push(munged);
  // ports of this run only (another cluster or test may hold Slurm's defaults)
  const base = 20_000 + (process.pid % 20_000);
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=lsartest',
      'SlurmctldHost=localhost(127.0.0.1)',
      `SlurmctldPort=${base}`,
      `SlurmdPort=${base + 1}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${sock}`,
      'CredType=cred/munge',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'run', 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'run', 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'SlurmUser=root',
      'ReturnToService=2',
      'MpiDefault=none',
      'JobCompType=jobcomp/none',
      'AccountingStorageType=accounting_storage/none',
      'JobAcctGatherType=jobacct_gather/none',
      'NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN',
      'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP',
    ].join('\n') + '\n',
  );
  env = { ...process.env, SLURM_CONF: conf };
  execFileSync('slurmctld', ['-f', conf], { env });
  const ctld = pidOf(join(dir, 'run', 'slurmctld.pid'));
  if (ctld) pids.push(ctld);
  execFileSync('slurmd', ['-f', conf, '-N', 'localhost'], { env });
  const d = pidOf(join(dir, 'run', 'slurmd.pid'));
  if (d) pids.push(d);
  for (let i = 0; i < 100; i++) {
    const state = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim();
    if (state === 'idle') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Slurm node did not become idle:\n${readFileSync(join(dir, 'log', 'slurmctld.log'), 'utf8').slice(-2000)}`);
}

beforeAll(async () => {
  if (!why) await startCluster();
}, 60_000);

afterAll(() => {
  for (const pid of pids.reverse()) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  for (const pid of pids) for (let i = 0; i < 50 && alive(pid); i++) spawnSync('sleep', ['0.1']);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(why !== undefined)(`lsar shards on a one-node Slurm cluster${why ? ` (skipped: ${why})` : ''}`, () => {
  it('sbatch --array=0-3 (shards from SLURM_ARRAY_TASK_ID) and an afterok merge job give the single-process results', async () => {
    const w = join(dir, 'work');
    const emb = join(w, 'planted');
    mkdirSync(emb);
    const D = 16;
    const sizes: Record<string, number> = { en: 90, de: 61, fr: 2, ja: 77 };
    const x = planted(Object.keys(sizes), 90, D, 21);
    for (const [l, n] of Object.entries(sizes))
      writeFileSync(join(emb, `${l}.npy`), encodeNpy((x[l] as Float32Array).slice(0, n * D), [n, D]));
    const lines = readFileSync(join(ROOT, 'corpora', 'fr.txt'), 'utf8')
      .split('\n')
      .slice(0, 50);
    writeFileSync(join(w, 'fr.txt'), lines.join('\n') + '\n');
    const lsar = `"${process.execPath}" "${BIN}"`;
    const task = join(w, 'task.sh');
    writeFileSync(
      task,
      `#!/bin/bash
set -euo pipefail
${lsar} embed -i fr=${w}/fr.txt --model ${TINY_BERT} --out ${w}/emb -q
${lsar} stats ${emb} --gram --out ${w}/stats/part-$SLURM_ARRAY_TASK_ID.json -q
${lsar} mine --src ${emb}/en.npy --trg ${emb}/ja.npy --search exact --out ${w}/knn -q
`,
    );
    const merge = join(w, 'merge.sh');
    writeFileSync(
      merge,
      `#!/bin/bash
set -euo pipefail
${lsar} fit --stats ${w}/stats/part-*.json --method lir --out ${w}/merged.json -q
${lsar} mine --from-neighbours ${w}/knn --threshold 0 --out ${w}/merged.tsv -q
`,
    );
    const sbatch = (args: string[]) =>
      execFileSync('sbatch', ['--parsable', '-o', join(dir, 'log', '%x-%A_%a.out'), ...args], { env, encoding: 'utf8' }).trim();
    const array = sbatch(['--array=0-3', '-J', 'shards', task]);
    const after = sbatch([`--dependency=afterok:${array}`, '-J', 'merge', merge]);
    expect(after).toMatch(/^\d+$/);
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      const q = spawnSync('squeue', ['-h', '-o', '%i %T %r'], { env, encoding: 'utf8' }).stdout.trim();
      if (q === '') break;
      if (/DependencyNeverSatisfied/.test(q)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const logs = () =>
      spawnSync('sh', ['-c', `tail -n 5 ${join(dir, 'log')}/*.out`], { encoding: 'utf8' }).stdout +
      readFileSync(join(dir, 'log', 'slurmctld.log'), 'utf8').slice(-1500);
    expect(existsSync(join(w, 'merged.tsv')), logs()).toBe(true);

    // the single process, on the same machine, through the library
    const whole = await fitToArtifact({ dir: emb, method: 'lir', out: join(w, 'whole.json') });
    const merged = JSON.parse(readFileSync(join(w, 'merged.json'), 'utf8')) as { languages: { lang: string; rows: number }[] };
    expect(merged.languages).toEqual(whole.projection.languages);
    const means = await readNpy(join(w, 'merged.means.npy'));
    const L = whole.projection.languages.length;
    for (let i = 0; i < L; i++) {
      const want = whole.projection.means[whole.projection.languages[i]!.lang] as Float64Array;
      for (let j = 0; j < D; j++) {
        const got = means.data[i * D + j] as number;
        expect(Math.abs(got - (want[j] as number)) / Math.max(1e-300, Math.abs(want[j] as number))).toBeLessThan(1e-12);
      }
    }
    await mine({ src: join(emb, 'en.npy'), trg: join(emb, 'ja.npy'), search: 'exact', threshold: 0, out: join(w, 'one.tsv') });
    expect(readFileSync(join(w, 'merged.tsv'), 'utf8')).toBe(readFileSync(join(w, 'one.tsv'), 'utf8'));
    await embedCorpora({ model: TINY_BERT, input: [`fr=${join(w, 'fr.txt')}`], out: join(w, 'emb-one') });
    const one = Buffer.from(((await readNpy(join(w, 'emb-one', 'fr.npy'))).data as Float32Array).buffer);
    const parts: Buffer[] = [];
    for (let i = 0; i < 4; i++)
      parts.push(Buffer.from(((await readNpy(join(w, 'emb', `shard-0000${i}-of-00004`, 'fr.npy'))).data as Float32Array).buffer));
    expect(Buffer.concat(parts).equals(one)).toBe(true);
  }, 300_000);
});
