"""A native reference trainer for `node apps/bench/dist/main.js train`: numpy (+ its BLAS) or PyTorch.

Speaks the JSON-lines protocol of apps/bench/src/peers/common.ts on stdin/stdout:
  -> {"ready": true, "engine": ..., "notes": [...]} | {"ready": false, "reason": ...}
  <- {"cmd": "time", "ms": 500, "warmupMs": 300} -> {"bestMs", "medianMs", "steps", "loss", "cpuMsPerStep"}
  <- {"cmd": "exit"}
Usage: python3 train_peer.py numpy|torch mlp|cnn|charlm|charlm-lstm THREADS
The thread count of numpy's BLAS is set by the parent through OPENBLAS_NUM_THREADS / OMP_NUM_THREADS.
"""
import json
import os
import sys
import time

engine, model, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
BATCH = {"mlp": 128, "cnn": 64, "charlm": 64, "charlm-lstm": 64}[model]
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def numpy_trainer():
    import numpy as np
    if model != "mlp":
        raise RuntimeError("the numpy reference covers the MLP only")
    rng = np.random.default_rng(0)
    sizes = [784, 256, 128, 10]
    params = []
    for i in range(3):
        bound = 1 / np.sqrt(sizes[i])
        params.append(rng.uniform(-bound, bound, (sizes[i], sizes[i + 1])).astype(np.float32))
        params.append(rng.uniform(-bound, bound, (sizes[i + 1],)).astype(np.float32))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    x = rng.random((BATCH, 784), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    state = {"t": 0}

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(BATCH), y]))
        dz = e / s
        dz[np.arange(BATCH), y] -= 1
        dz /= BATCH
        dz = dz.astype(np.float32)
        g3 = h2.T @ dz
        gb3 = dz.sum(axis=0)
        dh2 = (dz @ w3.T) * (h2 > 0)
        g2 = h1.T @ dh2
        gb2 = dh2.sum(axis=0)
        dh1 = (dh2 @ w2.T) * (h1 > 0)
        g1 = x.T @ dh1
        gb1 = dh1.sum(axis=0)
        state["t"] += 1
        t = state["t"]
        alpha = LR * np.sqrt(1 - B2 ** t) / (1 - B1 ** t)
        for p, g, mi, vi in zip(params, [g1, gb1, g2, gb2, g3, gb3], m, v):
            mi *= B1
            mi += (1 - B1) * g
            vi *= B2
            vi += (1 - B2) * (g * g)
            p -= (alpha * mi / (np.sqrt(vi) + EPS)).astype(np.float32)
        return loss

    blas = "BLAS"
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]["name"]
    except Exception:
        pass
    return f"numpy {np.__version__} ({blas}, {threads} thread{'s' if threads > 1 else ''})", step, [
        "forward, backward and Adam written out in numpy (float32)"]


def char_lstm(nn):
    """embedding(65, 64) -> nn.LSTM(64, 128) over 32 steps -> the last hidden state -> Linear(128, 65)."""
    class CharLstm(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(65, 64)
            self.lstm = nn.LSTM(64, 128, batch_first=True)
            self.head = nn.Linear(128, 65)

        def forward(self, x):
            _, (h, _) = self.lstm(self.embedding(x))
            return self.head(h[0])

    return CharLstm()


def torch_trainer():
    import torch
    from torch import nn
    # Both pools: intra-op (OpenMP/ATen) and inter-op. The inter-op count can only be set before any
    # parallel work starts, which is why it comes first thing after the import.
    torch.set_num_interop_threads(threads)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if model == "mlp":
        net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        x = torch.rand(BATCH, 784)
        y = torch.randint(0, 10, (BATCH,))
    elif model == "cnn":
        net = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 10))
        x = torch.rand(BATCH, 1, 28, 28)
        y = torch.randint(0, 10, (BATCH,))
    elif model == "charlm-lstm":
        net = char_lstm(nn)
        x = torch.randint(0, 65, (BATCH, 32))
        y = torch.randint(0, 65, (BATCH,))
    else:
        net = nn.Sequential(nn.Embedding(65, 64), nn.Flatten(), nn.Linear(32 * 64, 256), nn.ReLU(), nn.Linear(256, 65))
        x = torch.randint(0, 65, (BATCH, 32))
        y = torch.randint(0, 65, (BATCH,))
    opt = torch.optim.Adam(net.parameters(), lr=LR, betas=(B1, B2), eps=EPS)
    lossf = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = lossf(net(x), y)
        loss.backward()
        opt.step()
        return float(loss.item())

    intra, inter = torch.get_num_threads(), torch.get_num_interop_threads()
    if intra != threads or inter != threads:
        raise RuntimeError(f"asked for {threads} threads, torch runs {intra} intra-op and {inter} inter-op")
    return f"PyTorch {torch.__version__} CPU ({intra} thread{'s' if intra > 1 else ''})", step, [
        f"torch threads: {intra} intra-op, {inter} inter-op; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
        f"mkldnn {'on' if torch.backends.mkldnn.is_available() else 'off'}; "
        f"MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_')} (resident heap, no page faults per step)"]


def time_steps(step, ms, warmup_ms):
    t0 = time.perf_counter()
    loss = step()
    while (time.perf_counter() - t0) * 1000 < warmup_ms:
        loss = step()
    samples = []
    total = 0.0
    cpu0 = time.process_time()
    while (total < ms or len(samples) < 3) and not (samples and total >= 2 * ms):
        s = time.perf_counter()
        loss = step()
        dt = (time.perf_counter() - s) * 1000
        samples.append(dt)
        total += dt
    # CPU time of the whole process per step (every thread): on a loaded machine it counts the work
    # done, not the time spent waiting for a core
    cpu_ms = (time.process_time() - cpu0) * 1000 / len(samples)
    samples.sort()
    n = len(samples)
    med = samples[n // 2] if n % 2 else (samples[n // 2 - 1] + samples[n // 2]) / 2
    return {"bestMs": samples[0], "medianMs": med, "steps": n, "loss": loss, "cpuMsPerStep": cpu_ms}


def main():
    try:
        name, step, notes = numpy_trainer() if engine == "numpy" else torch_trainer()
        step()
    except Exception as e:  # missing module, unsupported model: say why, exit cleanly
        send({"ready": False, "reason": f"{type(e).__name__}: {e}"})
        return
    send({"ready": True, "engine": name, "notes": notes})
    for line in sys.stdin:
        msg = json.loads(line)
        if msg.get("cmd") != "time":
            break
        send(time_steps(step, msg["ms"], msg["warmupMs"]))


main()
