"""The PyTorch side of `npm run bench:train`: one training step of the same shapes in plain torch (transformers is
not installable here): random weights, dropout 0.1, queries 30 / passages 200 tokens, the TAS-B dual-teacher
Margin-MSE with Adam, or the GTR bidirectional in-batch softmax with hard negatives and a factored (Adafactor-style)
update. Prints samples/s. Usage: torch_train.py tasb|gtr fp32|bf16 THREADS BATCH STEPS"""
import math, sys, time
import torch
import torch.nn.functional as F

kind, dtype, threads, B, steps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads); torch.manual_seed(0)
P = []
def r(*s):
    t = (torch.randn(*s) * 0.02).requires_grad_(); P.append(t); return t
def o(*s):
    t = torch.ones(*s).requires_grad_(); P.append(t); return t
drop = lambda x: F.dropout(x, 0.1, True)

if kind == "tasb":
    d, h, ff = 768, 12, 3072
    we, pe, eln = r(30522, d), r(512, d), (o(d), r(d))
    layers = [dict(q=(r(d, d), r(d)), k=(r(d, d), r(d)), v=(r(d, d), r(d)), o=(r(d, d), r(d)), ln1=(o(d), r(d)), l1=(r(ff, d), r(ff)), l2=(r(d, ff), r(d)), ln2=(o(d), r(d))) for _ in range(6)]
    def encode(x):
        b, l = x.shape
        e = drop(F.layer_norm(we[x] + pe[:l].unsqueeze(0), (d,), *eln, eps=1e-12))
        for p in layers:
            sh = lambda t: t.view(b, l, h, d // h).transpose(1, 2)
            q = sh(F.linear(e, *p["q"])) / math.sqrt(d // h); k = sh(F.linear(e, *p["k"])); v = sh(F.linear(e, *p["v"]))
            c = (drop((q @ k.transpose(2, 3)).softmax(-1)) @ v).transpose(1, 2).reshape(b, l, d)
            sa = F.layer_norm(F.linear(c, *p["o"]) + e, (d,), *p["ln1"], eps=1e-12)
            e = F.layer_norm(drop(F.linear(F.gelu(F.linear(sa, *p["l1"])), *p["l2"])) + sa, (d,), *p["ln2"], eps=1e-12)
        return e[:, 0]
    opt = torch.optim.Adam(P, lr=7e-6)
else:
    d, h, kv, ff = 768, 12, 64, 3072
    emb, rel, fn, dense = r(32000, d), r(32, h), o(d), r(d, d)
    layers = [dict(q=r(h * kv, d), k=r(h * kv, d), v=r(h * kv, d), o=r(d, h * kv), ln0=o(d), ln1=o(d), wi=r(ff, d), wo=r(d, ff)) for _ in range(12)]
    rms = lambda x, w: w * (x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6)).to(w.dtype)
    def buckets(l, nb=16, me=8, md=128):
        rp = torch.arange(l)[None, :] - torch.arange(l)[:, None]; n = rp.abs()
        large = me + (torch.log(n.float() / me) / math.log(md / me) * (nb - me)).long()
        return (rp > 0).long() * nb + torch.where(n < me, n, torch.clamp(large, max=nb - 1))
    def encode(x):
        b, l = x.shape
        e = drop(emb[x]); bias = rel[buckets(l)].permute(2, 0, 1).unsqueeze(0)
        for p in layers:
            n = rms(e, p["ln0"]); sh = lambda t: t.view(b, l, h, kv).transpose(1, 2)
            s = sh(F.linear(n, p["q"])) @ sh(F.linear(n, p["k"])).transpose(3, 2) + bias
            c = (drop(s.float().softmax(-1).type_as(s)) @ sh(F.linear(n, p["v"]))).transpose(1, 2).reshape(b, l, h * kv)
            e = e + drop(F.linear(c, p["o"]))
            e = e + drop(F.linear(drop(F.relu(F.linear(rms(e, p["ln1"]), p["wi"]))), p["wo"]))
        e = drop(rms(e, fn)).mean(1)
        return F.normalize(F.linear(e, dense), dim=-1)
    class Factored:  # Adafactor's update shape: row/column second moments for matrices, no first moment
        def __init__(self, ps): self.ps = ps
        @torch.no_grad()
        def step(self):
            for p in self.ps:
                g2 = p.grad * p.grad + 1e-30
                if p.dim() == 2:
                    rr = g2.mean(1); cc = g2.mean(0); u = p.grad * (rr / rr.mean()).rsqrt()[:, None] * cc.rsqrt()[None, :]
                else:
                    u = p.grad * g2.rsqrt()
                u /= max(u.pow(2).mean().sqrt().item(), 1.0); p.add_(u, alpha=-1e-3)
        def zero_grad(self):
            for p in self.ps: p.grad = None
    opt = Factored(P)

teacher = torch.rand(B, B) * 10
def step():
    q, pos, neg = torch.randint(5, 30000, (B, 30)), torch.randint(5, 30000, (B, 200)), torch.randint(5, 30000, (B, 200))
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
        qv, pv, nv = encode(q).float(), encode(pos).float(), encode(neg).float()
    if kind == "tasb":
        sp, sn = qv @ pv.T, qv @ nv.T
        pair = F.mse_loss(sp.diag() - sn.diag(), torch.full((B,), 5.0))
        off = ~torch.eye(B, dtype=torch.bool)
        inb = 0.5 * F.mse_loss((sp.diag()[:, None] - sp)[off], (teacher.diag()[:, None] - teacher)[off]) \
            + 0.5 * F.mse_loss((sp.diag()[:, None] - sn)[off], (teacher.diag()[:, None] - teacher)[off])
        loss = pair + 0.75 * inb
    else:
        labels = torch.arange(B)
        loss = F.cross_entropy(100 * qv @ torch.cat([pv, nv]).T, labels) + F.cross_entropy(100 * pv @ qv.T, labels)
    loss.backward(); opt.step()

step()
t = time.perf_counter()
for _ in range(steps): step()
print(f"{steps * B / (time.perf_counter() - t):.2f}")
