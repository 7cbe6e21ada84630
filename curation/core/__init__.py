"""Code every stage shares: records, readers, chat format, models, generation, I/O.

This package imports nothing else from lessmore, so curation, training and evaluation can all
depend on it (imports run one way: core <- curation <- training, evaluation).
"""
