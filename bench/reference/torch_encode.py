"""The PyTorch side of `npm run bench:encode`: the same encoder shapes (transformers' DistilBERT / T5 encoder
forward, written out in plain torch because transformers is not installable here), random weights, the same
length-sorted batches of token ids. Prints passages/s. Usage: torch_encode.py CONFIG IDS_JSON fp32|bf16 THREADS POOL"""
import json, math, sys, time
import torch
import torch.nn.functional as F

cfg = json.load(open(sys.argv[1])); ids = json.load(open(sys.argv[2])); dtype = sys.argv[3]; threads = int(sys.argv[4]); pool = sys.argv[5]
torch.set_num_threads(threads); torch.manual_seed(0)
r = lambda *s: torch.randn(*s) * 0.02

if cfg["model_type"] == "distilbert":
    d, h, ff, L = cfg["dim"], cfg["n_heads"], cfg["hidden_dim"], cfg["n_layers"]
    W = dict(we=r(cfg["vocab_size"], d), pe=r(cfg["max_position_embeddings"], d))
    layers = [dict(q=(r(d, d), r(d)), k=(r(d, d), r(d)), v=(r(d, d), r(d)), o=(r(d, d), r(d)), l1=(r(ff, d), r(ff)), l2=(r(d, ff), r(d))) for _ in range(L)]
    def forward(x, m):
        b, l = x.shape
        e = F.layer_norm(W["we"][x] + W["pe"][:l].unsqueeze(0), (d,), eps=1e-12)
        mask = (m == 0).view(b, 1, 1, l)
        for p in layers:
            sh = lambda t: t.view(b, l, h, d // h).transpose(1, 2)
            q = sh(F.linear(e, *p["q"])) / math.sqrt(d // h); k = sh(F.linear(e, *p["k"])); v = sh(F.linear(e, *p["v"]))
            s = (q @ k.transpose(2, 3)).masked_fill(mask, -float("inf")).softmax(-1)
            c = (s @ v).transpose(1, 2).reshape(b, l, d)
            sa = F.layer_norm(F.linear(c, *p["o"]) + e, (d,), eps=1e-12)
            e = F.layer_norm(F.linear(F.gelu(F.linear(sa, *p["l1"])), *p["l2"]) + sa, (d,), eps=1e-12)
        return e
else:
    d, h, kv, ff, L = cfg["d_model"], cfg["num_heads"], cfg["d_kv"], cfg["d_ff"], cfg["num_layers"]
    W = dict(emb=r(cfg["vocab_size"], d), rel=r(cfg["relative_attention_num_buckets"], h), fn=torch.ones(d))
    layers = [dict(q=r(h * kv, d), k=r(h * kv, d), v=r(h * kv, d), o=r(d, h * kv), ln0=torch.ones(d), ln1=torch.ones(d), wi=r(ff, d), wo=r(d, ff)) for _ in range(L)]
    def rms(x, w):
        return w * (x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6)).to(w.dtype)
    def buckets(l, nb=32, md=128):
        rel = torch.arange(l)[None, :] - torch.arange(l)[:, None]; nb //= 2
        ret = (rel > 0).long() * nb; n = rel.abs(); me = nb // 2
        large = me + (torch.log(n.float() / me) / math.log(md / me) * (nb - me)).long()
        return ret + torch.where(n < me, n, torch.clamp(large, max=nb - 1))
    def forward(x, m):
        b, l = x.shape
        e = W["emb"][x]
        bias = W["rel"][buckets(l)].permute(2, 0, 1).unsqueeze(0) + (1.0 - m[:, None, None, :].float()) * -10000.0
        for p in layers:
            n = rms(e, p["ln0"]); sh = lambda t: t.view(b, l, h, kv).transpose(1, 2)
            s = (sh(F.linear(n, p["q"])) @ sh(F.linear(n, p["k"])).transpose(3, 2)) + bias
            c = (s.float().softmax(-1).type_as(s) @ sh(F.linear(n, p["v"]))).transpose(1, 2).reshape(b, l, h * kv)
            e = e + F.linear(c, p["o"])
            e = e + F.linear(F.relu(F.linear(rms(e, p["ln1"]), p["wi"])), p["wo"])
        return rms(e, W["fn"])

def encode(seqs):
    order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))
    for s in range(0, len(order), 32):
        batch = [seqs[i] for i in order[s:s + 32]]; l = max(len(t) for t in batch)
        x = torch.tensor([t + [0] * (l - len(t)) for t in batch]); m = torch.tensor([[1] * len(t) + [0] * (l - len(t)) for t in batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
            out = forward(x, m)
            v = out[:, 0] if pool == "cls" else (out * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True)
        v.float()

with torch.inference_mode():
    encode(ids[:64])
    t = time.perf_counter(); encode(ids); s = time.perf_counter() - t
print(f"{len(ids) / s:.1f}")
