"""pytorch_reference.py — the splatlm GPT training step, written in plain PyTorch (eager; CPU, or GPU with --device cuda).

`splatlm bench train --compare` runs this script beside its own measurement, on the same model
and thread count, so that our tokens/s can be read against what an ordinary PyTorch user would
get. PyTorch is only this benchmark's reference on a developer's machine: the product and its
tests never need it. Without it the script says so on stderr and exits 3, and the C++ driver
skips the column.

It mirrors nn/gpt.cpp, nn/layers.cpp and nn/softmax_attention.cpp:
  * x = wte[ids] + wpe[pos]; pre-LN blocks x += proj(attn(ln1(x))), x += mlp(ln2(x)) (LayerNorm
    eps 1e-5); final LayerNorm; logits = x · wteᵀ (tied); loss = mean cross-entropy over B·T.
  * attention: one fused qkv Linear(C, 3C) laid out [q | k | v], heads side by side in each;
    causal softmax with scale 1/√D, either F.scaled_dot_product_attention (--attention sdpa) or
    the textbook masked softmax (--attention naive); then proj Linear(C, C).
  * MLP: Linear(C, 4C) → GELU (tanh approximation) → Linear(4C, C); every Linear has a bias.
  * init N(0, 0.02), wpe N(0, 0.01), residual projections N(0, 0.02/√(2·layers)), biases 0.
  * AdamW(lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on Linear weights only),
    global-norm clipping at 1.0.
One measured step = forward + backward + clip + optimizer step + zero_grad on a seeded batch of
uniform random token ids and targets (made before the clock starts, as in bench/bench_train.cpp).
"""

import argparse
import json
import math
import statistics
import sys
import time


def skip(reason):
    """No usable PyTorch: say so on one line and exit 3, so the C++ driver skips the column."""
    print(f"{reason} — the reference column is skipped", file=sys.stderr)
    sys.exit(3)


try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ModuleNotFoundError:
    skip("PyTorch is not installed: pip install torch")
except ImportError as err:  # installed but broken, e.g. a shared library missing
    skip(f"PyTorch failed to import ({err})")


def linear(fan_in, fan_out, std):
    """A Linear with bias, weight N(0, std), bias 0 — as nn/layers.cpp initialises it."""
    layer = nn.Linear(fan_in, fan_out)
    nn.init.normal_(layer.weight, std=std)
    nn.init.zeros_(layer.bias)
    return layer


def naive_causal_attention(q, k, v, mask):
    """softmax(q·kᵀ/√D, future masked to −∞) · v, the textbook way: the [T, T] scores are materialised."""
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    return scores.masked_fill(mask, float("-inf")).softmax(dim=-1) @ v


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads, context, residual_std, naive):
        super().__init__()
        self.heads, self.naive = heads, naive
        self.qkv = linear(width, 3 * width, 0.02)
        self.proj = linear(width, width, residual_std)
        self.register_buffer("future", torch.ones(context, context, dtype=torch.bool).triu(1), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)  # each [B, H, T, D]
        if self.naive:
            y = naive_causal_attention(q, k, v, self.future[:T, :T])
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, width, heads, context, residual_std, naive):
        super().__init__()
        self.ln1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads, context, residual_std, naive)
        self.ln2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(linear(width, 4 * width, 0.02), nn.GELU(approximate="tanh"),
                                 linear(4 * width, width, residual_std))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab, context, layers, heads, width, naive):
        super().__init__()
        residual_std = 0.02 / math.sqrt(2 * layers)
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        self.blocks = nn.ModuleList(Block(width, heads, context, residual_std, naive) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)

    def loss(self, ids, targets):
        x = self.wte(ids) + self.wpe(torch.arange(ids.size(1)))
        for block in self.blocks:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied: x · wteᵀ
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def expected_parameters(a):
    """12·L·C² + 13·L·C per block stack, (V+T)·C embeddings, 2·C final LayerNorm."""
    L, C = a.layers, a.width
    return 12 * L * C * C + 13 * L * C + (a.vocab + a.context) * C + 2 * C


def make_optimizer(model, impl):
    """AdamW, weight decay 0.1 on Linear weights only; impl picks PyTorch's code path."""
    decayed = {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}
    params = list(model.parameters())
    groups = [{"params": [p for p in params if id(p) in decayed], "weight_decay": 0.1},
              {"params": [p for p in params if id(p) not in decayed], "weight_decay": 0.0}]
    flags = {"default": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}[impl]
    return torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, **flags)


def adamw_code_path(impl, params):
    """The name of the AdamW code path that runs: what 'default' resolves to on these tensors."""
    if impl != "default":
        return impl
    try:  # private, but it is exactly how AdamW resolves foreach=None and fused=None
        from torch.optim.optimizer import _default_to_fused_or_foreach
    except ImportError:
        return "default"
    fused, foreach = _default_to_fused_or_foreach(params, differentiable=False, use_fused=False)
    return "fused" if fused else "foreach" if foreach else "for-loop"


def reset_peak_rss():
    """Linux: the peak resident set (VmHWM) starts again from the current one."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    """The process's peak resident set since reset_peak_rss(), in MiB (-1 where /proc is missing)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1


def step_times(model, optimizer, a):
    """Wall time (s) of each measured training step, after the warm-up steps, and the peak resident
    set (MiB) during them. On the GPU a step ends when its kernels have run (torch.cuda.synchronize),
    as in bench/bench_train.cpp."""
    params = list(model.parameters())
    rng = torch.Generator().manual_seed(7)
    times = []
    for s in range(a.warmup + a.steps):
        ids = torch.randint(a.vocab, (a.batch, a.context), generator=rng).to(a.device)
        targets = torch.randint(a.vocab, (a.batch, a.context), generator=rng).to(a.device)
        if s == a.warmup:
            reset_peak_rss()
        t0 = time.perf_counter()
        model.loss(ids, targets).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad()
        if a.device == "cuda":
            torch.cuda.synchronize()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    return times, peak_rss_mb()


def positive(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(description="Median training tokens/s of the splatlm GPT in PyTorch (eager, CPU or GPU).")
    p.add_argument("--threads", type=positive, default=2, help="intra-op threads (default 2; inter-op is 1)")
    p.add_argument("--steps", type=positive, default=30, help="measured steps (default 30)")
    p.add_argument("--warmup", type=int, default=5, help="unmeasured steps first (default 5)")
    p.add_argument("--batch", type=positive, default=12)
    p.add_argument("--context", type=positive, default=64)
    p.add_argument("--layers", type=positive, default=4)
    p.add_argument("--heads", type=positive, default=4)
    p.add_argument("--width", type=positive, default=128)
    p.add_argument("--vocab", type=positive, default=256)
    p.add_argument("--attention", choices=["sdpa", "naive"], default="sdpa",
                   help="sdpa: F.scaled_dot_product_attention; naive: masked softmax (default sdpa)")
    p.add_argument("--adamw", choices=["default", "foreach", "fused"], default="default",
                   help="AdamW code path; 'default' lets PyTorch choose (the for-loop one on CPU)")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: eager PyTorch on the GPU (FP32, TF32 off, as splatlm computes)")
    p.add_argument("--json", action="store_true", help="one JSON object on one line")
    a = p.parse_args(argv)
    if a.warmup < 0:
        p.error("--warmup must be >= 0")
    if a.width % a.heads:
        p.error(f"--width {a.width} is not divisible by --heads {a.heads}")
    return a


def main(argv):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    if a.device == "cuda":
        if not torch.cuda.is_available():
            skip("pytorch_reference: torch sees no GPU")
        torch.backends.cuda.matmul.allow_tf32 = False  # FP32 GEMMs, like splatlm's cuBLAS calls
        torch.backends.cudnn.allow_tf32 = False
    model = GPT(a.vocab, a.context, a.layers, a.heads, a.width, naive=a.attention == "naive").to(a.device)
    params = sum(p.numel() for p in model.parameters())
    if params != expected_parameters(a):
        sys.exit(f"pytorch_reference: the model has {params} parameters, the formula says {expected_parameters(a)}")
    optimizer = make_optimizer(model, a.adamw)
    adamw = adamw_code_path(a.adamw, list(model.parameters()))
    times, peak_rss = step_times(model, optimizer, a)
    median = statistics.median(times)
    tokens_per_s = a.batch * a.context / median
    if a.json:
        print(json.dumps({
            "kind": "pytorch_train", "device": a.device, "impl": a.attention, "tokens_per_s": round(tokens_per_s, 1),
            "ms_per_step": round(median * 1e3, 3), "params": params, "threads": torch.get_num_threads(),
            "batch": a.batch, "context": a.context, "layers": a.layers, "heads": a.heads, "width": a.width,
            "vocab": a.vocab, "torch": torch.__version__, "adamw": adamw, "peak_rss_mb": round(peak_rss, 1)}))
        return
    print(f"PyTorch {torch.__version__} training step, eager {a.device}, {torch.get_num_threads()} threads")
    print(f"  model      {a.layers} layers, {a.heads} heads, width {a.width}, context {a.context}, "
          f"batch {a.batch}, vocab {a.vocab}: {params:,} parameters")
    print(f"  attention  {a.attention}    AdamW {adamw}")
    print(f"  median     {median * 1e3:8.2f} ms/step  {tokens_per_s:9.0f} tokens/s")
    print(f"  peak resident set during the steps {peak_rss:.0f} MiB")
    print(f"  spread     {min(times) * 1e3:8.2f} .. {max(times) * 1e3:.2f} ms over {a.steps} steps "
          f"after {a.warmup} warm-up")


if __name__ == "__main__":
    main(sys.argv[1:])
