"""The ``lessmore`` command and the pipeline that runs the three stages in turn.

This package sits above the stages: it imports only the shared core (``curation.core``) and
starts each stage as its own process, by module name, exactly as a user would.
"""
