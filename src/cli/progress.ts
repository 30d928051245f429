/** The streams a CLI run talks to (process streams, or captured ones in tests). */
import type { Readable, Writable } from 'node:stream';
import { formatMessage } from '../core/errors.js';
import type { Events } from '../core/events.js';
import type { Schema } from '../core/schema.js';

export interface CliIO {
  stdin: Readable;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

export function processIO(): CliIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/**
 * Progress on stderr: a self-overwriting line on a terminal, a plain line at most
 * every `intervalMs` otherwise, nothing when quiet.
 */
export class Progress {
  private last = Date.now();
  private readonly started = Date.now();

  private active = false;
  constructor(
    private readonly err: CliIO['stderr'],
    private readonly quiet: boolean,
    private readonly intervalMs = 5000,
  ) {}

  update(text: string, force = false): void {
    if (this.quiet) return;
    const now = Date.now();
    const tty = this.err.isTTY === true;
    if (!force && now - this.last < (tty ? 100 : this.intervalMs)) return;
    this.last = now;
    if (tty) {
      this.err.write(`\r\x1b[K${text}`);
      this.active = true;
    } else {
      this.err.write(`${text}\n`);
    }
  }

  private key: string | undefined;
  private keyStart = Date.now();
  private keyDone = 0;

  /**
   * Rate and ETA text for `done` of `total` units; the clock restarts when `key` (e.g. the
   * language) changes, counting from that first report's `done` (work before it took an unknown
   * time), and no rate is shown before half a second of it.
   */
  rate(done: number, total: number | undefined, unit: string, key?: string): string {
    if (key !== this.key) {
      this.key = key;
      this.keyStart = key === undefined ? this.started : Date.now();
      this.keyDone = key === undefined ? 0 : done;
    }
    const secs = (Date.now() - this.keyStart) / 1000;
    const perSec = secs >= 0.5 ? (done - this.keyDone) / secs : 0;
    let s = `${done.toLocaleString('en-US')}${total !== undefined ? `/${total.toLocaleString('en-US')}` : ''} ${unit}`;
    if (perSec > 0) s += `, ${Math.round(perSec).toLocaleString('en-US')} ${unit}/s`;
    if (total !== undefined && perSec > 0 && done < total) s += `, ETA ${Math.ceil((total - done) / perSec)} s`;
    return s;
  }

  done(text?: string): void {
    if (this.quiet) return;
    if (this.active) this.err.write('\r\x1b[K');
    this.active = false;
    if (text) this.err.write(`${text}\n`);
  }
}

/**
 * The CLI's side of the events contract: progress as Progress lines (a stage's final report
 * always shown), warnings at once on stderr (`lsar: warning: ...`, options shown as flags).
 */
export function cliEvents(
  io: CliIO,
  options: { quiet: boolean; intervalMs?: number; flagOf?: (param: string) => string },
): { events: Events; done(): void } {
  const p = new Progress(io.stderr, options.quiet, options.intervalMs);
  const flagOf = options.flagOf ?? ((param: string) => `--${param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  const events: Events = {
    progress(stage, done, total, detail = {}) {
      const unit = detail.unit ?? 'items';
      if (detail.final && unit === '') {
        p.update(`${stage}${detail.note ? `: ${detail.note}` : ''}`, true);
        return;
      }
      if (detail.final) {
        p.update(`${stage}: ${done.toLocaleString('en-US')} ${unit}${detail.note ? `, ${detail.note}` : ''}`, true);
        return;
      }
      p.update(`${stage}: ${p.rate(done, total, unit, stage)}${detail.note ? `, ${detail.note}` : ''}`);
    },
    warn(_code, message, template) {
      if (options.quiet) return;
      p.done();
      io.stderr.write(`lsar: warning: ${template !== undefined ? formatMessage(template, flagOf) : message}\n`);
    },
  };
  return { events, done: () => p.done() };
}

/** The CLI's own options of every command that reports (not the library's). */
export const outputSchema = {
  json: { type: 'boolean', default: false, description: 'Print a JSON summary on stdout' },
  quiet: { type: 'boolean', alias: 'q', default: false, description: 'No progress on stderr' },
} as const satisfies Schema;
