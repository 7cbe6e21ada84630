"""The benchmarks a ``conf/suite/*.yaml`` names by class (``_target_``): each a small dataclass
whose fields are its definition (:mod:`.base`), one module per benchmark kind."""
