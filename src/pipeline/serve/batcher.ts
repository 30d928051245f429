/**
 * Dynamic batching: inputs of concurrent requests wait in one queue and are embedded together,
 * in length-sorted batches of at most `maxBatch`; each request gets exactly its own rows back.
 * A window of up to 8 batches runs when full, or when its oldest input has waited `maxWaitMs`.
 */
import { planBatches } from '../../core/batching.js';

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  /** Inputs that may wait; a request that would exceed it is refused (QueueFull). */
  maxQueue: number;
  /** Token budget per forward pass (batch size x longest), as lsar embed --max-tokens. */
  maxTokens?: number | undefined;
}

/** Batches per length-sorted window, as lsar embed sorts. */
const WINDOW_BATCHES = 8;

/** One forward pass: token-id sequences -> rows (`batch.length x dim`). */
export type RunBatch = (batch: number[][]) => Promise<{ data: Float32Array; dim: number }>;

/** A request's share of the queue. Set `cancelled` to drop what has not run yet. */
export class Ticket {
  cancelled = false;
  remaining: number;
  out: Float32Array | undefined;
  dim = 0;
  readonly done: Promise<{ data: Float32Array; dim: number }>;
  resolve!: (v: { data: Float32Array; dim: number }) => void;
  reject!: (e: unknown) => void;
  constructor(readonly rows: number) {
    this.remaining = rows;
    this.done = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    this.done.catch(() => undefined);
  }
  /** Drop what has not run yet; `done` rejects with `reason`. */
  cancel(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reject(reason);
  }
}

interface Job {
  ids: number[];
  ticket: Ticket;
  row: number;
  at: number;
}

export class QueueFull extends Error {}

export class Batcher {
  private queue: Job[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void)[] = [];

  constructor(
    private readonly run: RunBatch,
    private readonly o: BatcherOptions,
    /** After each forward pass: inputs, their tokens, and the tokens the padded batch held. */
    private readonly onBatch?: (size: number, tokens: number, padded: number) => void,
  ) {}

  /** Inputs waiting (cancelled ones are dropped when next looked at). */
  get depth(): number {
    return this.queue.length;
  }

  /** Queue a request's inputs; resolves with its rows in order. Throws QueueFull at once when there is no room. */
  submit(ids: number[][]): Ticket {
    if (this.queue.length + ids.length > this.o.maxQueue) {
      this.queue = this.queue.filter((j) => !j.ticket.cancelled);
      if (this.queue.length + ids.length > this.o.maxQueue)
        throw new QueueFull(`the queue holds ${this.queue.length} inputs (limit ${this.o.maxQueue})`);
    }
    const ticket = new Ticket(ids.length);
    const at = performance.now();
    ids.forEach((seq, row) => this.queue.push({ ids: seq, ticket, row, at }));
    this.schedule();
    return ticket;
  }

  /** Resolves when nothing is queued or running. */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private schedule(): void {
    if (this.running) return;
    this.queue = this.queue.filter((j) => !j.ticket.cancelled);
    if (this.queue.length === 0) {
      for (const r of this.idle.splice(0)) r();
      return;
    }
    const wait = this.o.maxWaitMs - (performance.now() - (this.queue[0] as Job).at);
    // a full window runs at once; otherwise the oldest input waits up to maxWaitMs for others (longer windows sort into less padding)
    if (this.queue.length >= this.o.maxBatch * WINDOW_BATCHES || wait <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.running = true;
      void this.step().finally(() => {
        this.running = false;
        this.schedule();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    }
  }

  /** Take a window of the queue (oldest first), plan length-sorted batches as lsar embed does, run them. */
  private async step(): Promise<void> {
    const window = this.queue.splice(0, this.o.maxBatch * WINDOW_BATCHES);
    const plan = planBatches(
      window.map((j) => j.ids.length),
      this.o.maxBatch,
      this.o.maxTokens,
    );
    for (const batch of plan.batches) {
      const jobs = batch.map((i) => window[i] as Job).filter((j) => !j.ticket.cancelled);
      if (jobs.length === 0) continue;
      let r: { data: Float32Array; dim: number };
      try {
        r = await this.run(jobs.map((j) => j.ids));
      } catch (e) {
        for (const j of jobs) j.ticket.cancel(e);
        continue;
      }
      this.onBatch?.(
        jobs.length,
        jobs.reduce((n, j) => n + j.ids.length, 0),
        jobs.length * Math.max(...jobs.map((j) => j.ids.length)),
      );
      const d = r.dim;
      jobs.forEach((j, i) => {
        const t = j.ticket;
        if (t.cancelled) return;
        t.dim = d;
        t.out ??= new Float32Array(t.rows * d);
        t.out.set(r.data.subarray(i * d, (i + 1) * d), j.row * d);
        if (--t.remaining === 0) t.resolve({ data: t.out, dim: d });
      });
    }
  }
}
