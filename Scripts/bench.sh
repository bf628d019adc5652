#!/usr/bin/env bash
# make bench: speed and memory, measured side by side in one run (medians of alternating rounds).
# - loading the embedded dataset (release build);
# - the UI: drawing a 200x60 frame of each view, training throughput with a scripted user at the UI,
#   and what that user waits for (csn bench --ui);
# - a neighbour query over the whole test split, and t-SNE against scikit-learn and openTSNE
#   (Tools/tsne_reference.py; skipped with a note when they are not installed);
# - csn watch (write to screen) and csn explore --embeddings (10k and 100k vectors to the first map);
# - the convolutions phase by phase (csn bench --kernels: im2col, Winograd F(2x2) and F(4x4));
# - training steps of the default model (csn-learned, batch 64, 2 threads) on the embedded data:
#   csn, the same network, loss and batch in PyTorch on the CPU with 2 threads, eager and with
#   torch.compile (Tools/pytorch_reference.py, one process per row so that each peak memory is its
#   own), and the machine's sgemm rate as a ceiling (Tools/sgemm_ceiling.py, numpy).
# ROUNDS (default 3) sets the training rounds, UI_ROUNDS (default 6, even) the UI's rounds,
# TSNE_SIZES the t-SNE rows' sizes.
# The Python tools run with BENCH_PYTHON, by default the venv that `make bench-venv` makes
# (python/.venv with Tools/requirements.txt); without it their rows are skipped with a note.
set -euo pipefail
cd "$(dirname "$0")/.."
csn=.build/release/csn
rounds=${ROUNDS:-3}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
BENCH_PYTHON=${BENCH_PYTHON:-python/.venv/bin/python}
bench_has() { [ -x "$BENCH_PYTHON" ] && "$BENCH_PYTHON" -c "import $1" 2>/dev/null; }
numpy_python=python3
bench_has numpy && numpy_python=$BENCH_PYTHON

echo "== loading the embedded dataset ($(du -h Assets/fonts32.safetensors.gz | cut -f1)) =="
for i in $(seq 5); do $csn bench --steps 1 2>/dev/null | awk '/dataset load/ {print $3}'; done | median | xargs printf "median load time: %s s over 5 runs\n"

have_torch=1
bench_has torch || have_torch=0
have_numpy=1
$numpy_python -c "import numpy" 2>/dev/null || have_numpy=0
echo
echo "== training: csn-learned, batch 64, 2 threads, $rounds alternating rounds of 30 timed steps =="
: > /tmp/csn-bench.txt; : > /tmp/torch-eager-bench.txt; : > /tmp/torch-compiled-bench.txt; : > /tmp/sgemm-bench.txt
compiled_ok=1
for r in $(seq "$rounds"); do
  $csn bench --steps 30 --threads 2 | tee -a /tmp/csn-bench.txt | sed "s/^/csn              round $r: /" | grep -E "median step|triplets/s|GFLOP|memory"
  if [ $have_torch = 1 ]; then
    "$BENCH_PYTHON" Tools/pytorch_reference.py speed --variant eager --steps 30 --threads 2 \
      | tee -a /tmp/torch-eager-bench.txt | sed "s/^/pytorch eager    round $r: /" | grep -E "median step|triplets/s|memory"
    if [ $compiled_ok = 1 ]; then
      status=0
      out=$("$BENCH_PYTHON" Tools/pytorch_reference.py speed --variant compiled --steps 30 --threads 2 2>/tmp/torch-compiled-stderr.txt) || status=$?
      if [ $status = 0 ]; then
        echo "$out" | tee -a /tmp/torch-compiled-bench.txt | sed "s/^/pytorch compiled round $r: /" | grep -E "median step|triplets/s|memory"
      else
        compiled_ok=0
        echo "pytorch compiled round $r: $(echo "$out" | grep -E "torch.compile failed" || echo "exit status $status") - no compiled row (messages: /tmp/torch-compiled-stderr.txt)"
      fi
    fi
  fi
  if [ $have_numpy = 1 ]; then
    # numpy's own OpenBLAS is current: free it from a machine-wide OPENBLAS_CORETYPE (and the L2
    # size set with it), which would hold it to older kernels than its own choice.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $numpy_python Tools/sgemm_ceiling.py --threads 2 | tee -a /tmp/sgemm-bench.txt | sed "s/^/sgemm ceiling    round $r: /" | grep "sgemm ceiling:"
  fi
done
csn_tps=$(awk '/training triplets/ {print $3}' /tmp/csn-bench.txt | median)
csn_gflops=$(awk '/GFLOP/ {print $2}' /tmp/csn-bench.txt | median)
csn_mem=$(awk '/peak resident/ {print $4}' /tmp/csn-bench.txt | median)
echo
echo "medians of $rounds rounds:"
echo "csn:              $csn_tps triplets/s, peak $csn_mem MiB, $csn_gflops GFLOP/s counted as direct convolution"
ratios() {  # name, triplets/s, MiB
  awk -v name="$1" -v a="$csn_tps" -v b="$2" -v m="$csn_mem" -v n="$3" \
    'BEGIN {printf "csn / pytorch %-9s %.2fx triplets/s, %.2fx peak memory\n", name ":", a / b, m / n}'
}
if [ $have_torch = 1 ]; then
  eager_tps=$(awk '/training triplets/ {print $3}' /tmp/torch-eager-bench.txt | median)
  eager_mem=$(awk '/peak resident/ {print $4}' /tmp/torch-eager-bench.txt | median)
  echo "pytorch eager:    $eager_tps triplets/s, peak $eager_mem MiB ($(head -1 /tmp/torch-eager-bench.txt))"
  if [ -s /tmp/torch-compiled-bench.txt ]; then
    compiled_tps=$(awk '/training triplets/ {print $3}' /tmp/torch-compiled-bench.txt | median)
    compiled_mem=$(awk '/peak resident/ {print $4}' /tmp/torch-compiled-bench.txt | median)
    echo "pytorch compiled: $compiled_tps triplets/s, peak $compiled_mem MiB ($(head -1 /tmp/torch-compiled-bench.txt); compilation not timed)"
  else
    echo "pytorch compiled: no row (torch.compile failed, see above)"
  fi
  grep -m1 "after importing torch" /tmp/torch-eager-bench.txt | sed 's/.*after importing torch \([0-9]*\) MiB, \(.*\))$/  (of pytorch'"'"'s peak, importing torch alone takes \1 MiB: \2)/' || true
  grep -m1 "batch preparation" /tmp/torch-eager-bench.txt | sed 's/.*batch preparation (not timed): \([0-9.]*\) ms a batch.*/  (pytorch'"'"'s batches are sampled and converted before its clock starts, \1 ms a batch; csn'"'"'s step includes its sampling and conversion)/' || true
fi
if [ -s /tmp/sgemm-bench.txt ]; then
  gemm_big=$(awk '/sgemm ceiling:/ {print $3}' /tmp/sgemm-bench.txt | median)
  gemm_conv=$(awk '/sgemm ceiling:/ {print $7}' /tmp/sgemm-bench.txt | median)
  echo "sgemm ceiling:    $gemm_big GFLOP/s at 2048^3, $gemm_conv GFLOP/s at 128x576x12288 (stage 3 as im2col); $(head -1 /tmp/sgemm-bench.txt | sed 's/:$//')"
else
  echo "sgemm ceiling:    numpy not installed (make bench-venv) - no row"
fi
if [ $have_torch = 1 ]; then
  ratios eager "$eager_tps" "$eager_mem"
  if [ -s /tmp/torch-compiled-bench.txt ]; then ratios compiled "$compiled_tps" "$compiled_mem"; fi
else
  echo "pytorch: not installed: make bench-venv (BENCH_PYTHON=$BENCH_PYTHON) - no comparison"
fi
grep "neighbour query" /tmp/csn-bench.txt | tail -1

echo
echo "== the convolutions phase by phase: one core's share (96 images) of each stage (csn bench --kernels) =="
$csn bench --kernels

echo
echo "== the terminal UI: frame drawing, training with the UI open, what its user waits for =="
$csn bench --steps 3 --ui --ui-rounds "${UI_ROUNDS:-6}" | grep -E "^frame|^training with the UI|^training while|^UI latencies"

echo
echo "== t-SNE: csn against openTSNE (FFT, Barnes-Hut) and scikit-learn on identical input =="
if bench_has "sklearn, openTSNE"; then
  # As for the sgemm ceiling: scikit-learn and openTSNE run on numpy's current OpenBLAS, free of
  # a machine-wide OPENBLAS_CORETYPE; csn, which the tool starts, gets the machine's setting back.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    CSN_OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE-}" CSN_OPENBLAS_L2_SIZE="${OPENBLAS_L2_SIZE-}" \
    "$BENCH_PYTHON" Tools/tsne_reference.py --sizes ${TSNE_SIZES:-10000 70000 1000000} --csn $csn
else
  echo "scikit-learn or openTSNE not installed: make bench-venv (BENCH_PYTHON=$BENCH_PYTHON) - no comparison"
fi

echo
echo "== csn watch and csn explore --embeddings: latencies on screen (tmux) =="
if python3 -c "import numpy" 2>/dev/null && command -v tmux >/dev/null; then
  python3 Tools/watch_explore_latency.py $csn --vectors ${EXPLORE_SIZES:-10000 100000}
else
  echo "numpy or tmux not installed (pip install numpy; apt-get install tmux) - skipped"
fi
