"""Errors raised at the edges (loaders, configs, CLI).

Every problem with a user's input is an :class:`InputError`: its message names the
file, the row or column, and what to do. The CLI prints it on one line and exits with
status 2; library callers can catch it like any ``ValueError``. :func:`renamed_keyword`
keeps a renamed keyword argument working, with a deprecation warning.
"""

from __future__ import annotations


class InputError(ValueError):
    """A problem with user input: names the source, the place and the remedy.

    Args:
      message: what is wrong.
      source: the file (or other input) that has the problem, if any.
      where: the row, column, record or key, if any.
      hint: what the user can do about it. Name a library parameter as ``name=value``
        (``missing=drop-queries``): the CLI shows it as its flag (``--missing drop-queries``).
      param: the library parameter at fault (``"models"``, ``"format"``), shown as
        ``models=`` when there is no ``where``; the CLI maps it to its flag.
    """

    def __init__(self, message: str, *, source: str | None = None, where: str | None = None,
                 hint: str | None = None, param: str | None = None):
        self.message = message
        self.source = source
        self.where = where
        self.hint = hint
        self.param = param
        super().__init__(self.format())

    def format(self) -> str:
        parts = []
        if self.source:
            parts.append(str(self.source))
        if self.where:
            parts.append(str(self.where))
        elif self.param:
            parts.append(f"{self.param}=")
        head = ": ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text.replace("\n", " ")


def renamed_keyword(old: str, new: str):
    """Decorator: ``fn(new=...)`` may still be called as ``fn(old=...)`` (the keyword's
    name before a rename), with a :class:`DeprecationWarning` naming the new one."""
    import functools
    import warnings

    def deco(fn):
        @functools.wraps(fn)
        def wrapped(*args, **kw):
            if old in kw:
                if args or new in kw:
                    raise TypeError(f"{fn.__name__}: give {new} once ({old!r} is its old name)")
                warnings.warn(f"{fn.__name__}({old}=...) is now {fn.__name__}({new}=...)",
                              DeprecationWarning, stacklevel=2)
                kw[new] = kw.pop(old)
            return fn(*args, **kw)

        return wrapped

    return deco
