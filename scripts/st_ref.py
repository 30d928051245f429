"""The sentence-transformers pipeline restated in numpy, on the tiny-bert fixture: what
SentenceTransformer(dir).encode(texts, prompt=...) computes for each variant of tests/fixtures/st.

The encoder is rebuilt from the ONNX file's initialisers (post-LayerNorm BERT, erf GELU, as
bench/torch_embed.py does in PyTorch), one sentence at a time (no padding), from the token ids in
cases.json (lsar's tokeniser; the test checks that lsar still gives those ids). Then, as
sentence_transformers.models does:
  Pooling   cls: token 0; mean: mean over the attention mask; max: max over it (masked = -1e9);
            mean_sqrt_len_tokens: sum / sqrt(tokens); weightedmean: weights 1..seq;
            lasttoken: the last token; include_prompt false: the first prompt_length tokens
            (the prompt with [CLS], without its [SEP]) get mask 0 (cls ignores it)
  Dense     activation(x @ W.T + b), W [out, in] from 2_Dense/model.safetensors
  Normalize x / max(||x||, 1e-12)

  /usr/bin/python3 scripts/st_ref.py      # writes tests/fixtures/st/expected.json
"""
import json
import math
import os
import struct

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIX = os.path.join(ROOT, "tests", "fixtures")
BERT = os.path.join(FIX, "tiny-bert")
ST = os.path.join(FIX, "st")


def erf(x):
    return np.vectorize(math.erf)(x)


def ln(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def encoder_states(w, config, ids):
    """Last hidden states [seq, hidden] of one sentence (float64)."""
    h = config["hidden_size"]
    heads = config["num_attention_heads"]
    eps = config.get("layer_norm_eps", 1e-12)
    s = len(ids)
    lin = lambda x, p: x @ w[p + ".weight"] + w[p + ".bias"]  # ONNX MatMul weights are [in, out]
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:s] + w["embeddings.token_type_embeddings.weight"][0]
    x = ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    hd = h // heads
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}"
        q = lin(x, p + ".attention.self.query").reshape(s, heads, hd).transpose(1, 0, 2)
        k = lin(x, p + ".attention.self.key").reshape(s, heads, hd).transpose(1, 2, 0)
        v = lin(x, p + ".attention.self.value").reshape(s, heads, hd).transpose(1, 0, 2)
        a = q @ k / math.sqrt(hd)
        a = np.exp(a - a.max(-1, keepdims=True))
        a = a / a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(s, h)
        attn = ln(lin(ctx, p + ".attention.output.dense") + x, w[p + ".attention.output.LayerNorm.weight"], w[p + ".attention.output.LayerNorm.bias"], eps)
        inter = lin(attn, p + ".intermediate.dense")
        inter = 0.5 * inter * (1 + erf(inter / math.sqrt(2)))
        x = ln(lin(inter, p + ".output.dense") + attn, w[p + ".output.LayerNorm.weight"], w[p + ".output.LayerNorm.bias"], eps)
    return x


def pool(x, mode, skip):
    s = x.shape[0]
    mask = np.ones(s)
    if skip:
        mask[:skip] = 0
    if mode == "cls":
        return x[0]
    if mode == "max":
        y = np.where(mask[:, None] > 0, x, -1e9)
        return y.max(0)
    if mode == "lasttoken":
        last = int(np.nonzero(mask)[0][-1])
        return x[last]
    if mode == "weightedmean":
        wts = mask * np.arange(1, s + 1)
        return (x * wts[:, None]).sum(0) / max(wts.sum(), 1e-9)
    total = (x * mask[:, None]).sum(0)
    n = max(mask.sum(), 1e-9)
    return total / (math.sqrt(n) if mode == "mean_sqrt_len_tokens" else n)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        assert t["dtype"] == "F32"
        out[name] = np.frombuffer(raw[8 + n + a : 8 + n + b], dtype="<f4").reshape(t["shape"]).astype(np.float64)
    return out


ACT = {
    "torch.nn.modules.activation.Tanh": np.tanh,
    "torch.nn.modules.linear.Identity": lambda v: v,
}


def main():
    model = onnx.load(os.path.join(BERT, "onnx", "model.onnx"))
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
    config = json.load(open(os.path.join(BERT, "config.json")))
    cases = json.load(open(os.path.join(ST, "cases.json")))
    expected = {}
    for name, case in cases["variants"].items():
        d = os.path.join(ST, name)
        modules = sorted(json.load(open(os.path.join(d, "modules.json"))), key=lambda m: m["idx"])
        rows = []
        for ids in case["ids"]:
            x = encoder_states(w, config, ids)
            for m in modules:
                t = m["type"].rsplit(".", 1)[-1]
                if t == "Pooling":
                    c = json.load(open(os.path.join(d, m["path"], "config.json")))
                    mode = next(k for k, key in [("cls", "pooling_mode_cls_token"), ("mean", "pooling_mode_mean_tokens"), ("max", "pooling_mode_max_tokens"), ("mean_sqrt_len_tokens", "pooling_mode_mean_sqrt_len_tokens"), ("weightedmean", "pooling_mode_weightedmean_tokens"), ("lasttoken", "pooling_mode_lasttoken")] if c.get(key))
                    skip = case["promptLength"] if not c.get("include_prompt", True) else 0
                    x = pool(x, mode, skip)
                elif t == "Dense":
                    c = json.load(open(os.path.join(d, m["path"], "config.json")))
                    st = read_safetensors(os.path.join(d, m["path"], "model.safetensors"))
                    x = x @ st["linear.weight"].T + (st["linear.bias"] if c.get("bias", True) else 0)
                    x = ACT[c["activation_function"]](x)
                elif t == "Normalize":
                    x = x / max(np.linalg.norm(x), 1e-12)
            rows.append([float(v) for v in x])
        expected[name] = rows
    out = os.path.join(ST, "expected.json")
    with open(out, "w") as f:
        json.dump({"script": "scripts/st_ref.py", "numpy": np.__version__, "embeddings": expected}, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {', '.join(f'{k} {len(v)}x{len(v[0])}' for k, v in expected.items())}")


if __name__ == "__main__":
    main()
