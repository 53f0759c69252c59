#!/usr/bin/env python3
"""Training speed: ceq's study trainer (src/study/train.rs, burn autodiff on the flex CPU backend)
vs PyTorch eager training the same GPT-2, side by side in one run.

Run by hand, never by CI. Needs torch, transformers and a release build of the example:

    cargo build --release --example study_train
    python benches/train_vs_pytorch.py --threads 2,1 --json /tmp/ceq-bench/train.json

What it does, for each --sizes entry d_model:n_layer:n_head (the first is "the study model" the
ratio is quoted for):

1. ceq: `target/release/examples/study_train` with the size, --ctx, --vocab, --batch, --steps
   (RAYON_NUM_THREADS = the thread count). Each step draws a batch from the synthetic language, runs forward
   and backward (autodiff) and the host AdamW update. tokens/s = batch · ctx · (steps − 1) / the
   time after the first step, from its JSON line.
2. PyTorch: GPT2LMHeadModel of the same config (eager attention, tanh GELU, tied head, dropout 0),
   torch.set_num_threads(the thread count), AdamW with the same betas (0.9, 0.95), eps 1e-8, weight decay
   0.1 on the 2-D weights only, gradient clipping at norm 1, the same warm-up + cosine rate, and
   batches of the same shape (uniform random tokens drawn beforehand: the language's sampler is
   ceq's own and costs it well under 1 % of a step). tokens/s timed the same way.
3. Both at every --threads count (comma-separated). Prints a table and the ratio ceq/PyTorch per
   size and thread count, and the ratio of each engine's best; --json writes the numbers and the
   load average before and after.

The two run one after the other, never at once. A busy neighbour on the machine moves both, and
PyTorch's OpenMP threads much more than rayon's (on a loaded 2-core machine its 2-thread training
ran 4× slower than its 1-thread one), hence the thread counts side by side.
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch
from transformers import GPT2Config, GPT2LMHeadModel

REPO = Path(__file__).resolve().parent.parent


def lr_at(s, steps, lr, warmup, final=0.1):
    # The same schedule as Schedule::lr_at.
    if s < warmup:
        return lr * (s + 1) / warmup
    span = max(steps - warmup - 1, 1)
    progress = min((s - warmup) / span, 1.0)
    return lr * (final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress)))


def torch_train(d, n_layer, n_head, a):
    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=a.vocab,
        n_embd=d,
        n_layer=n_layer,
        n_head=n_head,
        n_positions=a.ctx,
        activation_function="gelu_new",
        attn_pdrop=0.0,
        embd_pdrop=0.0,
        resid_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
        tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel(cfg)
    model.config._attn_implementation = "eager"
    model.train()
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
        lr=a.lr,
        betas=(0.9, 0.95),
        eps=1e-8,
        foreach=True,
    )
    batches = torch.randint(1, a.vocab, (a.steps, a.batch, a.ctx))
    batches[:, :, 0] = 0
    t_first = None
    start = time.perf_counter()
    for s in range(a.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(s, a.steps, a.lr, a.warmup)
        x = batches[s]
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s == 0:
            t_first = time.perf_counter()
    end = time.perf_counter()
    return {
        "tokens_per_s": (a.steps - 1) * a.batch * a.ctx / (end - t_first),
        "first_step_s": t_first - start,
        "loss_last": loss.item(),
        "params": sum(p.numel() for p in model.parameters()),
    }


def ceq_train(d, n_layer, n_head, a):
    cmd = [
        str(a.ceq),
        f"d_model={d}",
        f"n_layer={n_layer}",
        f"n_head={n_head}",
        f"ctx={a.ctx}",
        f"vocab={a.vocab}",
        f"batch={a.batch}",
        f"steps={a.steps}",
        f"lr={a.lr}",
        f"warmup={a.warmup}",
    ]
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.n_threads))
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1]) | {"command": " ".join(cmd)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="64:2:4,32:2:4,48:3:4,96:3:4,128:4:4",
                    help="d_model:n_layer:n_head, comma-separated; the first is the study model")
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--vocab", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", default="2,1", help="thread counts, comma-separated")
    ap.add_argument("--ceq", type=Path, default=REPO / "target/release/examples/study_train")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    if not a.ceq.exists():
        sys.exit(f"{a.ceq} not found (cargo build --release --example study_train)")
    rows = []
    load_before = os.getloadavg()
    print(f"batch {a.batch} x ctx {a.ctx}, vocab {a.vocab}, {a.steps} steps; load {load_before}")
    print(f"{'size':>10} {'params':>9} {'threads':>7} {'ceq tok/s':>10} {'torch tok/s':>12} "
          f"{'ratio':>6}")
    for spec in a.sizes.split(","):
        d, n_layer, n_head = (int(x) for x in spec.split(":"))
        per = {}
        for th in (int(x) for x in a.threads.split(",")):
            a.n_threads = th
            torch.set_num_threads(th)
            c = ceq_train(d, n_layer, n_head, a)
            t = torch_train(d, n_layer, n_head, a)
            assert c["params"] == t["params"], (c["params"], t["params"])
            ratio = c["tokens_per_s"] / t["tokens_per_s"]
            per[th] = {"ceq": c, "torch": t, "ratio": ratio}
            print(f"{spec:>10} {c['params']:>9} {th:>7} {c['tokens_per_s']:>10.0f} "
                  f"{t['tokens_per_s']:>12.0f} {ratio:>6.2f}")
        best_c = max(v["ceq"]["tokens_per_s"] for v in per.values())
        best_t = max(v["torch"]["tokens_per_s"] for v in per.values())
        print(f"{spec:>10} {'':>9} {'best':>7} {best_c:>10.0f} {best_t:>12.0f} "
              f"{best_c / best_t:>6.2f}")
        rows.append({"size": spec, "threads": per, "best_ratio": best_c / best_t})
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({
            "args": {k: str(v) for k, v in vars(a).items()},
            "machine": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "rows": rows,
        }, indent=1) + "\n")


if __name__ == "__main__":
    main()
