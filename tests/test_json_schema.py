"""Every command's --json document follows its JSON Schema (docs/schemas/<command>.json,
draft 2020-12), checked with jsonschema on one real run per command on the small fixtures."""

import copy
import json
import os

import pytest

from results_helpers import RUNS, produce

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")
SCHEMAS = os.path.join(os.path.dirname(__file__), "..", "docs", "schemas")
CHECKED = sorted(RUNS)


def load(name):
    with open(os.path.join(SCHEMAS, f"{name}.json")) as f:
        return json.load(f)


def validator(command):
    envelope = load("envelope")
    registry = referencing.Registry().with_resource(
        envelope["$id"], referencing.Resource.from_contents(envelope)
    )
    schema = load(command)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_every_command_has_a_schema():
    from cofail_jax.cli.main import COMMANDS

    commands = set(COMMANDS)
    with_json = {c for c in commands if os.path.exists(os.path.join(SCHEMAS, f"{c}.json"))}
    assert set(CHECKED) <= with_json
    missing = commands - with_json - {"report"}  # report writes figures, no JSON
    assert not missing, f"no docs/schemas/<command>.json for {sorted(missing)}"


@pytest.mark.parametrize("command", CHECKED)
def test_json_result_follows_its_schema(command, tmp_path_factory):
    doc, _ = produce(command, tmp_path_factory)
    v = validator(command)
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    # the schema can fail: a wrong command, a number where text belongs, a missing key
    bad = copy.deepcopy(doc)
    bad["command"] = "other"
    assert not v.is_valid(bad)
    bad = copy.deepcopy(doc)
    bad["result"].pop(sorted(v.schema["properties"]["result"]["required"])[0])
    assert not v.is_valid(bad)
