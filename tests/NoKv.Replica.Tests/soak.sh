#!/usr/bin/env bash
# Soak of the deterministic replica simulation: many seeds of each scenario, in chunks, every failing seed reported.
#   tests/NoKv.Replica.Tests/soak.sh [SEEDS=1000] [FIRST_SEED=1] [SCENARIO_FILTER]
# SCENARIO_FILTER is a substring of the test names (default: every multi-seed simulation scenario).
# Prints one line per chunk (scenario, seeds, seconds, failing seeds) and a total per scenario. A failing seed is
# then run alone with NOKV_REPLICA_SIM_SEED=N (NOKV_REPLICA_SIM_TRACE=1 prints the controller scenarios' steps).
set -euo pipefail
cd "$(dirname "$0")/../.."

seeds=${1:-1000}
first=${2:-1}
only=${3:-}
chunk=${NOKV_SOAK_CHUNK:-100}
scenarios=(
  Replicas_under_drops_partitions_and_crashes_lose_nothing_and_agree
  The_controller_group_hands_out_timestamps_in_order
  Shards_split_under_faults_without_losing_or_duplicating_a_key
  Shards_merge_under_faults_without_losing_or_duplicating_a_key
  Replicas_move_under_faults_and_controller_crashes
  Shards_merge_through_the_controllers_merge_runner
  Shards_split_through_the_controllers_split_operation
  Snapshots_served_from_the_leaders_read_floor_never_change
  Plain_writes_complete_while_the_oracle_is_down
  Idle_groups_hibernate_and_elect
)

dotnet build tests/NoKv.Replica.Tests -c Release -warnaserror -nologo -v q >/dev/null
log_dir=$(mktemp -d)
echo "replica simulation soak: $seeds seeds from $first, chunks of $chunk; logs in $log_dir; $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
total_failed=0
for scenario in "${scenarios[@]}"; do
  if [[ -n "$only" && "$scenario" != *"$only"* ]]; then
    continue
  fi

  failed_seeds=()
  started=$(date +%s)
  for ((start = first; start < first + seeds; start += chunk)); do
    count=$(( first + seeds - start < chunk ? first + seeds - start : chunk ))
    log="$log_dir/$scenario-$start.txt"
    chunk_started=$(date +%s)
    if NOKV_REPLICA_SIM_SEEDS=$count NOKV_REPLICA_SIM_FIRST_SEED=$start \
        dotnet test tests/NoKv.Replica.Tests -c Release --no-build --filter "FullyQualifiedName~$scenario" \
        --logger "console;verbosity=normal" >"$log" 2>&1; then
      chunk_failed=""
    else
      # The test names every failing seed in one line ("N seed(s) failed: a, b, c"); anything else is a broken run.
      chunk_failed=$(grep -oE '[0-9]+ seed\(s\) failed: [0-9, ]+' "$log" | head -1 | sed 's/.*failed: //' || true)
      if [[ -z "$chunk_failed" ]]; then
        chunk_failed="run broken (see $log)"
      fi
      failed_seeds+=("$chunk_failed")
    fi

    printf '%-70s seeds %5d-%-5d %4ds  failed: %s\n' "$scenario" "$start" $((start + count - 1)) $(( $(date +%s) - chunk_started )) "${chunk_failed:-none}"
  done

  printf '%-70s TOTAL %d seeds in %ds, failing: %s\n' "$scenario" "$seeds" $(( $(date +%s) - started )) "${failed_seeds[*]:-none}"
  total_failed=$(( total_failed + ${#failed_seeds[@]} ))
done

echo "end $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $total_failed -eq 0 ]]
