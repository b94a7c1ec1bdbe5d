"""msgspec Structs naming only the fields the importers read.

Decoding into these skips every other field (messages, events, store, configs) without
building Python objects for it, and checks the shapes the fast walks rely on: a value of
another shape is a ``msgspec.ValidationError``, upon which the importer re-reads the file
through its dict-walking path (which accepts it or names the problem). Only imported
when msgspec is installed.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Struct, UnsetType

# Inspect AI (EvalLog / EvalSample, only what load_inspect reads)


class InspectScore(Struct, gc=False):
    value: Any = UNSET
    answer: Any = None


class InspectMessage(Struct, gc=False):
    role: Any = None
    content: Any = None


class InspectOutMessage(Struct, gc=False):
    content: Any = None


class InspectChoice(Struct, gc=False):
    message: InspectOutMessage | None = None
    stop_reason: Any = None


class InspectUsage(Struct, gc=False):
    input_tokens: Any = None
    output_tokens: Any = None
    total_tokens: Any = None


class InspectOutput(Struct, gc=False):
    choices: list[InspectChoice] | None = None
    completion: Any = None
    usage: InspectUsage | None = None


class InspectSample(Struct, gc=False):
    id: Any = UNSET
    epoch: Any = 1
    input: str | list[InspectMessage] | None = None
    target: Any = None
    choices: Any = None
    output: InspectOutput | None = None
    scores: dict[str, InspectScore] | None = None


class InspectLog(Struct, gc=False):
    eval: Any = UNSET
    status: Any = UNSET
    error: Any = UNSET
    samples: list[InspectSample] | None = None


INSPECT_LOG = msgspec.json.Decoder(InspectLog)
INSPECT_SAMPLE = msgspec.json.Decoder(InspectSample)


# The same logs, only what the matrix needs (ids, epochs, score values): the metadata is
# decoded from the kept bytes with the Structs above when first read


class InspectScoreValue(Struct, gc=False):
    value: Any = UNSET


class InspectSampleScores(Struct, gc=False):
    id: Any = UNSET
    epoch: Any = 1
    scores: dict[str, InspectScoreValue] | None = None


class InspectLogScores(Struct, gc=False):
    eval: Any = UNSET
    status: Any = UNSET
    error: Any = UNSET
    samples: list[InspectSampleScores] | None = None


INSPECT_LOG_SCORES = msgspec.json.Decoder(InspectLogScores)
INSPECT_SAMPLE_SCORES = msgspec.json.Decoder(InspectSampleScores)


def present(struct: Struct, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of ``struct`` that were in the input, as a dict."""
    out = {}
    for n in names:
        v = getattr(struct, n)
        if not isinstance(v, UnsetType):
            out[n] = v
    return out


# Every Eval Ever instance records (only what load_eee reads; ``input`` left undecoded
# until the builder asks for a query's prompt, reference and choices)


class EeeEvaluation(Struct, gc=False):
    is_correct: Any = UNSET
    score: Any = None


class EeeOutput(Struct, gc=False):
    raw: Any = None


class EeeAttribution(Struct, gc=False):
    extracted_value: Any = None
    is_terminal: Any = None


class EeeTokens(Struct, gc=False):
    input_tokens: Any = None
    output_tokens: Any = None
    total_tokens: Any = None


class EeePerformance(Struct, gc=False):
    latency_ms: Any = None


class EeeMetadata(Struct, gc=False):
    epoch: Any = None
    filter: Any = None
    domain: Any = None
    subject: Any = None
    category: Any = None


class EeeRecord(Struct, gc=False):
    # required (a record without one is a ValidationError: the dict read names it)
    schema_version: Any
    evaluation_id: Any
    model_id: Any
    evaluation_name: Any
    sample_id: Any
    evaluation: EeeEvaluation
    evaluation_result_id: Any = None
    input: msgspec.Raw = msgspec.Raw(b"")
    output: EeeOutput | None = None
    answer_attribution: list[EeeAttribution] | None = None
    token_usage: EeeTokens | None = None
    performance: EeePerformance | None = None
    error: Any = None
    metadata: EeeMetadata | None = None


EEE_RECORD = msgspec.json.Decoder(EeeRecord)


# The same records, only what the matrix needs: the metadata is decoded from the kept
# bytes with EeeRecord when first read


class EeeCorrect(Struct, gc=False):
    is_correct: Any = UNSET


class EeeResultMeta(Struct, gc=False):
    epoch: Any = None
    filter: Any = None


class EeeCell(Struct, gc=False):
    schema_version: msgspec.Raw  # required, read for their presence only
    evaluation_id: msgspec.Raw
    model_id: Any
    evaluation_name: Any
    sample_id: Any
    evaluation: EeeCorrect
    evaluation_result_id: Any = None
    error: Any = None
    metadata: EeeResultMeta | None = None


EEE_CELL = msgspec.json.Decoder(EeeCell)


class EeeInput(Struct, gc=False):
    raw: Any = None
    reference: Any = None
    choices: Any = None


EEE_INPUTS = msgspec.json.Decoder(list[EeeInput | None])


# OpenAI evals record logs: one Struct for every kind of line (spec, final_report, event)


class OaiData(Struct, gc=False):
    correct: Any = UNSET
    picked: Any = None
    sampled: Any = None
    expected: Any = None
    options: Any = None
    prompt: Any = None


class OaiLine(Struct, gc=False):
    spec: Any = UNSET
    final_report: Any = UNSET
    event_id: Any = UNSET
    sample_id: Any = UNSET
    type: Any = UNSET
    data: OaiData | None = None


OAI_LINE = msgspec.json.Decoder(OaiLine)


class OaiCorrect(Struct, gc=False):
    correct: Any = UNSET


class OaiMatchLine(Struct, gc=False):
    """An OaiLine for the matrix only (the metadata is decoded with OaiLine later)."""

    spec: Any = UNSET
    final_report: Any = UNSET
    event_id: Any = UNSET
    sample_id: Any = UNSET
    type: Any = UNSET
    data: OaiCorrect | None = None


OAI_MATCH_LINE = msgspec.json.Decoder(OaiMatchLine)


# HELM per_instance_stats.json (only what load_helm reads)


class HelmName(Struct, gc=False, frozen=True):
    name: Any = None
    split: Any = None
    perturbation: Any = None


class HelmStat(Struct, gc=False):
    name: HelmName | str | None = None
    mean: Any = None
    count: Any = None
    sum: Any = None


class HelmEntry(Struct, gc=False):
    instance_id: Any = UNSET
    stats: list[HelmStat] | None | UnsetType = UNSET
    perturbation: Any = None
    train_trial_index: Any = 0


HELM_STATS = msgspec.json.Decoder(list[HelmEntry])
