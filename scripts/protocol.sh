#!/usr/bin/env bash
# The full published protocol of issue 15, resumable: CSTR and energy; RNN, LSTM, LRNN, ICRNN,
# ICLSTM, ICLRNN and GRU; training noise sigma in {0, 0.3, 0.6, 0.9}; 2 x 64 units, batch 256,
# Adam lr 1e-3; the published 1000 epochs ("full") and, as a second column, early stopping on the
# validation loss with patience 50 (best weights restored; at most 1000 epochs) ("es"); 3 seeds
# (0, 1, 2) for the ICLRNN and RNN rows, seed 0 for the others; every cell records the test MSE,
# the persistence baseline and skill, the reference's empirical Lipschitz estimate on the
# *training* inputs (uniform [eps/4, eps] perturbation of every entry, eps = 1e-4, max ratio) and
# the certified upper bound.
#
# Usage: scripts/protocol.sh [cstr|energy|all] [full|es|all]     (default: all all)
#   Environment: ICLRNN_PROTOCOL_QUEUE=redis://HOST:PORT  run the cells on `iclrnn worker`s instead
#                ICLRNN_PROTOCOL_EPOCHS=N                 another epoch budget (default 1000; for a dry run)
#                ICLRNN_PROTOCOL_OUT=DIR                  where results go (default results/)
#                ICLRNN_PROTOCOL_ARGS="..."               extra `iclrnn sweep` flags, appended (they win), e.g.
#                  "--noise 0 --hidden 3 --layers 1 --no-save-models" with EPOCHS=1 for a quick dry run
#   Runs the TypeScript sources (ICLRNN_FROM_SOURCE=1), so it needs no `npm run build`.
#
# Results: results/protocol-<system>-<full|es>.json (+ .models/ and -report.html beside them).
# Resumable: every finished cell is saved at once (atomically, under a lock); stop with Ctrl-C at
# any time and rerun the same command: finished cells are skipped (a cell that was running starts
# again from epoch 0). The two invocations per results file (3 seeds for iclrnn,rnn; 1 seed for
# the rest) share one configuration, so they share the file. Cells run in plan order: model,
# then noise, then seed. Afterwards: `node scripts/sweep-table.mjs results/protocol-cstr-full.json`.
set -euo pipefail
cd "$(dirname "$0")/.."

systems="${1:-all}"
columns="${2:-all}"
epochs="${ICLRNN_PROTOCOL_EPOCHS:-1000}"
outdir="${ICLRNN_PROTOCOL_OUT:-results}"
patience=50
energy_data="../shared/data/energy/test_collected_data.mat"
case "$systems" in all) systems="cstr energy" ;; cstr | energy) ;; *) echo "unknown system '$systems' (cstr, energy or all)" >&2; exit 2 ;; esac
case "$columns" in all) columns="full es" ;; full | es) ;; *) echo "unknown column '$columns' (full, es or all)" >&2; exit 2 ;; esac

read -r -a extra <<< "${ICLRNN_PROTOCOL_ARGS:-}"
iclrnn() { ICLRNN_FROM_SOURCE=1 node bin/iclrnn.mjs "$@"; }

for system in $systems; do
  data=()
  if [ "$system" = energy ]; then data=(--data "$energy_data"); fi
  for column in $columns; do
    out="$outdir/protocol-$system-$column.json"
    report="$outdir/protocol-$system-$column-report.html"
    common=(--system "$system" "${data[@]}" --noise 0,0.3,0.6,0.9 --epochs "$epochs" --hidden 64 --layers 2 --batch 256 --lr 0.001
      --lipschitz-inputs train --lipschitz-samples 0 --out "$out")
    if [ "$column" = es ]; then common+=(--patience "$patience"); fi
    if [ -n "${ICLRNN_PROTOCOL_QUEUE:-}" ]; then common+=(--queue "$ICLRNN_PROTOCOL_QUEUE"); fi
    echo "== $system, $column: $out" >&2
    iclrnn sweep "${common[@]}" --models iclrnn,rnn --seeds 3 --seed 0 "${extra[@]}"
    iclrnn sweep "${common[@]}" --models icrnn,lrnn,lstm,iclstm,gru --seeds 1 --seed 0 --report "$report" "${extra[@]}"
  done
done
