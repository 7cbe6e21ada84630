"""The report: any number of tuned models against their base models, from ``results.json``
files (and the samples, training runs and curated sets they point to) only; ``run.py`` is the
table of contents (``python -m evaluation.report``, ``lessmore report``)."""
