"""PyTorch side of the wasm-rnn peer benchmark (bench/peers/torch.mjs starts it).

usage: /usr/bin/python3 torch_bench.py SPEC.json

SPEC names a workload, a phase and the directory of raw little-endian float32 / int32 files
holding the shared weights and inputs (PyTorch layout and names). The script builds
torch.nn.LSTM / GRU (and nn.Linear for training) on one thread and loads the weights; then
  phase 'check': writes its outputs for the check next to SPEC (inference: y (T, B, H);
                 training: losses and gradients);
  phase 'time':  times one run at a time with time.perf_counter() under the same protocol as
                 the Node side (SPEC's timing).
Either way it prints one JSON object (versions, BLAS, threads, times) to stdout.
"""
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def load(spec, name, dtype=np.float32):
    return np.fromfile(os.path.join(spec["dir"], name + ".bin"), dtype=dtype)


def blas_library():
    """Which BLAS the process mapped (Debian's torch links the libblas.so.3 alternative)."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    for key, label in (("openblas-openmp", "OpenBLAS (OpenMP)"), ("openblas-pthread", "OpenBLAS (pthreads)"),
                       ("openblas", "OpenBLAS"), ("mkl", "MKL"), ("/blas/libblas", "reference BLAS")):
        if key in maps:
            return label
    return "unknown"


def time_runs(run, timing):
    # Warm-up as in bench/lib/common.mjs: at least `warmup` runs and `warmupMinMs` ms, but stop
    # (after at least one run) once `warmupMaxMs` ms have passed.
    t_start, i = time.perf_counter(), 0
    while True:
        spent = (time.perf_counter() - t_start) * 1e3
        if (i >= timing["warmup"] and spent >= timing["warmupMinMs"]) or (i > 0 and spent >= timing["warmupMaxMs"]):
            break
        run()
        i += 1
    times, spent = [], 0.0
    while len(times) < timing["runs"] or (spent < timing["minTimeMs"] and len(times) < timing["maxRuns"]):
        t0 = time.perf_counter()
        run()
        dt = (time.perf_counter() - t0) * 1e3
        times.append(dt)
        spent += dt
    return times


def recurrent(w, p):
    cls = {"LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[w["kind"]]
    m = cls(w["I"], w["H"], num_layers=1)
    G = {"LSTM": 4, "GRU": 3}[w["kind"]] * w["H"]
    shapes = {"weight_ih_l0": (G, w["I"]), "weight_hh_l0": (G, w["H"]), "bias_ih_l0": (G,), "bias_hh_l0": (G,)}
    m.load_state_dict({k: torch.from_numpy(p[k].reshape(s)) for k, s in shapes.items()})
    return m


def infer(spec):
    w = spec["workload"]
    p = {k: load(spec, k) for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
    m = recurrent(w, p).eval()
    x_np = load(spec, "x").reshape(w["T"], w["B"], w["I"])

    def run():
        with torch.inference_mode():
            y, _ = m(torch.from_numpy(x_np))  # zero-copy in; output as a NumPy view out
            return y.numpy()

    if spec["phase"] == "check":
        run().astype(np.float32).tofile(os.path.join(spec["dir"], "out_y.bin"))
        return []
    return time_runs(run, spec["timing"])


def train(spec):
    w = spec["workload"]
    T, B, I, H, C = w["T"], w["B"], w["I"], w["H"], w["C"]
    p = {k: load(spec, k) for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
    rnn = recurrent(w, p)
    lin = torch.nn.Linear(H, C)
    lin.load_state_dict({"weight": torch.from_numpy(load(spec, "linear.weight").reshape(C, H)),
                         "bias": torch.from_numpy(load(spec, "linear.bias"))})
    params = list(rnn.parameters()) + list(lin.parameters())
    opt = torch.optim.Adam(params, lr=w["lr"], eps=w["eps"])
    x_np = load(spec, "x").reshape(T, B, I)
    targets_np = load(spec, "targets", np.int32).astype(np.int64)

    def loss_of():
        x = torch.from_numpy(x_np)
        y, _ = rnn(x)
        return F.cross_entropy(lin(y).reshape(T * B, C), torch.from_numpy(targets_np))  # mean over rows

    def step():
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        opt.step()
        return loss.item()

    if spec["phase"] == "time":
        return time_runs(step, spec["timing"])

    # The check protocol (as in every adapter): loss and gradients at the shared weights, then
    # the loss after each of checkSteps Adam steps.
    opt.zero_grad()
    loss = loss_of()
    loss.backward()
    losses = [loss.item()]
    grads = {name: q.grad for name, q in rnn.named_parameters()}
    grads["linear.weight"], grads["linear.bias"] = lin.weight.grad, lin.bias.grad
    for k, g in grads.items():
        g.detach().numpy().astype(np.float32).tofile(os.path.join(spec["dir"], "grad_" + k + ".bin"))
    opt.step()
    for _ in range(1, w["checkSteps"]):
        losses.append(step())
    with torch.no_grad():
        losses.append(loss_of().item())
    with open(os.path.join(spec["dir"], "out_losses.json"), "w") as f:
        json.dump(losses, f)
    return []


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    times = train(spec) if spec["workload"]["task"] == "train" else infer(spec)
    json.dump({
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "blas": blas_library(),
        "threads": torch.get_num_threads(),
        "times": times,
    }, sys.stdout)


if __name__ == "__main__":
    main()
