"""Draft a JSON Schema (2020-12) for a command's ``--json`` result from real documents.

    python scripts/json_schemas.py COMMAND DOC.json [DOC2.json ...] > docs/schemas/COMMAND.json

Every key seen becomes a typed property (numbers may be ``null``: NaN is written as null);
keys seen in every document are ``required`` in ``result`` and one level below; objects
whose keys are model or judge names (the ``labels`` of the documents) become maps
(``additionalProperties``). Review the draft by hand: the tests check the schemas
against fresh outputs (tests/test_json_schema.py), not this script.
"""

from __future__ import annotations

import json
import sys

ENVELOPE = "https://cofail-jax.invalid/schema/cofail_jax.json/1"


def _labels(docs) -> set[str]:
    out: set[str] = set()

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("models", "judges", "names", "band_models", "cost_order",
                         "copulas") and isinstance(
                    v, list
                ):
                    out.update(s for s in v if isinstance(s, str))
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for d in docs:
        walk(d)
    return out


def _merge(a: dict | None, b: dict) -> dict:
    if a is None:
        return b
    if a.get("type") == b.get("type") == "object":
        props = dict(a.get("properties", {}))
        for k, v in b.get("properties", {}).items():
            props[k] = _merge(props.get(k), v)
        out = {"type": "object"}
        if props:
            out["properties"] = props
        req = sorted(set(a.get("required", [])) & set(b.get("required", [])))
        if req:
            out["required"] = req
        if "additionalProperties" in a or "additionalProperties" in b:
            out["additionalProperties"] = _merge(a.get("additionalProperties"),
                                                 b.get("additionalProperties") or {})
        return out
    if a == b:
        return a
    if NUM in (a, b) and {"type": "integer"} in (a, b):
        return NUM
    ta = a.get("type")
    tb = b.get("type")
    if ta == "array" and tb == "array":
        return {"type": "array", "items": _merge(a.get("items"), b.get("items") or {})}
    types = set(ta if isinstance(ta, list) else [ta]) | set(tb if isinstance(tb, list) else [tb])
    types.discard(None)
    return {"type": sorted(types)} if types else {}


NUM = {"$ref": "#/$defs/number"}
ESTIMATE = {"$ref": "#/$defs/estimate"}
INTERVAL = {"$ref": "#/$defs/interval"}
DEFS = {
    "number": {"type": ["number", "null"], "description": "a number; null where undefined (NaN)"},
    "interval": {"type": "array", "items": {"$ref": "#/$defs/number"}, "minItems": 2,
                 "maxItems": 2, "description": "[lower, upper]"},
    "estimate": {"type": "object", "required": ["estimate", "lower", "upper"],
                 "properties": {k: {"$ref": "#/$defs/number"}
                                for k in ("estimate", "lower", "upper", "se")},
                 "description": "a bootstrap estimate with its percentile interval"},
}


def infer(x, labels: set[str], depth: int = 0, key: str = "") -> dict:
    if x is None:
        return {"type": ["null", "number", "string"]}
    if isinstance(x, bool):
        return {"type": "boolean"}
    if isinstance(x, int):
        return {"type": "integer"}
    if isinstance(x, float):
        return NUM
    if isinstance(x, str):
        return {"type": "string"}
    if isinstance(x, dict) and {"estimate", "lower", "upper"} <= set(x) <= {
        "estimate", "lower", "upper", "se"}:
        return ESTIMATE
    if (isinstance(x, list) and len(x) == 2 and key.endswith("ci")
            and all(v is None or isinstance(v, (int, float)) for v in x)):
        return INTERVAL
    if isinstance(x, list):
        items = None
        for v in x:
            items = _merge(items, infer(v, labels, depth + 1, key))
        return {"type": "array", "items": items or {}}
    if x and set(x) <= labels:
        values = None
        for v in x.values():
            values = _merge(values, infer(v, labels, depth + 1))
        return {"type": "object", "additionalProperties": values or {}}
    out: dict = {"type": "object",
                 "properties": {k: infer(v, labels, depth + 1, k) for k, v in x.items()}}
    if depth <= 1 and x:
        out["required"] = sorted(x)
    return out


def schema(command: str, docs: list[dict]) -> dict:
    labels = _labels(docs)
    result = None
    for d in docs:
        result = _merge(result, infer(d["result"], labels))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://cofail-jax.invalid/schema/cofail_jax.json/1/{command}",
        "title": f"cofail {command} --json, version 1",
        "type": "object",
        "required": ["schema", "command", "result"],
        "properties": {
            "schema": {"const": "cofail_jax.json/1"},
            "command": {"const": command},
            "result": result,
            "provenance": {"$ref": ENVELOPE + "#/properties/provenance"},
        },
        "additionalProperties": False,
        "$defs": DEFS,
    }


if __name__ == "__main__":
    cmd, *paths = sys.argv[1:]
    docs = [json.load(open(p)) for p in paths]
    print(json.dumps(schema(cmd, docs), indent=1))
