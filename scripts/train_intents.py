"""Train the offline model's intent classifier from assistant/offline/data/intents.yaml.

Usage: python scripts/train_intents.py [--folds 5]

Reports k-fold cross-validated accuracy on the training examples (never on the held-out
set), then trains on everything and writes assistant/offline/data/intent_model.npz.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from assistant.offline import classifier as c


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=600)
    args = parser.parse_args()

    examples = c.load_examples()
    labels = sorted(examples)
    texts = [t for label in labels for t in examples[label]]
    y = np.asarray([labels.index(label) for label in labels for _ in examples[label]])
    started = time.perf_counter()
    x = c.features(texts)
    took = time.perf_counter() - started
    print(f"{len(texts)} examples, {len(labels)} intents, features in {took:.1f} s")

    if args.folds > 1:
        order = np.random.default_rng(1).permutation(len(texts))
        folds = np.array_split(order, args.folds)
        wrong: Counter[tuple[str, str]] = Counter()
        correct = 0
        for k, test in enumerate(folds):
            train_idx = np.concatenate([f for j, f in enumerate(folds) if j != k])
            weights, bias = c.train(x[train_idx], y[train_idx], len(labels), epochs=args.epochs)
            predicted = np.argmax(x[test] @ weights + bias, axis=1)
            correct += int((predicted == y[test]).sum())
            for truth, guess in zip(y[test], predicted, strict=True):
                if truth != guess:
                    wrong[(labels[truth], labels[guess])] += 1
        print(f"{args.folds}-fold accuracy: {correct / len(texts):.3f}")
        for (truth, guess), n in wrong.most_common(15):
            print(f"  {n:3d}  {truth} -> {guess}")

    weights, bias = c.train(x, y, len(labels), epochs=args.epochs)
    c.IntentClassifier(weights, bias, labels).save(c.MODEL, c.examples_digest())
    print(f"wrote {c.MODEL}")


if __name__ == "__main__":
    main()
