"""The weight analysis: where a fine-tune changed the weights (intruder dimensions, effective
rank of ΔW; DESIGN §5, Weights); ``run.py`` is the table of contents (``python -m
evaluation.weights``, ``lessmore weights``)."""
