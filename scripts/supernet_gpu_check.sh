#!/usr/bin/env bash
# One-command GPU check of the super-network trainer (issue 5); < 8 minutes on one modern GPU.
#   scripts/supernet_gpu_check.sh              CUDA run, CSVs under results/gpu/
#   scripts/supernet_gpu_check.sh --cpu-smoke  tiny CPU run of the same steps (output: $SMOKE_OUT)
# Writes: supernet_throughput_fp32.csv, supernet_throughput_amp.csv (images/s of NB201 and Macro
# super-networks with/without split and of the stand-alone network with the same architecture,
# peak memory), supernet_train_log.csv (a real CIFAR-shaped NB201 training run: time/epoch and
# peak GPU memory with and without split), miniature/ (short Fashion-MNIST or synthetic miniature),
# environment.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
[ -x .venv/bin/python ] && PY=.venv/bin/python

if [ "${1:-}" = "--cpu-smoke" ]; then
  OUT=${SMOKE_OUT:-$(mktemp -d /tmp/supernet-gpu-smoke.XXXX)}
  DEV=cpu; BATCH=8; MEMBATCH=8; REPS=1; ARCHS=1; SN_EPOCHS=2; SN_IMAGES=96; MINI="--space nb201-nozero --archs 4 --gt-seeds 0,1 --train-images 96 --val-images 32 --test-images 32 --gt-epochs 1 --epochs 2 --splits 1 --seeds 0 --calib-batches 1 --early-stop --bn-reset"
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
else
  OUT=results/gpu
  DEV=cuda; BATCH=256; MEMBATCH=256; REPS=10; ARCHS=3; SN_EPOCHS=4; SN_IMAGES=10240; MINI="--space nb201-nozero --archs 24 --gt-seeds 0,1 --train-images 10000 --val-images 2000 --test-images 10000 --size 32 --channels 16 --batch 256 --lr 0.1 --gt-epochs 8 --epochs 30 --splits 12,18,24 --seeds 0,1 --calib-batches 20 --crop-padding 4 --early-stop --bn-reset"
  "$PY" -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 'CUDA is not available: use --cpu-smoke on CPU machines')"
fi
mkdir -p "$OUT"
{ date -u; "$PY" -c "import torch; print('torch', torch.__version__); print('device', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')"; nproc; } > "$OUT/environment.txt"
start=$(date +%s)

# 1. throughput and peak memory: super-network (unsplit / split) vs stand-alone, side by side
"$PY" scripts/bench_supernet.py --device "$DEV" --batch "$BATCH" --memory-batch "$MEMBATCH" --repeats "$REPS" --archs "$ARCHS" --out "$OUT/supernet_throughput_fp32.csv"
if [ "$DEV" = cuda ]; then
  "$PY" scripts/bench_supernet.py --device cuda --batch "$BATCH" --repeats "$REPS" --archs "$ARCHS" --amp --channels-last --out "$OUT/supernet_throughput_amp.csv"
fi

# 2. real trainer runs (synthetic CIFAR-shaped data): epoch time and peak GPU memory, baseline vs split
for split in -1 1; do
  "$PY" -c 'import sys; from nasbench_tools.cli import main; sys.exit(main(sys.argv[1:]))' supernet train --space nb201 --subset full --data synthetic --synthetic-size "$((SN_IMAGES + 512))" \
    --val-images 512 --batch-size "$BATCH" --epochs "$SN_EPOCHS" --split-epoch "$split" --device "$DEV" \
    --out "$OUT/.run_split$split" --no-progress
  "$PY" - "$OUT/.run_split$split/train_log.csv" "$split" "$OUT/supernet_train_log.csv" <<'PYEOF'
import sys, pandas as pd, os
log = pd.read_csv(sys.argv[1]); log.insert(0, "split_epoch", int(sys.argv[2]))
out = sys.argv[3]
prev = pd.read_csv(out) if os.path.exists(out) and int(sys.argv[2]) != -1 else None
pd.concat([prev, log]).to_csv(out, index=False) if prev is not None else log.to_csv(out, index=False)
PYEOF
  rm -rf "$OUT/.run_split$split"
done

# 3. short miniature (Fashion-MNIST when installed, else the synthetic smoke data)
FMNIST=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [ -f "$FMNIST/train-images-idx3-ubyte.gz" ] || [ -f "$FMNIST/train-images-idx3-ubyte" ]; then DATA="--data-dir $FMNIST"; else DATA="--data synthetic"; fi
"$PY" scripts/supernet_miniature.py $DATA --device "$DEV" --out "$OUT/miniature" $MINI
echo "supernet GPU check finished in $(( $(date +%s) - start )) s; results in $OUT"
