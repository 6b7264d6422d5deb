"""Training from a memory-mapped .npy that is never read whole into memory."""

import tracemalloc

import numpy as np

import ravine as rv


def test_trainer_trains_from_a_memory_mapped_file_without_reading_it_whole(tmp_path):
    rng = np.random.default_rng(0)
    n, d = 80_000, 100                      # 32 MB of float32 on disk
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 10_000):
        X[start:start + 10_000] = rng.standard_normal((10_000, d), dtype=np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    X.flush()
    del X
    np.save(tmp_path / "y.npy", y)

    data = rv.data.load_npy_memmap(tmp_path / "X.npy", tmp_path / "y.npy")
    assert isinstance(data.X, np.memmap)
    model = rv.nn.MLP(d, [16], 2, seed=0)
    trainer = rv.train.Trainer(model, rv.optim.SGD(model, lr=0.05, momentum=0.9), batch_size=256,
                               progress=False)
    tracemalloc.start()
    history = trainer.fit(data.X, data.y, epochs=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 12e6, f"peak traced memory {peak / 1e6:.1f} MB for a 32 MB file"
    assert history["error"][0] < 0.1      # it learned the planted rule: the data was really read
    assert trainer.evaluate(data.X[:5000], data.y[:5000])["error"] < 0.05
