"""CSV loading: real files on disk, and every error names the file, line and column."""

from __future__ import annotations

import numpy as np
import pytest

import ravine.data as rd
from ravine.data import DataError, DataFileNotFoundError


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


IRIS_LIKE = ("sepal_length,sepal_width,petal_width,species\n"
             "5.1,3.5,0.2,0\n4.9,3.0,0.2,0\n6.3,3.3,2.5,1\n5.8,2.7,1.9,1\n7.1,3.0,2.1,1\n")


def test_header_names_labels_and_values(tmp_path):
    ds = rd.load(write(tmp_path, IRIS_LIKE))
    assert ds.X.shape == (5, 3) and ds.X.dtype == np.float32
    assert ds.feature_names == ["sepal_length", "sepal_width", "petal_width"]
    assert ds.y.tolist() == [0, 0, 1, 1, 1] and ds.y.dtype == np.int64
    assert ds.classes.tolist() == [0, 1] and ds.n_classes == 2
    assert ds.task == "classification" and ds.name == "data.csv"
    np.testing.assert_array_equal(ds.X[2], np.float32([6.3, 3.3, 2.5]))


def test_label_column_by_name_and_by_index(tmp_path):
    text = "label,a,b\n1,0.5,1.5\n3,2.5,3.5\n1,4,5\n"
    path = write(tmp_path, text)
    by_name = rd.load(path, label_column="label")
    by_index = rd.load(path, label_column=0)
    for ds in (by_name, by_index):
        assert ds.feature_names == ["a", "b"]
        assert ds.X.tolist() == [[0.5, 1.5], [2.5, 3.5], [4.0, 5.0]]
        assert ds.y.tolist() == [0, 1, 0] and ds.classes.tolist() == [1, 3]
    assert rd.load(path, label_column=-3).y.tolist() == [0, 1, 0]


def test_label_column_as_text_from_a_command_line(tmp_path):
    no_header = write(tmp_path, "0,1.5,2.5\n1,3.5,4.5\n", "a.csv")
    ds = rd.load(no_header, label_column="0")
    assert ds.feature_names is None and ds.X.tolist() == [[1.5, 2.5], [3.5, 4.5]]
    assert ds.y.tolist() == [0, 1]
    header = write(tmp_path, "x,y,label\n1,2,5\n3,4,6\n", "b.csv")
    assert rd.load(header, label_column=" -1").classes.tolist() == [5, 6]
    named_2 = write(tmp_path, "2,b,c\n0,1.5,7\n1,3.5,8\n", "c.csv")  # a column named "2" wins
    assert rd.load(named_2, label_column="2").feature_names == ["b", "c"]


def test_no_header_default_last_column_and_float64(tmp_path):
    ds = rd.load(write(tmp_path, "1,2,0\n3,4,1\n\n5,6,1\n"), dtype="float64")
    assert ds.feature_names is None
    assert ds.X.dtype == np.float64 and ds.X.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert ds.y.tolist() == [0, 1, 1]


def test_class_names_are_mapped_in_sorted_order(tmp_path):
    text = "x,y,species\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n7,8, setosa \n"
    ds = rd.load(write(tmp_path, text))
    assert ds.classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert ds.y.tolist() == [2, 0, 1, 0]


def test_integral_float_labels_and_negative_labels(tmp_path):
    ds = rd.load(write(tmp_path, "a,b\n1,-1\n2,1.0\n3,-1.0\n"))
    assert ds.classes.tolist() == [-1, 1] and ds.y.tolist() == [0, 1, 0]


def test_regression_targets(tmp_path):
    ds = rd.load(write(tmp_path, "a,b,t\n1,2,0.5\n3,4,2.25\n"), task="regression")
    assert ds.task == "regression" and ds.classes is None and ds.n_classes is None
    assert ds.y.dtype == np.float32 and ds.y.tolist() == [0.5, 2.25]


def test_byte_order_mark_quotes_and_windows_newlines(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes('\ufeffa,"b",c\r\n1,"2",0\r\n3,4,1\r\n'.encode("utf-8"))
    ds = rd.load(path)
    assert ds.feature_names == ["a", "b"] and ds.X.tolist() == [[1, 2], [3, 4]]


# (file text, load options, substrings the message must hold)
ERRORS = {
    "text in a numeric cell": (
        "sepal_length,sepal_width,petal_width,species\n" + "1,2,3,0\n" * 3 + "1,2,3,1\n" * 2
        + "4,5,abc,1\n", {},
        ['data.csv, line 7, column 3 ("petal_width"): expected a number, got \'abc\'']),
    "text without a header": (
        "1,2,0\n3,x y,1\n", {}, ["data.csv, line 2, column 2: expected a number, got 'x y'"]),
    "NaN": ("a,b,c\n1,2,0\n1,nan,1\n", {},
            ['data.csv, line 3, column 2 ("b"): expected a finite number, got \'nan\'']),
    "inf": ("a,b,c\n1,2,0\n-inf,1,1\n", {},
            ['data.csv, line 3, column 1 ("a"): expected a finite number, got \'-inf\'']),
    "empty cell": ("a,b,c\n1,2,0\n1,,1\n", {},
                   ['data.csv, line 3, column 2 ("b"): empty cell; expected a number']),
    "ragged row": ("a,b,c,d\n1,2,3,0\n1,2,3,1\n1,2,3,0\n1,2,1\n", {},
                   ["data.csv, line 5 has 3 fields, expected 4"]),
    "ragged long row": ("1,2,0\n1,2,1\n1,2,3,1\n", {},
                        ["data.csv, line 3 has 4 fields, expected 3"]),
    "empty file": ("", {}, ["data.csv", "empty"]),
    "blank lines only": ("\n  \n\n", {}, ["data.csv", "empty"]),
    "header only": ("a,b,label\n", {}, ["data.csv", "header (line 1)", "no data rows"]),
    "label column name missing": (
        "a,b,c\n1,2,0\n3,4,1\n", {"label_column": "species"},
        ["data.csv, line 1", "label column 'species' not found", "'a', 'b', 'c'"]),
    "label column index missing": (
        "a,b,c\n1,2,0\n3,4,1\n", {"label_column": 3},
        ["data.csv", "label column 3 does not exist", "3 columns", "'a', 'b', 'c'"]),
    "label column number as text out of range": (
        "1,2,0\n3,4,1\n", {"label_column": "7"},
        ["data.csv", "label column 7 does not exist"]),
    "single class": ("a,b,c\n1,2,0\n3,4,0\n5,6,0\n", {},
                     ['data.csv, column 3 ("c")', "at least 2 classes", "only one: 0"]),
    "single class name": ("a,b\n1,setosa\n3,setosa\n", {},
                          ['data.csv, column 2 ("b")', "at least 2 classes", "'setosa'"]),
    "label not an integer": (
        "a,b,label\n1,2,0\n3,4,1\n5,6,2.5\n", {},
        ['data.csv, line 4, column 3 ("label")', "'2.5' is not an integer", "regression"]),
    "text among integer labels": (
        "a,b,label\n1,2,0\n3,4,1\n5,6,abc\n", {},
        ['data.csv, line 4, column 3 ("label")', "integer class label", "'abc'"]),
    "empty label": ("a,b,label\n1,2,0\n3,4,\n", {},
                    ['data.csv, line 3, column 3 ("label")', "empty cell"]),
    "NaN label": ("a,b,label\n1,2,0\n3,4,nan\n", {},
                  ['data.csv, line 3, column 3 ("label")', "'nan'"]),
    "regression text target": ("a,t\n1,0.5\n2,big\n", {"task": "regression"},
                               ['data.csv, line 3, column 2 ("t")', "expected a number", "'big'"]),
    "one column": ("a;b;c\n1;2;0\n", {}, ["data.csv, line 1", "1 column", "semicolons"]),
    "overflows float32": ("a,b,c\n1,1e39,0\n3,4,1\n", {},
                          ['data.csv, line 2, column 2 ("b")', "float32", "dtype='float64'"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_name_file_line_and_column(tmp_path, case):
    text, options, expected = ERRORS[case]
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        rd.load(path, **options)
    assert isinstance(info.value, DataError)
    message = str(info.value)
    assert str(path) in message  # the path as the user gave it
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert "\n" not in message  # the command prints it as one line


def test_error_attributes_for_programs(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,0\n1,x,1\n")
    with pytest.raises(DataError) as info:
        rd.load_csv(path)
    e = info.value
    assert (e.path, e.line, e.column, e.column_name) == (str(path), 3, 2, "b")


def test_missing_file_is_file_not_found_and_value_error(tmp_path):
    path = tmp_path / "nope.csv"
    for error in (FileNotFoundError, ValueError, DataFileNotFoundError):
        with pytest.raises(error, match="nope.csv: no such file"):
            rd.load(path)


def test_header_detection_ignores_label_column_text(tmp_path):
    # a text label on the first line does not make it a header
    ds = rd.load(write(tmp_path, "1,2,setosa\n3,4,virginica\n"))
    assert len(ds) == 2 and ds.feature_names is None


def test_ambiguous_label_name(tmp_path):
    path = write(tmp_path, "a,a,b\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match="ambiguous: columns 1 and 2"):
        rd.load(path, label_column="a")


def test_label_column_type_is_checked(tmp_path):
    with pytest.raises(TypeError, match="label_column"):
        rd.load(write(tmp_path, "1,2,0\n3,4,1\n"), label_column=1.5)


def test_not_utf8(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,\xff\n")
    with pytest.raises(DataError, match="data.csv: is not UTF-8"):
        rd.load(path)
