"""The errors of the data layer, and the one place that says *where* in a file something is wrong.

Every message starts with the file and, when it applies, the line and column, so that the command
line can print it as one ``error: ...`` line and the user can open the file at that spot:

    data.csv, line 7, column 3 ("petal_width"): expected a number, got 'abc'

Lines count from 1 and include the header line, as an editor shows them; columns count from 1, as a
spreadsheet shows them. Positions inside arrays (``.npy``/``.npz``) are array indices, counted from
0, and the message says so.
"""

from __future__ import annotations

import os


class DataError(ValueError):
    """Bad data in a file or array: a ``ValueError`` that also carries where the problem is.

    Attributes ``path``, ``line`` (1-based), ``column`` (1-based) and ``column_name`` are ``None``
    when they do not apply. The message already contains them; the attributes are for programs.
    With ``located=True`` the message is taken as already saying where, and is used as it is.

    Example:
        >>> try:
        ...     raise DataError("expected a number, got 'abc'", path="data.csv", line=7, column=3)
        ... except ValueError as e:
        ...     print(e)
        data.csv, line 7, column 3: expected a number, got 'abc'
    """

    def __init__(self, message: str, *, path=None, line=None, column=None, column_name=None,
                 located: bool = False):
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.column = column
        self.column_name = column_name
        self.reason = message
        # located=True: the message already says where (e.g. "data.csv, line 5 has 3 fields, ...")
        where = "" if located else where_in_file(path, line=line, column=column,
                                                  column_name=column_name)
        super().__init__(f"{where}: {message}" if where else message)


class DataFileNotFoundError(FileNotFoundError, ValueError):
    """A data file that does not exist. Both a ``FileNotFoundError`` and a ``ValueError``.

    It is a ``FileNotFoundError`` because that is what it is, and a ``ValueError`` so that code
    catching bad input (the command line turns every ``ValueError`` into one ``error:`` line) also
    catches a mistyped path. ``str(e)`` is the message alone, without an ``[Errno 2]`` prefix.

    Example:
        >>> try:
        ...     raise DataFileNotFoundError("nope.csv")
        ... except ValueError as e:
        ...     print(e)
        nope.csv: no such file
    """

    def __init__(self, path, message: str = "no such file"):
        import errno

        super().__init__(errno.ENOENT, message, os.fspath(path))
        self.path = os.fspath(path)
        self.message = f"{self.path}: {message}"

    def __str__(self) -> str:
        return self.message


def where_in_file(path=None, *, line=None, column=None, column_name=None) -> str:
    """``'data.csv, line 7, column 3 ("petal_width")'``, leaving out the parts that are ``None``.

    Example:
        >>> where_in_file("data.csv", line=7, column=3, column_name="petal_width")
        'data.csv, line 7, column 3 ("petal_width")'
        >>> where_in_file("data.csv", column=5)
        'data.csv, column 5'
    """
    parts = []
    if path is not None:
        parts.append(os.fspath(path))
    if line is not None:
        parts.append(f"line {line}")
    if column is not None:
        parts.append(f"column {column}" + (f' ("{column_name}")' if column_name else ""))
    return ", ".join(parts)


def existing_file(path, what: str = "file") -> str:
    """``path`` as a str, or ``DataFileNotFoundError`` / ``DataError`` if it is missing or a folder."""
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DataFileNotFoundError(p)
    if os.path.isdir(p):
        raise DataError(f"is a folder, not a {what}", path=p)
    return p
