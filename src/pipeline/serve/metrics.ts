/** The server's counters, gauges and histograms, rendered in the Prometheus text format (0.0.4). */

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (v <= (this.bounds[i] as number)) this.counts[i]!++;
  }
  render(name: string, help: string): string {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    this.bounds.forEach((b, i) => lines.push(`${name}_bucket{le="${b}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export class Metrics {
  /** Requests answered, by route and status code. */
  private readonly requests = new Map<string, number>();
  sentences = 0;
  tokens = 0;
  truncated = 0;
  batches = 0;
  /** Token positions the forward passes computed, padding included. */
  paddedTokens = 0;
  readonly batchSize = new Histogram([1, 2, 4, 8, 16, 32, 64, 128, 256]);
  readonly latency = new Histogram([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);

  constructor(private readonly gauges: () => { queueDepth: number; inFlight: number; ready: boolean }) {}

  request(route: string, status: number, seconds?: number): void {
    const key = `route="${route}",code="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (seconds !== undefined) this.latency.observe(seconds);
  }

  render(): string {
    const g = this.gauges();
    const one = (name: string, type: 'counter' | 'gauge', help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}`;
    const out: string[] = [
      '# HELP lsar_requests_total HTTP requests answered, by route and status code.',
      '# TYPE lsar_requests_total counter',
      ...[...this.requests].map(([k, v]) => `lsar_requests_total{${k}} ${v}`),
      one('lsar_sentences_total', 'counter', 'Inputs embedded.', this.sentences),
      one('lsar_tokens_total', 'counter', 'Tokens embedded (after truncation).', this.tokens),
      one('lsar_truncated_inputs_total', 'counter', 'Inputs truncated to the model maximum length.', this.truncated),
      one('lsar_batches_total', 'counter', 'Forward passes of the model.', this.batches),
      one(
        'lsar_batch_token_positions_total',
        'counter',
        'Token positions computed, padding included (padding = 1 - tokens / positions).',
        this.paddedTokens,
      ),
      this.batchSize.render('lsar_batch_size', 'Inputs per forward pass.'),
      one('lsar_queue_depth', 'gauge', 'Inputs waiting for a forward pass.', g.queueDepth),
      one('lsar_requests_in_flight', 'gauge', 'Embedding requests accepted and not yet answered.', g.inFlight),
      one('lsar_ready', 'gauge', '1 once the model is loaded.', g.ready ? 1 : 0),
      this.latency.render('lsar_request_duration_seconds', 'Time from an embedding request to its response.'),
      one('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', process.memoryUsage.rss()),
    ];
    return out.join('\n') + '\n';
  }
}
