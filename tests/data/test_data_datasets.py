"""Shipped data sets, loading by name, and the Dataset container."""

from __future__ import annotations

import numpy as np
import pytest

import ravine.data as rd
from ravine.data import Dataset


@pytest.mark.parametrize("name, shape, n_classes", [
    ("digits", (1797, 64), 10),
    ("iris", (150, 4), 3),
    ("wine", (178, 13), 3),
    ("breast_cancer", (569, 30), 2),
])
def test_shipped_sets_load_with_the_right_shapes(name, shape, n_classes):
    ds = rd.load(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float32
    assert ds.y.shape == (shape[0],) and ds.y.dtype == np.int64
    assert ds.n_classes == n_classes and sorted(set(ds.y.tolist())) == list(range(n_classes))
    assert ds.task == "classification" and ds.name == name
    assert len(ds.feature_names) == shape[1]
    assert np.isfinite(ds.X).all()


def test_shipped_classes_name_the_labels():
    iris = rd.load("iris", dtype="float64")
    assert iris.X.dtype == np.float64
    assert iris.classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert rd.load("breast_cancer").classes.tolist() == ["malignant", "benign"]
    assert rd.load("digits").classes.tolist() == list(range(10))


def test_generators_by_name_with_defaults_and_options():
    for name in rd.GENERATED:
        ds = rd.load(name)
        assert ds.X.shape[1] == 2 and ds.X.dtype == np.float32 and ds.n_classes >= 2
        assert ds.feature_names == ["x1", "x2"]
    X, y = rd.make_spirals()
    np.testing.assert_array_equal(rd.load("spirals").X, X)
    ds = rd.load("spirals", n_classes=5, n_samples=50, seed=3)
    assert ds.n_classes == 5 and len(ds) == 50


def test_datasets_lists_every_name():
    assert rd.DATASETS == ("digits", "iris", "wine", "breast_cancer",
                           "moons", "circles", "spirals", "xor", "blobs")
    assert rd.load("Breast-Cancer").name == "breast_cancer"


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ValueError) as info:
        rd.load("mnist")
    message = str(info.value)
    assert "unknown data set 'mnist'" in message
    for name in rd.DATASETS:
        assert name in message
    assert ".csv" in message


def test_unsupported_file_type_and_bad_arguments(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("1,2\n")
    with pytest.raises(ValueError, match="data.txt: unsupported file type '.txt'"):
        rd.load(str(path))
    with pytest.raises(ValueError, match="label_column applies to files"):
        rd.load("iris", label_column=0)
    with pytest.raises(ValueError, match="classification problem"):
        rd.load("iris", task="regression")
    with pytest.raises(ValueError, match="task must be"):
        rd.load("iris", task="ranking")
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        rd.load("iris", dtype="int32")
    with pytest.raises(TypeError, match="takes no options"):
        rd.load("iris", seed=1)


def test_dataset_checks_its_fields():
    X = np.zeros((3, 2), np.float32)
    ds = Dataset(X, [0, 2, 1], name="t")
    assert ds.n_classes == 3 and ds.classes.tolist() == [0, 1, 2]
    assert repr(ds) == "Dataset('t', 3×2 float32, classification, 3 classes)"
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 2\); got 2 at row 1"):
        Dataset(X, [0, 2, 1], classes=["a", "b"])
    with pytest.raises(ValueError, match="same number of rows"):
        Dataset(X, [0, 1])
    with pytest.raises(ValueError, match="X must be 2-D"):
        Dataset(np.zeros(3), [0, 1, 0])
    with pytest.raises(ValueError, match="must hold floats"):
        Dataset(np.zeros((3, 2), int), [0, 1, 0])
    with pytest.raises(ValueError, match="must be integers; got dtype float64"):
        Dataset(X, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="feature_names has 1 names but X has 2"):
        Dataset(X, [0, 1, 0], feature_names=["a"])
    reg = Dataset(X, np.array([0.5, 1.0, 2.0]), task="regression")
    assert reg.n_classes is None and "regression" in repr(reg)
    sub = ds.take([2, 0])
    assert sub.y.tolist() == [1, 0] and sub.classes.tolist() == [0, 1, 2]


def test_data_layer_imports_nothing_above_it():
    """The data layer imports only NumPy, SciPy, scikit-learn, the standard library, itself and
    ravine's bottom-level helpers (``ravine._random``, ``ravine._checks``, ``ravine._chunks``, ``ravine._npz``)."""
    import ast
    import pathlib
    import sys

    allowed = {"numpy", "scipy", "sklearn", "__future__"} | set(sys.stdlib_module_names)
    folder = pathlib.Path(rd.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 2 and node.module in ("_random", "_checks", "_chunks", "_npz"):
                    continue  # ravine's bottom-level helpers, below every layer
                if node.level:  # relative: within ravine.data (level 1) only
                    assert node.level == 1, f"{path.name} imports from a parent package"
                    continue
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or name == "ravine._checks", f"{path.name} imports {name}"
