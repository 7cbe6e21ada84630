"""Pure scoring functions: no model, no I/O.

Short-answer matching lives in ``curation.core.answers`` because knowledge probing must judge a
fact by the same rule the evaluation scores it with; it is re-exported here with the metrics.
"""

from __future__ import annotations

from curation.core.answers import compute_exact_match, extract_short_answer, normalize_answer

__all__ = ["compute_exact_match", "extract_short_answer", "normalize_answer"]
