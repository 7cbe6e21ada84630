#!/usr/bin/env bash
# Create (or top up) a dedicated venv with EleutherAI lm-evaluation-harness for the peer benchmark
# (benchmarks/bench_probe.py). lm-eval's pins stay out of the project's own venv.
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
"$VENV/bin/python" - <<'EOF'
from importlib.metadata import version
print("torch", version("torch"), "| lm-eval", version("lm_eval"), "| transformers", version("transformers"))
EOF
echo "run: python benchmarks/bench_probe.py --lmeval $VENV/bin/lm-eval"
