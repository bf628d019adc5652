#!/usr/bin/env bash
# make bench: speed and memory, measured side by side in one run (medians of alternating rounds).
# - loading the embedded dataset (release build);
# - the UI: drawing a 200x60 frame of each view, and training throughput with the UI open;
# - a neighbour query over the whole test split, and t-SNE against scikit-learn and openTSNE
#   (Tools/tsne_reference.py; skipped with a note when they are not installed);
# - csn watch (write to screen) and csn explore --embeddings (10k and 100k vectors to the first map);
# - training steps of the default model (csn-learned, batch 64, 2 threads) on the embedded data,
#   csn against the same network, loss and batch in PyTorch on the CPU with 2 threads
#   (Tools/pytorch_reference.py; skipped with a note when torch is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
csn=.build/release/csn
rounds=${ROUNDS:-3}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== loading the embedded dataset ($(du -h Assets/fonts32.safetensors.gz | cut -f1)) =="
for i in $(seq 5); do $csn bench --steps 1 2>/dev/null | awk '/dataset load/ {print $3}'; done | median | xargs printf "median load time: %s s over 5 runs\n"

have_torch=1
python3 -c "import torch" 2>/dev/null || have_torch=0
echo
echo "== training: csn-learned, batch 64, 2 threads, $rounds alternating rounds of 30 timed steps =="
: > /tmp/csn-bench.txt; : > /tmp/torch-bench.txt
for r in $(seq "$rounds"); do
  $csn bench --steps 30 --threads 2 | tee -a /tmp/csn-bench.txt | sed "s/^/csn     round $r: /" | grep -E "triplets/s|GFLOP|memory"
  if [ $have_torch = 1 ]; then
    python3 Tools/pytorch_reference.py speed --steps 30 --threads 2 | tee -a /tmp/torch-bench.txt | sed "s/^/pytorch round $r: /" | grep -E "triplets/s|memory"
  fi
done
csn_tps=$(awk '/training triplets/ {print $3}' /tmp/csn-bench.txt | median)
csn_gflops=$(awk '/GFLOP/ {print $2}' /tmp/csn-bench.txt | median)
csn_mem=$(awk '/peak resident/ {print $4}' /tmp/csn-bench.txt | median)
echo
echo "csn:     $csn_tps triplets/s, $csn_gflops GFLOP/s, peak $csn_mem MiB (medians)"
if [ $have_torch = 1 ]; then
  torch_tps=$(awk '/training triplets/ {print $3}' /tmp/torch-bench.txt | median)
  torch_mem=$(awk '/peak resident/ {print $4}' /tmp/torch-bench.txt | median)
  echo "pytorch: $torch_tps triplets/s, peak $torch_mem MiB (medians; $(python3 -c 'import torch; print(torch.__version__)'))"
  awk -v a="$csn_tps" -v b="$torch_tps" -v m="$csn_mem" -v n="$torch_mem" \
    'BEGIN {printf "csn / pytorch: %.2fx triplets/s, %.2fx peak memory\n", a / b, m / n}'
else
  echo "pytorch: not installed (pip install torch numpy) - no comparison"
fi
grep "neighbour query" /tmp/csn-bench.txt | tail -1

echo
echo "== the terminal UI: frame drawing, and training with the UI open =="
$csn bench --steps 3 --ui | grep -E "^frame|^training with the UI"

echo
echo "== t-SNE: csn against scikit-learn and openTSNE on identical input =="
if python3 -c "import sklearn, openTSNE" 2>/dev/null; then
  python3 Tools/tsne_reference.py --sizes ${TSNE_SIZES:-1000 5000 10000} --csn $csn
else
  echo "scikit-learn or openTSNE not installed (pip install scikit-learn openTSNE) - no comparison"
fi

echo
echo "== csn watch and csn explore --embeddings: latencies on screen (tmux) =="
if python3 -c "import numpy" 2>/dev/null && command -v tmux >/dev/null; then
  python3 Tools/watch_explore_latency.py $csn --vectors ${EXPLORE_SIZES:-10000 100000}
else
  echo "numpy or tmux not installed (pip install numpy; apt-get install tmux) - skipped"
fi
