"""PyTorch timing reference for scripts/bench.ts: the same CNN, optimiser and
batch size on random pixels of Fashion-MNIST's shape (values do not change
the time). Prints one JSON line: trainImagesPerSec, evalImagesPerSec,
epochSeconds (--steps steps extrapolated to 48,000 training images, plus a
timed pass over 12,000 validation images).

python3 scripts/torch_reference.py --batch-size 4096 --steps 3 --threads 2
"""
import argparse
import json
import time

import torch
from torch import nn

TRAIN_IMAGES, VALIDATION_IMAGES, EVAL_BATCH = 48_000, 12_000, 2048


def model(filters: int, dense_units: int, dropout: float) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, filters, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(),
        nn.Linear(13 * 13 * filters, dense_units), nn.ReLU(), nn.Linear(dense_units, 10),
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batch-size", type=int, default=4096)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--filters", type=int, default=32)
    p.add_argument("--dense-units", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = model(a.filters, a.dense_units, a.dropout)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy, as the tfjs model's last two steps
    x = torch.rand(a.batch_size, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch_size,))

    def step() -> None:
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    step()  # warm-up, as in bench.ts
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    train_per_sec = a.steps * a.batch_size / (time.perf_counter() - start)

    net.eval()
    xe = torch.rand(VALIDATION_IMAGES, 1, 28, 28)
    start = time.perf_counter()
    with torch.no_grad():
        for batch in xe.split(EVAL_BATCH):
            net(batch).softmax(1)
    eval_per_sec = VALIDATION_IMAGES / (time.perf_counter() - start)

    print(json.dumps({
        "trainImagesPerSec": train_per_sec,
        "evalImagesPerSec": eval_per_sec,
        "epochSeconds": TRAIN_IMAGES / train_per_sec + VALIDATION_IMAGES / eval_per_sec,
    }))


if __name__ == "__main__":
    main()
