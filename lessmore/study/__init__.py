"""``lessmore study NAME out=DIR``: reproduce a seed paper's finding end to end on real data.

A study (``conf/study/<name>.yaml``) names shared preparation jobs, its arms (curate, train and
evaluate overrides per arm: each arm runs the ordinary stage commands into its own folder), the
claims it checks and its headline figure. The arms run as one Hydra multirun, so any Hydra
launcher spreads them (``hydra/launcher=joblib``, ``submitit_slurm``, ``ray``); completion markers
let a killed study skip what finished. The analysis reads only the arms' results files and writes
``study.json`` and a report whose verdicts come from the intervals by a stated rule.
"""
