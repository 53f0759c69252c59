#!/usr/bin/env python3
"""Sweep benchmark: one `ceq eval` call with 8 TopK SAEs at one hook (shared passes) vs PyTorch
eager evaluating each SAE separately, as SAELens/SAEBench do. Also the marginal cost of an extra
SAE and the peak RSS of a 262144-token-vocabulary model.

Run by hand, never by CI. Needs torch, transformers, safetensors, numpy and a built
`target/release/ceq`:

    python benches/sweep_vs_pytorch.py --threads 2 --batch 8 --n-seq 16 --ctx 128 --json /tmp/ceq-bench/sweep.json

Results and the exact command of the last run: benches/EVAL_BENCH.md. What it does:

1. Fixtures, cached under --workdir: the random GPT-2-small-shaped model of eval_vs_pytorch.py
   (12 layers, d 768, vocab 50257), tokens_<n_seq>x<ctx>.npy, and --n-sae TopK SAEs in SAELens v6
   layout for blocks.6.hook_resid_pre (d_sae --d-sae, k --k, `apply_b_dec_to_input`, no decoder-norm
   rescaling): random unit decoder rows (one seed per SAE), W_enc = W_decᵀ, b_dec = the mean
   activation, b_enc = 0, the decoder scaled by the least-squares factor.
2. PyTorch eager peer: eval_vs_pytorch.torch_eval once per SAE (clean, spliced, zero- and
   mean-ablated full forward passes per batch; the mean is taken from the clean pass's captures,
   so no extra pass), after one warm-up batch. SAE·tokens/s = n_sae · n_seq · ctx / total time.
3. ceq: one `ceq eval` call with every `--sae` (all at one hook: shared prefix, clean, zero- and
   mean-ablated continuations; per SAE only the SAE and its spliced continuation). SAE·tokens/s
   from ceq's stderr line "(X tokens/s, all four conditions)" (model loading excluded).
   Checks ce_clean and every ce_spliced against PyTorch (1e-3).
   Also SAE·tokens per CPU-second (PyTorch: its process time over the evals; ceq: the whole
   process, model load included), which other jobs on a shared machine disturb less.
4. Marginal cost: `ceq eval` with the first 1, 2, 4, 8 SAEs at blocks.6.hook_resid_pre (the 8 is
   step 3's run), and with 1, 2, 4 SAEs at blocks.0.hook_resid_pre (`--hook`), where the
   continuation is the whole model. A least-squares line eval_s = a + b·n per hook: b is the cost of
   one extra SAE. One continuation pass: a clean full forward + NLL, F, is timed with
   `ceq eval-family` (clean CE only) on 2·n_seq rows minus n_seq rows (so without the model load);
   from hook 0 the continuation is the whole model, so b₀ is compared with F (and with a₀/3: the
   intercept is embed + 3 full passes, clean, zero- and mean-ablated). From hook 6, C₆ is estimated
   as (a₆ − F)/2 (a₆ = prefix + 3·C₆, F = prefix + C₆), as F·S/(P+S) (the FLOP model's split), and
   as (a₆ − a₀/3)/2; each ratio b₆/C₆ is printed.
5. Peak RSS (`/usr/bin/time -v`, "Maximum resident set size") of `ceq eval --batch 16` on a
   GPT-2-shaped model with vocab 262144, n_embd 64, 2 layers, 2 heads, n_positions 128, tied
   embeddings (67 MB of f32 weights), 16 × 128 tokens, one TopK SAE (d_sae 512, k 32) at
   blocks.1.hook_resid_pre; for --ceq and for each --ceq-old binary (--rss-only: this step alone).
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import eval_vs_pytorch as ev  # noqa: E402  (the model, tokens, peer and FLOP helpers)

REPO = Path(__file__).resolve().parent.parent
HOOK_LAYER = ev.HOOK_LAYER  # torch_eval hooks transformer.h[6]
HOOK = ev.HOOK
log = ev.log


def topk_cfg(d_in, d_sae, k, ctx, hook):
    cfg = ev.sae_cfg(d_in, d_sae, ctx)
    cfg["architecture"] = "topk"
    cfg["k"] = k
    cfg["rescale_acts_by_decoder_norm"] = False
    cfg["metadata"]["hook_name"] = hook
    cfg["metadata"]["training_architecture"] = "topk"
    cfg["metadata"]["training_architecture_details"] = {
        "decoder_init_norm": 0.1, "use_sparse_activations": False, "aux_loss_coefficient": 1.0}
    return cfg


def topk(pre, k):
    """SAELens's TopK activation: relu of the k largest pre-activations, zeros elsewhere."""
    v, i = pre.topk(k, dim=-1)
    return torch.zeros_like(pre).scatter(-1, i, torch.relu(v))


@torch.no_grad()
def make_topk_sae(sae_dir, acts, d_sae, k, ctx, hook, seed):
    from safetensors.torch import save_file

    if (sae_dir / "cfg.json").exists() and (sae_dir / "sae_weights.safetensors").exists():
        return
    log(f"creating {sae_dir} (random TopK SAE, k {k}, d_sae {d_sae}, {hook}) ...")
    d = acts.shape[1]
    g = torch.Generator().manual_seed(seed)
    w_dec = torch.randn(d_sae, d, generator=g)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    b_dec = acts.mean(0)
    w_enc = w_dec.T.contiguous()
    b_enc = torch.zeros(d_sae)
    y = topk((acts - b_dec) @ w_enc + b_enc, k) @ w_dec
    w_dec = w_dec * float(((acts - b_dec) * y).sum() / (y * y).sum().clamp_min(1e-30))
    tmp = sae_dir.with_name(sae_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t = {"W_enc": w_enc, "W_dec": w_dec, "b_enc": b_enc, "b_dec": b_dec}
    save_file({n: v.float().contiguous() for n, v in t.items()}, str(tmp / "sae_weights.safetensors"))
    (tmp / "cfg.json").write_text(json.dumps(topk_cfg(d, d_sae, k, ctx, hook), indent=2) + "\n")
    tmp.rename(sae_dir)


@torch.no_grad()
def resid_pre(model_dir, tokens, layer):
    """The clean blocks.<layer>.hook_resid_pre activations of a few rows, BOS left out."""
    model = ev.load_model(model_dir, "eager")
    acts = []
    h = model.transformer.h[layer].register_forward_pre_hook(
        lambda m, args, kw: acts.append((args[0] if args else kw["hidden_states"]).detach().clone()),
        with_kwargs=True)
    model(input_ids=torch.as_tensor(tokens))
    h.remove()
    return acts[0][:, 1:].reshape(-1, model.config.n_embd)


class TopkSae:
    """The peer's SAE (SAELens TopK forward), with the encode/decode ev.torch_eval calls."""

    def __init__(self, sae_dir):
        from safetensors.torch import load_file

        p = load_file(str(sae_dir / "sae_weights.safetensors"))
        cfg = json.loads((sae_dir / "cfg.json").read_text())
        assert cfg["architecture"] == "topk" and not cfg["rescale_acts_by_decoder_norm"]
        self.k = int(cfg["k"])
        self.w_enc, self.w_dec, self.b_enc, self.b_dec = (p[n].float() for n in ("W_enc", "W_dec", "b_enc", "b_dec"))
        self.apply_b_dec = bool(cfg["apply_b_dec_to_input"])

    def encode(self, x):
        return topk((x - self.b_dec * self.apply_b_dec) @ self.w_enc + self.b_enc, self.k)

    def decode(self, f):
        return f @ self.w_dec + self.b_dec


def ceq_env(threads):
    return dict(os.environ, RAYON_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                MKL_NUM_THREADS=str(threads))


def run_ceq(ceq, model_dir, sae_dirs, tokens_path, threads, batch, hook=None, timev=False):
    cmd = [str(ceq), "eval", "--model", str(model_dir)]
    for s in sae_dirs:
        cmd += ["--sae", str(s)]
    cmd += ["--tokens", str(tokens_path), "--batch", str(batch), "--format", "json"]
    if hook:
        cmd += ["--hook", hook]
    if timev:
        cmd = ["/usr/bin/time", "-v", *cmd]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=ceq_env(threads), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode != 0:
        sys.exit(f"ceq failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    m = ev.RATE.search(p.stderr)
    if not m:
        sys.exit(f"no rate line in ceq's stderr:\n{p.stderr}")
    out = {"cmd": " ".join(cmd), "eval_s": float(m.group(1)), "rate": float(m.group(2)), "wall_s": wall,
           "cpu_s": cpu, "cores_busy": cpu / wall, "rows": json.loads(p.stdout), "stderr": m.group(0)}
    if timev:
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        out["max_rss_kb"] = int(rss.group(1))
    return out


def run_family(ceq, model_dir, tokens_path, threads, batch, workdir):
    """Clean CE only (one full forward per batch), timed by eval-family's own summary."""
    man = workdir / "family_one.csv"
    man.write_text(f"name,path,tokens\n{model_dir.name},{model_dir},1\n")
    out = workdir / "family_one_out.csv"
    for f in (out, out.with_suffix(".per_seq.npy")):
        f.unlink(missing_ok=True)
    cmd = [str(ceq), "eval-family", "--manifest", str(man), "--tokens", str(tokens_path),
           "--batch", str(batch), "--out", str(out)]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=ceq_env(threads), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"ceq eval-family failed:\n{p.stderr}")
    rate = float(re.search(r"evaluated \(([0-9.]+) tokens/s\)", p.stderr).group(1))
    return {"cmd": " ".join(cmd), "rate": rate, "wall_s": wall}


def fit(ns, ts):
    b, a = np.polyfit(np.asarray(ns, float), np.asarray(ts, float), 1)
    return float(a), float(b)


def rss_part(a, ceqs):
    """Peak RSS of a 262144-vocabulary GPT-2-shaped model at --batch 16 × ctx 128, one SAE."""
    from transformers import GPT2Config, GPT2LMHeadModel

    wd = a.workdir / "vocab262k"
    wd.mkdir(parents=True, exist_ok=True)
    model_dir = wd / "gpt2-v262144-d64"
    if not (model_dir / "model.safetensors").exists():
        log(f"creating {model_dir} ...")
        torch.manual_seed(a.seed)
        cfg = GPT2Config(vocab_size=262144, n_embd=64, n_layer=2, n_head=2, n_positions=128,
                         bos_token_id=0, eos_token_id=1, tie_word_embeddings=True)
        m = GPT2LMHeadModel(cfg).eval()
        tmp = model_dir.with_name(model_dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        m.save_pretrained(str(tmp))
        tmp.rename(model_dir)
    tokens_path = wd / "tokens_16x128.npy"
    if not tokens_path.exists():
        rng = np.random.default_rng(a.seed)
        ids = rng.integers(2, 262144, size=(16, 128), dtype=np.int64)
        ids[:, 0] = 0
        np.save(tokens_path, ids)
    sae_dir = wd / "sae-l1-resid_pre-topk-512"
    acts = resid_pre(model_dir, np.load(tokens_path)[:4], 1)
    make_topk_sae(sae_dir, acts, 512, 32, 128, "blocks.1.hook_resid_pre", a.seed + 100)
    weights_mb = (model_dir / "model.safetensors").stat().st_size / 1e6
    log(f"\nRSS: {model_dir} ({weights_mb:.1f} MB safetensors), vocab 262144, batch 16 × ctx 128, one SAE")
    res = []
    for label, ceq in ceqs:
        r = run_ceq(ceq, model_dir, [sae_dir], tokens_path, a.threads, 16, timev=True)
        log(f"  {label}: max RSS {r['max_rss_kb']/1024:.0f} MiB ({r['max_rss_kb']*1024/1e9:.2f} GB); {r['stderr']}")
        res.append({"label": label, "ceq": str(ceq), "max_rss_kb": r["max_rss_kb"], "eval_s": r["eval_s"],
                    "cmd": r["cmd"], "ce_clean": r["rows"][0]["ce_clean"]})
    return {"weights_mb": weights_mb, "runs": res}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/ceq-bench"))
    ap.add_argument("--n-seq", type=int, default=16)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--n-sae", type=int, default=8)
    ap.add_argument("--d-sae", type=int, default=6144)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--ceq", type=Path, default=REPO / "target" / "release" / "ceq")
    ap.add_argument("--ceq-old", action="append", default=[], metavar="LABEL=PATH",
                    help="another ceq binary for the RSS part only (e.g. old=/tmp/old/ceq)")
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-marginal", action="store_true")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--rss-only", action="store_true", help="only step 5 (peak RSS)")
    ap.add_argument("--json", type=Path, help="also write all numbers here")
    a = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(a.threads)
    a.workdir.mkdir(parents=True, exist_ok=True)
    if not a.ceq.exists():
        sys.exit(f"{a.ceq} not found (cargo build --release)")
    ceqs = [("current", a.ceq)] + [tuple(x.split("=", 1)) for x in a.ceq_old]
    if a.rss_only:
        r = {"load_start": os.getloadavg(), "rss": rss_part(a, [(lbl, Path(p)) for lbl, p in ceqs])}
        if a.json:
            a.json.write_text(json.dumps(r, indent=2, default=str) + "\n")
        return
    model_dir = a.workdir / "gpt2-random"
    tokens_path = a.workdir / f"tokens_{a.n_seq}x{a.ctx}.npy"
    ev.make_model(model_dir, a.seed)
    ev.make_tokens(tokens_path, a.n_seq, a.ctx, a.seed)
    sae_dirs = [a.workdir / f"sae-l{HOOK_LAYER}-resid_pre-topk{a.k}-{a.d_sae}-s{i}" for i in range(a.n_sae)]
    if not all((s / "cfg.json").exists() for s in sae_dirs):
        acts = resid_pre(model_dir, np.load(tokens_path)[:4], HOOK_LAYER)
        for i, s in enumerate(sae_dirs):
            make_topk_sae(s, acts, a.d_sae, a.k, a.ctx, HOOK, a.seed + 1 + i)

    from transformers import GPT2Config
    import transformers

    cfg = GPT2Config.from_pretrained(str(model_dir))
    special = sorted({x for x in (cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id) if x is not None})
    n_tok = a.n_seq * a.ctx
    fl = ev.flop_model(cfg, a.n_seq, a.ctx, a.d_sae)["per_token"]
    P, S, SAE = fl["prefix"], fl["suffix"], fl["sae"]
    flops = {"pytorch": n_tok * a.n_sae * (4 * (P + S) + SAE),
             "ceq": n_tok * (P + 3 * S + a.n_sae * (S + SAE))}  # captures cached: the prefix once
    out = {"args": {k: str(v) for k, v in vars(a).items()}, "load_start": os.getloadavg(),
           "flops_per_token": fl, "flops": flops}
    log(f"model {model_dir}  {a.n_sae} TopK SAEs (k {a.k}, d_sae {a.d_sae}) at {HOOK}  tokens {tokens_path} "
        f"[{a.n_seq}, {a.ctx}]  threads {a.threads}  batch {a.batch}")
    log(f"load average at start {os.getloadavg()}")
    peak = ev.matmul_peak(a.batch * a.ctx, cfg.n_embd, 4 * cfg.n_embd)
    out["matmul_peak_gflops"] = peak / 1e9
    log(f"torch matmul peak ({a.threads} threads): {peak/1e9:.1f} GFLOP/s")
    log(f"FLOP model per token: prefix P {P/1e6:.1f} MF, continuation S {S/1e6:.1f} MF, SAE {SAE/1e6:.1f} MF; "
        f"PyTorch n·(4(P+S)+SAE) = {flops['pytorch']/1e12:.2f} TF, ceq P+3S+n(S+SAE) = {flops['ceq']/1e12:.2f} TF "
        f"(ratio {flops['pytorch']/flops['ceq']:.2f})")

    # 2. PyTorch eager, each SAE separately.
    if not a.skip_torch:
        model = ev.load_model(model_dir, "sdpa")
        tokens = torch.as_tensor(np.load(tokens_path))
        saes = [TopkSae(s) for s in sae_dirs]
        log("pytorch: warm-up batch ...")
        ev.torch_eval(model, saes[0], tokens[: a.batch], a.batch, special)
        c0, t0 = time.process_time(), time.perf_counter()
        per = []
        for s, d in zip(saes, sae_dirs):
            t1 = time.perf_counter()
            per.append(ev.torch_eval(model, s, tokens, a.batch, special))
            log(f"  pytorch {d.name}: {time.perf_counter()-t1:.2f} s")
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        out["pytorch"] = {"eval_s": dt, "rate": a.n_sae * n_tok / dt, "cpu_s": cpu, "cores_busy": cpu / dt,
                          "metrics": per}
        log(f"pytorch: {a.n_sae} SAEs in {dt:.2f} s = {a.n_sae*n_tok/dt:.1f} SAE·tokens/s, {cpu/dt:.2f} cores busy")
        del model

    # 3. ceq, one call with every SAE.
    log(f"load average before ceq {os.getloadavg()}")
    r = run_ceq(a.ceq, model_dir, sae_dirs, tokens_path, a.threads, a.batch)
    out["ceq"] = r
    log(f"ceq ({a.n_sae} SAEs, one call): {r['stderr']}  (wall {r['wall_s']:.2f} s, {r['cores_busy']:.2f} cores busy)")
    if "pytorch" in out:
        by_name = {row["name"]: row for row in r["rows"]}
        worst = 0.0
        for d, pt in zip(sae_dirs, out["pytorch"]["metrics"]):
            row = by_name[d.name]
            dc, ds = abs(pt["ce_clean"] - row["ce_clean"]), abs(pt["ce_spliced"] - row["ce_spliced"])
            worst = max(worst, dc, ds)
            log(f"  {d.name}: ce_clean {row['ce_clean']:.6f} (|Δ| {dc:.1e})  ce_spliced {row['ce_spliced']:.6f} "
                f"(|Δ| {ds:.1e})  ce_zero |Δ| {abs(pt['ce_zero_ablation']-row['ce_zero_ablation']):.1e}  "
                f"ce_mean |Δ| {abs(pt['ce_mean_ablation']-row['ce_mean_ablation']):.1e}  "
                f"l0 {row['l0']:.3f}/{pt['l0']:.3f}")
        out["max_ce_diff"] = worst
        out["agree_1e-3"] = worst <= 1e-3
        ratio = r["rate"] / out["pytorch"]["rate"]
        out["ratio"] = ratio
        log(f"ce_clean / ce_spliced agree within 1e-3: {worst <= 1e-3} (max |Δ| {worst:.1e})")
        log(f"SAE·tokens/s: ceq {r['rate']:.1f}, PyTorch {out['pytorch']['rate']:.1f}: ratio {ratio:.2f} (goal ≥ 4)")
        # Per CPU-second, less sensitive to other jobs on a shared machine (ceq's includes its model load).
        cq_cpu, pt_cpu = a.n_sae * n_tok / r["cpu_s"], a.n_sae * n_tok / out["pytorch"]["cpu_s"]
        out["ratio_cpu"] = cq_cpu / pt_cpu
        log(f"SAE·tokens per CPU-second: ceq {cq_cpu:.1f} (process, model load included), PyTorch {pt_cpu:.1f}: "
            f"ratio {cq_cpu/pt_cpu:.2f}")
    for key in ("pytorch", "ceq"):
        if key in out:
            g = flops[key] / out[key]["eval_s"] / 1e9
            out[key]["gflops"] = g
            log(f"  {key}: {g:.1f} GFLOP/s by the FLOP model = {100*g*1e9/peak:.1f} % of the matmul peak")

    # 4. Marginal cost per extra SAE.
    if not a.skip_marginal:
        ns6 = [n for n in (1, 2, 4) if n < a.n_sae]
        t6 = {}
        for n in ns6:
            t6[n] = run_ceq(a.ceq, model_dir, sae_dirs[:n], tokens_path, a.threads, a.batch)["eval_s"]
            log(f"  hook 6, {n} SAE(s): {t6[n]:.2f} s")
        t6[a.n_sae] = r["eval_s"]
        t0h = {}
        for n in [n for n in (1, 2, 4) if n <= a.n_sae]:
            t0h[n] = run_ceq(a.ceq, model_dir, sae_dirs[:n], tokens_path, a.threads, a.batch,
                             hook="blocks.0.hook_resid_pre")["eval_s"]
            log(f"  hook 0, {n} SAE(s): {t0h[n]:.2f} s")
        # A clean full forward, timed without the model load: eval-family (clean CE only) on n_seq and
        # on 2·n_seq rows; the difference is one full forward + NLL over n_seq rows.
        tokens2 = a.workdir / f"tokens_{2*a.n_seq}x{a.ctx}.npy"
        ev.make_tokens(tokens2, 2 * a.n_seq, a.ctx, a.seed)
        fam1 = run_family(a.ceq, model_dir, tokens_path, a.threads, a.batch, a.workdir)
        fam2 = run_family(a.ceq, model_dir, tokens2, a.threads, a.batch, a.workdir)
        f_s = 2 * n_tok / fam2["rate"] - n_tok / fam1["rate"]
        a6, b6 = fit(list(t6), list(t6.values()))
        a0, b0 = fit(list(t0h), list(t0h.values()))
        c0 = a0 / 3
        est6 = {"(a6 − F)/2": (a6 - f_s) / 2, "F·S/(P+S)": f_s * S / (P + S),
                "(a6 − a0/3)/2": (a6 - c0) / 2}
        m = {"hook6": {"n_eval_s": t6, "a": a6, "b": b6}, "hook0": {"n_eval_s": t0h, "a": a0, "b": b0},
             "F_family_s": f_s, "family": [fam1, fam2], "a0/3": c0,
             "ratio_hook0": {"F": b0 / f_s, "a0/3": b0 / c0},
             "C6": est6, "ratio_hook6": {k: b6 / v for k, v in est6.items()}}
        out["marginal"] = m
        log(f"hook 6: eval_s = {a6:.2f} + {b6:.2f}·n;  hook 0: eval_s = {a0:.2f} + {b0:.2f}·n")
        log(f"clean full forward F (eval-family, {2*a.n_seq} rows − {a.n_seq} rows): {f_s:.2f} s; a0/3 = {c0:.2f} s")
        log(f"extra SAE / full pass at hook 0: {b0/f_s:.2f} (vs F), {b0/c0:.2f} (vs a0/3)   (goal ≤ 1.2)")
        for k, v in est6.items():
            log(f"extra SAE / continuation at hook 6, C6 = {k} = {v:.2f} s: {b6/v:.2f}")

    # 5. Peak RSS.
    if not a.skip_rss:
        out["rss"] = rss_part(a, [(lbl, Path(p)) for lbl, p in ceqs])

    out["load_end"] = os.getloadavg()
    log(f"\nload average at end {os.getloadavg()}")
    log(f"python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}, "
        f"numpy {np.__version__}, {platform.machine()} {os.cpu_count()} CPUs")
    if a.json:
        a.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
