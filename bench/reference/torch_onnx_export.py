"""Debian torch.onnx export of a DistilBERT sentence-transformers folder (CLS or mean pooling, optional Normalize),
for `npm run bench:encode` when densekit's own exporter is not available, and as an independent cross-check of it.
Same graph contract as `densekit export`: inputs input_ids, attention_mask (int64 [batch, sequence]); outputs
sentence_embedding, token_embeddings. Usage: torch_onnx_export.py MODEL_DIR OUT.onnx"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

src, out = sys.argv[1], sys.argv[2]
cfg = json.load(open(os.path.join(src, "config.json")))
assert cfg["model_type"] == "distilbert", "only DistilBERT here"
with open(os.path.join(src, "model.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); body = f.read()
W = {}
for k, v in header.items():
    if k == "__metadata__": continue
    a, b = v["data_offsets"]; assert v["dtype"] == "F32"
    W[k.removeprefix("distilbert.")] = torch.from_numpy(np.frombuffer(body[a:b], dtype=np.float32).reshape(v["shape"]).copy())
modules = json.load(open(os.path.join(src, "modules.json")))
pool = json.load(open(os.path.join(src, next(m["path"] for m in modules if m["type"].endswith("Pooling")), "config.json")))
cls = pool.get("pooling_mode_cls_token", False); normalize = any(m["type"].endswith("Normalize") for m in modules)
d, h, L = cfg["dim"], cfg["n_heads"], cfg["n_layers"]

class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # Parameters, not globals: torch.onnx writes them as initializers (globals would become Constant nodes).
        self.w = torch.nn.ParameterDict({k.replace(".", "__"): torch.nn.Parameter(v, requires_grad=False) for k, v in W.items()})
    def forward(self, x, m):
        W = {k.replace("__", "."): v for k, v in self.w.items()}
        b, l = x.shape
        pos = torch.arange(l, device=x.device)
        e = F.layer_norm(W["embeddings.word_embeddings.weight"][x] + W["embeddings.position_embeddings.weight"][pos].unsqueeze(0), (d,),
                         W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps=1e-12)
        mask = (m == 0).view(b, 1, 1, l)
        for i in range(L):
            p = lambda n: W[f"transformer.layer.{i}.{n}"]
            sh = lambda t: t.view(b, l, h, d // h).transpose(1, 2)
            lin = lambda t, n: F.linear(t, p(n + ".weight"), p(n + ".bias"))
            q = sh(lin(e, "attention.q_lin")) / math.sqrt(d // h); k = sh(lin(e, "attention.k_lin")); v = sh(lin(e, "attention.v_lin"))
            s = (q @ k.transpose(2, 3)).masked_fill(mask, torch.finfo(torch.float32).min).softmax(-1)
            c = (s @ v).transpose(1, 2).reshape(b, l, d)
            sa = F.layer_norm(lin(c, "attention.out_lin") + e, (d,), p("sa_layer_norm.weight"), p("sa_layer_norm.bias"), eps=1e-12)
            e = F.layer_norm(lin(F.gelu(lin(sa, "ffn.lin1")), "ffn.lin2") + sa, (d,), p("output_layer_norm.weight"), p("output_layer_norm.bias"), eps=1e-12)
        if cls: s = e[:, 0]
        else:
            mf = m.unsqueeze(-1).to(e.dtype); s = (e * mf).sum(1) / mf.sum(1).clamp(min=1e-9)
        if normalize: s = F.normalize(s, p=2.0, dim=1)
        return s, e

x = torch.ones(2, 7, dtype=torch.int64); m = torch.ones(2, 7, dtype=torch.int64)
torch.onnx.export(M(), (x, m), out, input_names=["input_ids", "attention_mask"], output_names=["sentence_embedding", "token_embeddings"],
                  dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                                "sentence_embedding": {0: "batch"}, "token_embeddings": {0: "batch", 1: "sequence"}}, opset_version=14)
