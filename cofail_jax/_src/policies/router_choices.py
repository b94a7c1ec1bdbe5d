"""Reading an external router's choices (CSV ``query_id,model`` or JSONL)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError

__all__ = ["read_choices"]


def read_choices(
    path: str, query_ids: Sequence[str], models: Sequence[str], *, allow_partial: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Read an external router's choices: a CSV (header ``query_id,model``) or JSONL
    (``{"query_id": ..., "model": ...}`` per line).

    Returns:
      (rows, choices): indices of the queries the file covers, and the chosen model's
      column for each. Unknown query ids or model names, duplicates and (without
      ``allow_partial``) uncovered queries raise :class:`InputError`.

    Long: one reader for CSV and JSONL with a located error for every bad row.
    """
    import csv

    from ..io.formats import iter_jsonl

    qpos = {q: i for i, q in enumerate(query_ids)}
    mpos = {m: j for j, m in enumerate(models)}
    recs: list[tuple[str, str, str]] = []
    try:
        with open(path, encoding="utf-8", newline="") as f:
            head = f.read(1)
            f.seek(0)
            if head == "{":
                for ln, d in iter_jsonl(
                    f, path, hint="one JSON object per line", invalid="not valid JSON",
                    objects_only=False,
                ):
                    if not isinstance(d, dict) or "query_id" not in d or "model" not in d:
                        raise InputError(
                            "needs keys 'query_id' and 'model'",
                            source=path,
                            where=f"line {ln}",
                            hint='write {"query_id": ..., "model": ...}',
                        )
                    recs.append((str(d["query_id"]).strip(), str(d["model"]).strip(), f"line {ln}"))
            else:
                reader = csv.DictReader(f)
                cols = [c.strip() for c in (reader.fieldnames or [])]
                if "query_id" not in cols or "model" not in cols:
                    raise InputError(
                        f"header {cols} lacks query_id and model",
                        source=path,
                        where="row 1",
                        hint="write a header line: query_id,model",
                    )
                for r, row in enumerate(reader, start=2):
                    row = {(k or "").strip(): v for k, v in row.items()}
                    recs.append(
                        (
                            str(row["query_id"] or "").strip(),
                            str(row["model"] or "").strip(),
                            f"row {r}",
                        )
                    )
    except OSError as e:
        raise InputError(
            f"cannot read choices file ({e.strerror})", source=path, hint="check the path"
        ) from None
    seen: dict[int, str] = {}
    rows, choices = [], []
    for q, m, where in recs:
        if q not in qpos:
            raise InputError(
                f"query id {q!r} is not in the outcome matrix",
                source=path,
                where=where,
                hint="route only queries of the scored matrix",
            )
        if m not in mpos:
            raise InputError(
                f"model {m!r} is not in the outcome matrix",
                source=path,
                where=where,
                hint=f"choose from: {', '.join(list(models)[:10])}",
            )
        i = qpos[q]
        if i in seen:
            raise InputError(
                f"query {q!r} is routed twice (also {seen[i]})",
                source=path,
                where=where,
                hint="give one choice per query",
            )
        seen[i] = where
        rows.append(i)
        choices.append(mpos[m])
    if not rows:
        raise InputError(
            "has no choices", source=path, hint="write one line per query: query_id,model"
        )
    if not allow_partial and len(rows) < len(query_ids):
        missing = [q for q in query_ids if qpos[q] not in seen]
        raise InputError(
            f"routes {len(rows)} of {len(query_ids)} queries; first missing: {missing[0]!r}",
            source=path,
            hint="route every query, or allow a partial file",
        )
    order = np.argsort(rows)
    return np.asarray(rows, np.int64)[order], np.asarray(choices, np.int64)[order]
