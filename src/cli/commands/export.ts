import { exportArtifact, exportSchema } from '../../pipeline/export/index.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const exportCommand = defineCommand({
  name: 'export',
  describe: 'Put the projection where pipelines run: inside an encoder (ONNX, sentence_embedding output), or alone as ONNX or safetensors',
  schema: { ...exportSchema, json: outputSchema.json, quiet: { ...outputSchema.quiet, description: 'No messages on stderr' } },
  examples: [
    ['$0 export --model ./models/minilm -p proj.json --out ./models/minilm-lsar', 'the encoder with the projection inside'],
    ['$0 export -p proj.json --out proj.onnx --normalize', 'the projection alone, as an ONNX model'],
    ['$0 export -p proj.json --out proj.safetensors', 'the projection alone, as safetensors'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const s = await exportArtifact(o);
    if (s.kind === 'model') for (const w of s.warnings) ui.events.warn?.('NO_MANIFEST', w);
    if (o.json) {
      io.stdout.write(
        JSON.stringify(s.kind === 'model' ? s : { method: s.method, dim: s.dim, remove: s.remove, format: s.format, out: s.out }) + '\n',
      );
      return;
    }
    if (o.quiet) return;
    if (s.kind === 'projection') {
      io.stderr.write(`exported the projection (${s.method}, ${s.dim}-d, ${s.remove} removed) as ${s.format} -> ${s.out}\n`);
      return;
    }
    const e = s.export;
    const layer = e.layer === null ? 'the last layer' : `layer ${e.layer}`;
    io.stderr.write(
      `exported ${s.model} (${s.onnxFile}, opset ${s.opset}) -> ${s.out}: sentence_embedding = ${e.pooling}${e.excludeSpecial ? ' (no special tokens)' : ''} of ${layer}${e.normalizeInput ? ', normalised' : ''}${e.projection ? `, ${e.projection.method}` : ''}${e.normalize ? ', normalised' : ''}\n`,
    );
  },
});
