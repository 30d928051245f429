"""PyTorch on CPU running the same BERT weights as an lsar benchmark model (what a
sentence-transformers user runs instead of lsar embed).

The encoder is rebuilt in torch from the ONNX file's initialisers (post-LayerNorm BERT, erf GELU,
additive mask -10000, as scripts/make-fixture-model.ts writes it), fed the very batches lsar
tokenised (same ids, same order, same padding), and mean-pooled with the attention mask.
Before timing, its embeddings are checked against lsar's (`--check <lsar embed .npy>`).

  /usr/bin/python3 bench/torch_embed.py --model DIR --batches batches.json --threads 2 [--check lsar.npy]

Prints one JSON line: {"sentences", "seconds", "per_s", "max_abs_diff", "threads", "torch"}.
"""
import argparse
import json
import math
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper


def load_weights(path):
    model = onnx.load(path)
    return {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}


class Bert(torch.nn.Module):
    def __init__(self, w, config):
        super().__init__()
        self.w = w
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.hidden = config["hidden_size"]
        self.eps = config.get("layer_norm_eps", 1e-12)

    def ln(self, x, prefix):
        return torch.nn.functional.layer_norm(x, (self.hidden,), self.w[prefix + ".weight"], self.w[prefix + ".bias"], self.eps)

    def linear(self, x, prefix):
        # the ONNX graph stores MatMul weights as [in, out]
        return torch.addmm(self.w[prefix + ".bias"], x.reshape(-1, x.shape[-1]), self.w[prefix + ".weight"]).reshape(*x.shape[:-1], -1)

    def forward(self, ids, mask):
        w = self.w
        b, s = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.position_embeddings.weight"][:s].unsqueeze(0)
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = self.ln(x, "embeddings.LayerNorm")
        add = ((1.0 - mask.to(torch.float32)) * -10000.0)[:, None, None, :]
        hd = self.hidden // self.heads
        scale = math.sqrt(hd)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"
            q = self.linear(x, p + ".attention.self.query").view(b, s, self.heads, hd).transpose(1, 2)
            k = self.linear(x, p + ".attention.self.key").view(b, s, self.heads, hd).permute(0, 2, 3, 1)
            v = self.linear(x, p + ".attention.self.value").view(b, s, self.heads, hd).transpose(1, 2)
            probs = torch.softmax(torch.matmul(q, k) / scale + add, dim=-1)
            ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, self.hidden)
            attn = self.ln(self.linear(ctx, p + ".attention.output.dense") + x, p + ".attention.output.LayerNorm")
            h = torch.nn.functional.gelu(self.linear(attn, p + ".intermediate.dense"))
            x = self.ln(self.linear(h, p + ".output.dense") + attn, p + ".output.LayerNorm")
        m = mask.to(torch.float32).unsqueeze(-1)
        return (x * m).sum(1) / m.sum(1).clamp(min=1e-9)


def tensors(batch):
    s = max(len(seq) for seq in batch["ids"])
    ids = torch.zeros((len(batch["ids"]), s), dtype=torch.long)
    mask = torch.zeros((len(batch["ids"]), s), dtype=torch.long)
    for i, seq in enumerate(batch["ids"]):
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
    return ids, mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batches", required=True, help="JSON: [{idx: [row...], ids: [[token...]...]}...] in lsar's order")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--check", help="lsar embed's .npy of the same texts (rows in text order)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    config = json.load(open(f"{a.model}/config.json"))
    model = Bert(load_weights(f"{a.model}/onnx/model.onnx"), config).eval()
    batches = json.load(open(a.batches))
    feeds = [tensors(b) for b in batches]
    n = sum(len(b["idx"]) for b in batches)
    diff = None
    with torch.inference_mode():
        if a.check:
            ref = np.load(a.check)
            diff = 0.0
            for b, (ids, mask) in zip(batches[:8], feeds[:8]):
                out = model(ids, mask).numpy()
                diff = max(diff, float(np.abs(out - ref[b["idx"]]).max()))
            if diff > 1e-4:
                print(json.dumps({"error": f"torch and lsar embeddings differ by {diff:.3g} > 1e-4"}))
                raise SystemExit(1)
        for ids, mask in feeds[:2]:
            model(ids, mask)  # warm up
        t = time.perf_counter()
        for ids, mask in feeds:
            model(ids, mask)
        seconds = time.perf_counter() - t
    print(json.dumps({"sentences": n, "seconds": seconds, "per_s": n / seconds, "max_abs_diff": diff, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
