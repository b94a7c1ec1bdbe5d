"""Audit of all-wrong events: evidence that they are grading artefacts, adjudication,
regrading and sensitivity."""

from .adjudicate import (ARTEFACT_VERDICTS, VERDICTS, Adjudications, AuditedBeta,  # noqa: F401
                         apply_adjudications, audited_beta, read_adjudications)
from .evidence import CLASSES, QueryEvidence, audit_evidence, evidence_rows  # noqa: F401
from .normalize import Match, answers_equivalent, normalize_answer, parse_number  # noqa: F401
from .regrade import Flip, RegradeResult, regrade  # noqa: F401
from .sensitivity import Sensitivity, artefact_sensitivity  # noqa: F401
