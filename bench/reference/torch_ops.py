"""The PyTorch side of `npm run bench:ops`: the ops of one DistilBERT-base / T5-base encoder layer on the shapes
of a batch of 32 passages x L tokens, each timed alone (median of REPS runs), printed as JSON {op: ms}.
Usage: torch_ops.py THREADS L REPS"""
import json, math, sys, time
import torch
import torch.nn.functional as F

threads, L, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads); torch.manual_seed(0)
B, D, H, FF = 32, 768, 12, 3072
x = torch.randn(B, L, D); h = torch.randn(B, L, FF)
w_dd, b_d = torch.randn(D, D) * 0.02, torch.randn(D) * 0.02
w_fd, b_f = torch.randn(FF, D) * 0.02, torch.randn(FF) * 0.02
w_df = torch.randn(D, FF) * 0.02
q = torch.randn(B, H, L, 64); k = torch.randn(B, H, 64, L); s = torch.randn(B, H, L, L)
mask = torch.zeros(B, 1, 1, L, dtype=torch.bool); mask[:, :, :, L - 5:] = True
ln_w, ln_b = torch.ones(D), torch.zeros(D)
ops = {
  "linear 768->768 +bias": lambda: F.linear(x, w_dd, b_d),
  "linear 768->3072 +bias": lambda: F.linear(x, w_fd, b_f),
  "linear 3072->768 +bias": lambda: F.linear(h, w_df, b_d),
  "linear 768->768 no bias": lambda: F.linear(x, w_dd),
  "matmul q@k^T": lambda: q @ k,
  "matmul p@v": lambda: s @ q,
  "softmax": lambda: s.softmax(-1),
  "masked_fill": lambda: s.masked_fill(mask, -float("inf")),
  "layer_norm": lambda: F.layer_norm(x, (D,), ln_w, ln_b, 1e-12),
  "gelu": lambda: F.gelu(h),
  "relu": lambda: F.relu(h),
  "add": lambda: x + x,
  "transpose+reshape": lambda: x.view(B, L, H, 64).transpose(1, 2).reshape(B, H * L, 64),
  "rms (T5 LayerNorm)": lambda: ln_w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)),
}
out = {}
for name, fn in ops.items():
    for _ in range(2): fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1000)
    ts.sort(); out[name] = ts[len(ts) // 2]
print(json.dumps(out))
