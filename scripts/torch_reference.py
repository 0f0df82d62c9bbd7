"""PyTorch timing reference for scripts/bench.ts: the same model (the zoo of
lib/model/zoo.ts), optimiser and batch size on random pixels of
Fashion-MNIST's shape (values do not change the time). Prints one JSON line:
model, parameters (trainable, to check the architecture matches the tfjs
model), trainImagesPerSec, evalImagesPerSec, epochSeconds (--steps steps
extrapolated to 48,000 training images, plus a timed pass over 12,000
validation images).

python3 scripts/torch_reference.py --model seed --batch-size 4096 --steps 3 --threads 2
(--filters, --dense-units and --dropout shape the seed and better models.)
"""
import argparse
import json
import time

import torch
from torch import nn

TRAIN_IMAGES, VALIDATION_IMAGES, EVAL_BATCH = 48_000, 12_000, 2048


def conv_bn_relu(cin: int, cout: int) -> list:
    # Keras' padding='same' for a 3x3 kernel at stride 1 is one pixel each side.
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]


def zoo(name: str, filters: int, dense_units: int, dropout: float) -> nn.Module:
    """The zoo's architectures; softmax is left to CrossEntropyLoss, as the tfjs models' last step."""
    if name == "seed":
        layers = [nn.Conv2d(1, filters, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(),
                  nn.Linear(13 * 13 * filters, dense_units), nn.ReLU(), nn.Linear(dense_units, 10)]
    elif name == "keras-convnet":
        layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, 10)]
    elif name == "bn-cnn":
        layers = [*conv_bn_relu(1, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2), nn.Dropout(0.25),
                  *conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
                  nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.5),
                  nn.Linear(128, 10)]
    elif name == "mlp":
        layers = [nn.Flatten(), nn.Linear(28 * 28, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10)]
    elif name == "better":
        def block(cin: int, cout: int) -> list:
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]
        layers = [*block(1, filters), *block(filters, 2 * filters), nn.Dropout(dropout), nn.Flatten(),
                  nn.Linear(7 * 7 * 2 * filters, dense_units, bias=False), nn.BatchNorm1d(dense_units), nn.ReLU(),
                  nn.Dropout(dropout), nn.Linear(dense_units, 10)]
    else:
        raise SystemExit(f"--model {name!r} is not in the zoo; expected seed, keras-convnet, bn-cnn, mlp or better")
    return nn.Sequential(*layers)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="seed")
    p.add_argument("--batch-size", type=int, default=4096)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--filters", type=int, default=32)
    p.add_argument("--dense-units", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = zoo(a.model, a.filters, a.dense_units, a.dropout)
    parameters = sum(t.numel() for t in net.parameters() if t.requires_grad)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
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
        "model": a.model,
        "parameters": parameters,
        "trainImagesPerSec": train_per_sec,
        "evalImagesPerSec": eval_per_sec,
        "epochSeconds": TRAIN_IMAGES / train_per_sec + VALIDATION_IMAGES / eval_per_sec,
    }))


if __name__ == "__main__":
    main()
