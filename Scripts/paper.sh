#!/usr/bin/env bash
# make paper: the runs behind the README's "Quality: the paper's claims, tested with seeds" (about 2.5 hours
# on two cores; never part of make test). Every table is written to runs/paper/*.log with its CSV;
# a finished step is skipped when run again (delete its .log to redo it).
set -euo pipefail
cd "$(dirname "$0")/.."
csn=.build/release/csn
out=runs/paper
mkdir -p "$out"
budget=50000
seeds=1,2,3

step() {  # step NAME ARGS...: one csn compare, skipped when its log says it finished
  local name=$1; shift
  if [ -f "$out/$name.log" ] && grep -q "^every run:" "$out/$name.log"; then
    echo "$name: done already ($out/$name.log)"; return
  fi
  echo "$name: csn compare $*"
  $csn compare --budget $budget --seeds $seeds --csv "$out/$name.csv" --out "$out/$name" "$@" > "$out/$name.log" 2>&1
  tail -n 16 "$out/$name.log"
}

# Claim 1: the four models.
step models
# Why learned masks trail: the start, the mask learning rate, the L1 weight.
step mask-init --models csn-learned --mask-init disjoint,uniform
step mask-lr --models csn-learned --mask-lr-scale 10
step mask-l1 --models csn-learned --mask-weight 0,5e-3
# What about the paper's start makes learned masks trail: its scale, its dead dimensions, or the margin.
train_step() {  # train_step NAME ARGS...: csn-learned for seeds 1-3 with ARGS, each skipped once it finished
  local name=$1; shift
  for s in ${seeds//,/ }; do
    local run="$out/mask-start/$name/seed$s"
    if [ -f "$run.log" ] && grep -q "^test triplet accuracy" "$run.log"; then continue; fi
    rm -rf "$run"; mkdir -p "$(dirname "$run")"
    $csn train --headless --model csn-learned --steps $((budget / 64)) --validate-every 78 --checkpoint-every $((budget / 64)) \
      --seed $s --out "$run" "$@" > "$run.log" 2>&1
  done
  echo "$name:"; grep -h -A3 "^test triplet accuracy" "$out/mask-start/$name"/seed*.log | grep "^csn-learned"
}
train_step half-scale --mask-mean 0.45 --mask-std 0.35
train_step no-dead --mask-std 0.35
train_step margin0.4 --margin 0.4
step batch32 --models csn-fixed,csn-learned --batch 32
step batch256 --models csn-fixed,csn-learned --batch 256
# Claim 2: pools drawn once per seed (the same for every model, whatever else the run holds), each
# model seeing 128,000 triplets. Two halves at once with one thread each: more triplets a second in
# all than one run with two threads.
budget=128000 step pools-a --threads 1 --models csn-fixed,csn-learned --mask-init normal,uniform --train-triplets 5000,80000 &
a=$!
budget=128000 step pools-b --threads 1 --models csn-fixed,csn-learned --mask-init normal,uniform --train-triplets 20000,320000 &
b=$!
wait $a
wait $b
# Claim 3: the embedding size.
step dims --models csn-fixed,csn-learned --dims 16,32,128
# Claim 4: each model's conv3 features and embedding; balanced accuracy of fixed-pitch and family
# (font attributes no condition trains on), and of weight and slant (conditions).
for s in ${seeds//,/ }; do
  for features in conv3 embedding; do
    log="$out/probe-$features-seed$s.log"
    [ -s "$log" ] && { echo "probe $features seed $s: done already ($log)"; continue; }
    $csn probe "$out/models/seed$s/standard" "$out/models/seed$s/task-specific" "$out/models/seed$s/csn-fixed" \
      "$out/models/seed$s/csn-learned" --features $features --balanced --random-init --seed $s > "$log.tmp"
    mv "$log.tmp" "$log"
    cat "$log"
  done
done
# The icons, with exact duplicates removed (make icons installs the themes and writes runs/icons.csv).
if [ -f runs/icons.csv ]; then
  [ -f runs/icons-dedup.safetensors.gz ] || $csn data import --images /usr/share/icons --attributes runs/icons.csv \
    --conditions icon,theme --split-column icon --color --dedup --out runs/icons-dedup.safetensors.gz
  budget=64000 step icons-dedup --data runs/icons-dedup.safetensors.gz
else
  echo "icons: run make icons first (it installs the icon themes and writes runs/icons.csv)"
fi
