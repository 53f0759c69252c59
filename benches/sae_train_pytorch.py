#!/usr/bin/env python3
"""PyTorch's speed at ceq's SAE training step, for a side-by-side with
`cargo test --test it sae_train_throughput -- --ignored --nocapture` (run both in one sitting: a
busy machine moves both).

The same step as ceq's study::sae_train (SAELens 6's formulas): encode, ReLU or top-k, decode,
MSE summed over the hook's dimensions + decoder-norm-weighted L1 (standard), backward,
clip_grad_norm_(1.0), Adam. float32, CPU, torch's default threads. Prints activations/s.

    /tmp/famvenv/bin/python benches/sae_train_pytorch.py
"""
import time

import torch


def step_fn(d, m, kind, k=16, l1=1.0):
    w_dec = torch.nn.Parameter(torch.randn(m, d) * 0.1)
    w_enc = torch.nn.Parameter(w_dec.detach().T.clone())
    b_enc = torch.nn.Parameter(torch.zeros(m))
    b_dec = torch.nn.Parameter(torch.zeros(d))
    params = [w_enc, b_enc, w_dec, b_dec]
    opt = torch.optim.Adam(params, lr=1e-3, eps=1e-8)

    def step(x):
        pre = (x - b_dec) @ w_enc + b_enc
        if kind == "standard":
            f = torch.relu(pre)
        else:
            top = torch.topk(pre, k, dim=-1)
            f = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
        x_hat = f @ w_dec + b_dec
        loss = ((x_hat - x) ** 2).sum(-1).mean()
        if kind == "standard":
            loss = loss + (l1 * (f * w_dec.norm(dim=1)).sum(-1)).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    return step


def main():
    torch.manual_seed(1)
    for d in (32, 64, 128):
        x_all = torch.rand(16384, d) * 2 - 1
        for mult in (4, 16):
            for batch in (1024, 4096):
                for kind in ("standard", "topk"):
                    step = step_fn(d, d * mult, kind)
                    steps = max(200_000 // batch, 5)
                    step(x_all[:batch])
                    t = time.perf_counter()
                    for s in range(steps):
                        i = (s * batch) % (16384 - batch + 1)
                        step(x_all[i:i + batch])
                    rate = steps * batch / (time.perf_counter() - t)
                    print(f"d_in {d:4} d_sae {d * mult:5} batch {batch:5} {kind:9} {rate:9.0f} activations/s")


if __name__ == "__main__":
    main()
