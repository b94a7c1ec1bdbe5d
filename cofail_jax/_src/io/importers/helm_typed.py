"""The typed (msgspec) reading of HELM ``per_instance_stats.json``: the entries decoded
into Structs naming only the fields :func:`.helm.load_helm` reads; the stat to read is
found once per distinct list of stat names (not once per instance). Anything irregular
raises one of ``fast_errors()``; the loader then reads the file the dict way, whose
message names the entry."""

from __future__ import annotations

from operator import attrgetter, itemgetter

import numpy as np

from ..typed import Fallback, all_none

_TOKENS = ("num_output_tokens", "num_prompt_tokens")


def read_entries_typed(stats_path: str, preds: dict, metric: str | None, split: str | None,
                       threshold: float, cols: dict[str, list], used: set[str],
                       other_stats: set[str], metrics: tuple[str, ...]) -> int:
    """``_read_entries`` of the file ``stats_path``; the number of perturbed entries."""
    from msgspec import UnsetType

    from ._typed import HELM_STATS

    with open(stats_path, "rb") as f:
        data = f.read()
    entries = HELM_STATS.decode(data[3:] if data.startswith(b"\xef\xbb\xbf") else data)
    ids = list(map(attrgetter("instance_id"), entries))
    stats = list(map(attrgetter("stats"), entries))
    if UnsetType in set(map(type, ids)) or UnsetType in set(map(type, stats)):
        raise Fallback("an entry without instance_id or stats")
    perts = list(map(attrgetter("perturbation"), entries))
    n_pert = 0
    if not all_none(perts):
        kept = [e for e, p in zip(entries, perts) if not p]
        n_pert = len(entries) - len(kept)
        entries = kept
        ids = list(map(attrgetter("instance_id"), entries))
        stats = list(map(attrgetter("stats"), entries))
    get_name = attrgetter("name")
    if entries and _read_uniform(entries, ids, stats, preds, metric, split, threshold, cols,
                                 used, other_stats, metrics):
        return n_pert
    plans: dict[tuple, tuple[int, int | None, int | None]] = {}
    qs, cs, ss = cols["query_id"], cols["correct"], cols["sample"]
    score_l, out_l, in_l, ans_l = (cols[c] for c in ("score", "output_tokens",
                                                      "input_tokens", "answer"))
    for e in entries:
        sts = e.stats or ()
        sig = tuple(map(get_name, sts))
        plan = plans.get(sig)
        if plan is None:
            plan = plans[sig] = _plan(sig, metric, split, used, other_stats, metrics)
        pos, p_out, p_in = plan
        st = sts[pos]
        mean = st.mean
        if mean is None and st.count:
            mean = st.sum / st.count
        if not isinstance(mean, (int, float)):
            raise Fallback("a stat without a numeric mean")
        trial = int(e.train_trial_index or 0)
        iid = e.instance_id
        qid = iid if type(iid) is str else str(iid)
        qs.append(qid)
        cs.append(int(mean >= threshold))
        ss.append(trial)
        score_l.append(float(mean))
        for p, col in ((p_out, out_l), (p_in, in_l)):
            v = None if p is None else sts[p].mean
            col.append(None if v is None else float(v))
        ans_l.append(preds.get((qid, trial)) if preds else None)
    return n_pert


def _plan(sig: tuple, metric: str | None, split: str | None, used: set[str],
          other_stats: set[str], metrics: tuple[str, ...]) -> tuple[int, int | None, int | None]:
    """(position of the correctness stat, of num_output_tokens, of num_prompt_tokens)
    in an entry whose stats have the names ``sig``; the later of two equal names wins,
    perturbed stats and other splits are skipped, as in the dict read."""
    from ._typed import HelmName

    pos: dict[str, int] = {}
    for i, name in enumerate(sig):
        if type(name) is HelmName:
            sname, ssplit, spert = str(name.name), name.split, name.perturbation
        else:
            sname, ssplit, spert = str(name), None, None
        if spert or (split is not None and ssplit != split):
            continue
        pos[sname] = i
    key = metric or next((k for k in metrics if k in pos), None)
    used.add(str(key))
    other_stats.update(k for k in pos if k not in (key, *_TOKENS))
    if key is None or key not in pos:
        raise Fallback("no such stat")
    return pos[key], pos.get(_TOKENS[0]), pos.get(_TOKENS[1])


def _read_uniform(entries: list, ids: list, stats: list, preds: dict, metric: str | None,
                  split: str | None, threshold: float, cols: dict[str, list], used: set[str],
                  other_stats: set[str], metrics: tuple[str, ...]) -> bool:
    """The usual file, every entry (its ``ids`` and ``stats``) with the same stat names
    in the same order and plain values, read column by column; False (nothing appended)
    for any other."""
    get_name = attrgetter("name")
    if None in stats or len(set(map(len, stats))) != 1 or not stats[0]:
        return False
    for p in range(len(stats[0])):
        names = list(map(get_name, map(itemgetter(p), stats)))
        if names.count(names[0]) != len(names):  # (== on Structs, no hashing)
            return False
    pos, p_out, p_in = _plan(tuple(map(get_name, stats[0])), metric, split, used,
                             other_stats, metrics)
    get_mean = attrgetter("mean")
    means = list(map(get_mean, map(itemgetter(pos), stats)))
    trials = list(map(attrgetter("train_trial_index"), entries))
    mean_types = set(map(type, means))
    if mean_types - {float, int} or set(map(type, trials)) != {int} \
            or set(map(type, ids)) != {str}:
        return False
    cols["query_id"].extend(ids)
    cols["correct"].extend((np.asarray(means, dtype=np.float64) >= threshold).astype(
        np.int8).tolist())
    cols["sample"].extend(trials)
    cols["score"].extend(means if mean_types == {float} else map(float, means))
    for p, col in ((p_out, "output_tokens"), (p_in, "input_tokens")):
        if p is None:
            cols[col].extend([None] * len(entries))
        else:
            cols[col].extend(None if v is None else float(v)
                             for v in map(get_mean, map(itemgetter(p), stats)))
    cols["answer"].extend([preds.get(k) for k in zip(ids, trials)] if preds
                          else [None] * len(entries))
    return True
