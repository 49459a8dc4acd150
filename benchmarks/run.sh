#!/usr/bin/env bash
# Measures every figure of BENCHMARKS.md and writes them there (between the results markers).
#
#   benchmarks/run.sh            full run: JDK 17 and 25, G1 and Parallel GC (about 30 minutes
#                                without the issue-14 sections; frequent ~9, service ~7, cancelcost ~3,
#                                longrun LONGRUN_MINUTES + LONGRUN_BASE_MINUTES per JDK and programs
#                                ~7-14 add about 40; programs needs GNU time, Debian package "time")
#   benchmarks/run.sh --smoke    every benchmark very briefly, asserts nothing about times (CI);
#                                fails if a harness crashes
#   SECTIONS="idle latency" benchmarks/run.sh   re-measure some sections (idle warmup latency
#                                startup frequent service cancelcost longrun programs); the others keep their
#                                last results
#
# Environment: JDK17, JDK25 (JDK homes), AGENT (agent jar; default agent/target/usethread-agent.jar,
# used when present), OUT (results file; default benchmarks/target/results.md). Run lengths of the
# new sections: FREQ_PHASE_MS, FREQ_PAIRS, FREQ_RATES, SERVICE_PHASE_MS, SERVICE_PAIRS, SERVICE_RUNS, SERVICE_WARMUP_MS, SERVICE_SETTLE_MS, SERVICE_RARE_EVERY,
# SERVICE_TIMEOUT_MS, CANCEL_TRIALS, CANCEL_CALM_MS, LONGRUN_MINUTES (default 10), LONGRUN_BASE_MINUTES
# (the run without deadlines; default 2), LONGRUN_JDKS (default 17), PROGRAM_PAIRS (default 5),
# RETRY_TRIALS (default 7), START_RUNS (default 9). BASELINE_AGENT: an earlier agent jar that the idle
# and start-up sections measure in the same run (two more columns), to tell a regression of the agent
# from a slower machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SMOKE=false
[[ "${1:-}" == "--smoke" ]] && SMOKE=true

JDK17=${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}
JDK25=${JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
AGENT=${AGENT:-$ROOT/agent/target/usethread-agent.jar}
OUT=${OUT:-$ROOT/benchmarks/target/results.md}
HOST_JAVA="$JDK17/bin/java"

if [[ ! -f benchmarks/target/benchmarks.jar || "${SKIP_BUILD:-}" != "1" ]]; then
  mvn -B -q -o package -pl runtime,agent,benchmarks -am -DskipTests 2>/dev/null \
    || mvn -B -q package -pl runtime,agent,benchmarks -am -DskipTests
fi
JAR=$ROOT/benchmarks/target/benchmarks.jar
[[ -f "$AGENT" ]] || AGENT=""

if $SMOKE; then
  JDKS="17 25"; GCS="G1"; FORKS=1
  LAT_TRIALS=3; WARM_RUNS=1; WARM_ROUNDS=200; START_RUNS=1
  FREQ_PHASE_MS=100; FREQ_PAIRS=1; FREQ_RATES=1000
  SERVICE_PHASE_MS=200; SERVICE_PAIRS=1; SERVICE_RUNS=1; SERVICE_WARMUP_MS=400; SERVICE_SETTLE_MS=400; SERVICE_EVERY=2 # every other request pathological: exercised
  CANCEL_TRIALS=5; CANCEL_CALM_MS=20; LONGRUN_SECONDS=4; LONGRUN_BASE_SECONDS=4; LONGRUN_JDKS="17 25"
else
  JDKS="17 25"; GCS="G1 Parallel"; FORKS=2
  LAT_TRIALS=100; WARM_RUNS=5; WARM_ROUNDS=25000; START_RUNS=${START_RUNS:-9}
  FREQ_PHASE_MS=${FREQ_PHASE_MS:-1000}; FREQ_PAIRS=${FREQ_PAIRS:-2}; FREQ_RATES=${FREQ_RATES:-1,10,100,1000}
  SERVICE_PHASE_MS=${SERVICE_PHASE_MS:-2000}; SERVICE_PAIRS=${SERVICE_PAIRS:-3}; SERVICE_RUNS=${SERVICE_RUNS:-3}; SERVICE_WARMUP_MS=${SERVICE_WARMUP_MS:-10000}; SERVICE_SETTLE_MS=${SERVICE_SETTLE_MS:-10000}
  CANCEL_TRIALS=${CANCEL_TRIALS:-200}; CANCEL_CALM_MS=${CANCEL_CALM_MS:-250}
  LONGRUN_SECONDS=$(( ${LONGRUN_MINUTES:-10} * 60 )); LONGRUN_BASE_SECONDS=$(( ${LONGRUN_BASE_MINUTES:-2} * 60 ))
  LONGRUN_JDKS=${LONGRUN_JDKS:-17}
fi
SERVICE_TIMEOUT_MS=${SERVICE_TIMEOUT_MS:-50}; SERVICE_EVERY=${SERVICE_EVERY:-100}
# (a'): a deadline now and then (1 request in 100,000: one every few seconds), or in the smoke run
# often enough to be exercised.
SERVICE_RARE_EVERY=${SERVICE_RARE_EVERY:-100000}; $SMOKE && SERVICE_RARE_EVERY=20
# The agent as the new sections run it: default weaving (benchmark code and every library) plus the
# JDK's regex engine, so that a catastrophic regex can be stopped.
AGENT_OPTS="jdk=java.util.regex"
# The smoke run only checks that the harnesses run: let the poll site go idle at once after a cancel.
QUICK_IDLE=""; $SMOKE && QUICK_IDLE="-Dusethread.poll.quietMillis=5 -Dusethread.poll.maxQuietMillis=5"

jdk_home() { if [[ "$1" == 17 ]]; then echo "$JDK17"; else echo "$JDK25"; fi; }

SECTIONS=${SECTIONS:-idle warmup latency startup frequent service cancelcost longrun programs}
RESULTS=$ROOT/benchmarks/target/results
$SMOKE && RESULTS=$ROOT/benchmarks/target/smoke-results
mkdir -p "$RESULTS" "$(dirname "$OUT")"
SECTION_OUT=$RESULTS/header.md
: > "$SECTION_OUT"
say() { echo "$@" | tee -a "$SECTION_OUT"; }
# Starts the results file of one section; returns false when the section is not to be run.
section() {
  [[ " $SECTIONS " == *" $1 "* ]] || return 1
  SECTION_OUT=$RESULTS/$2.md
  : > "$SECTION_OUT"
  say "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
  say ""
}
log() { echo "[run.sh $(date -u +%H:%M:%S)] $*" >&2; }

# Median of the numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print int((a[NR/2]+a[NR/2+1])/2)}'; }
# Wall-clock milliseconds of one command.
wall_ms() { local s e; s=$(date +%s%N); "$@" > /dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }

say "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk '/model name/ {sub(/.*: /, ""); print; exit}' /proc/cpuinfo),"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); agent jar: ${AGENT:-none (hand-woven kernels only)}; smoke: $SMOKE"
for v in $JDKS; do say "JDK $v: $("$(jdk_home "$v")/bin/java" -version 2>&1 | head -2 | tail -1)"; done
say ""

# 1. Idle overhead (JMH).
if section idle 1-idle; then
say "### Idle overhead (JMH, ns/op; ratios of the best iterations)"
for v in $JDKS; do
  for gc in G1; do
    log "idle JDK $v $gc"
    args=(--jvm "$(jdk_home "$v")/bin/java" --label "JDK $v $gc" --forks "$FORKS")
    $SMOKE && args+=(--smoke)
    [[ -n "$AGENT" ]] && args+=(--agent "$AGENT")
    [[ -n "$AGENT" && -n "${BASELINE_AGENT:-}" ]] && args+=(--baseline-agent "$BASELINE_AGENT")
    "$HOST_JAVA" -cp "$JAR" dev.usethread.bench.IdleSuite "${args[@]}" -- "-XX:+Use${gc}GC" \
      > "$ROOT/benchmarks/target/idle-$v-$gc.log" 2>&1
    sed -n '/^| JDK/,$p' "$ROOT/benchmarks/target/idle-$v-$gc.log" | tee -a "$SECTION_OUT"
    say ""
  done
done
fi

# 2. Warm-up: a ~1 s workload from JVM start, whole-JVM wall time, median of WARM_RUNS alternating runs.
if section warmup 2-warmup; then
say "### Warm-up (whole JVM, ms, median of $WARM_RUNS)"
say "| JDK | GC | plain | hand-woven | overhead |$([[ -n "$AGENT" ]] && echo " agent-woven | overhead |")"
say "|---|---|---|---|---|$([[ -n "$AGENT" ]] && echo "---|---|")"
for v in $JDKS; do
  for gc in $GCS; do
    log "warm-up JDK $v $gc"
    java="$(jdk_home "$v")/bin/java"
    p=(); h=(); a=()
    for ((i = 0; i < WARM_RUNS; i++)); do
      p+=("$(wall_ms "$java" "-XX:+Use${gc}GC" -cp "$JAR" dev.usethread.bench.Warmup plain "$WARM_ROUNDS")")
      h+=("$(wall_ms "$java" "-XX:+Use${gc}GC" -cp "$JAR" dev.usethread.bench.Warmup handWoven "$WARM_ROUNDS")")
      [[ -n "$AGENT" ]] && a+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$AGENT" -cp "$JAR" dev.usethread.bench.Warmup plain "$WARM_ROUNDS")")
    done
    pm=$(printf '%s\n' "${p[@]}" | median); hm=$(printf '%s\n' "${h[@]}" | median)
    row="| $v | $gc | $pm | $hm | $(awk -v a="$hm" -v b="$pm" 'BEGIN {printf "%+.1f %%", (a / b - 1) * 100}') |"
    if [[ -n "$AGENT" ]]; then
      am=$(printf '%s\n' "${a[@]}" | median)
      row+=" $am | $(awk -v a="$am" -v b="$pm" 'BEGIN {printf "%+.1f %%", (a / b - 1) * 100}') |"
    fi
    say "$row"
  done
done
say ""
fi

# 3. Cancel latency.
if section latency 3-latency; then
say "### Cancel latency (µs from cancel() to the signal caught at the top of the job)"
say "| JDK, GC, options | poll site | thread | blocked in | n | p50 | p99 | max |"
say "|---|---|---|---|---|---|---|---|"
QUIET="-Dusethread.poll.quietMillis=5 -Dusethread.poll.maxQuietMillis=5"
for v in $JDKS; do
  for gc in $GCS; do
    variants=("default")
    [[ "$gc" == Parallel ]] && ! $SMOKE && variants+=("-XX:+UseCountedLoopSafepoints -XX:LoopStripMiningIter=1000" "-Dusethread.poll=flag")
    for opts in "${variants[@]}"; do
      log "latency JDK $v $gc $opts"
      extra=(); [[ "$opts" != default ]] && read -r -a extra <<< "$opts"
      # shellcheck disable=SC2086
      "$(jdk_home "$v")/bin/java" "-XX:+Use${gc}GC" $QUIET "${extra[@]}" -cp "$JAR" \
        dev.usethread.bench.CancelLatency "$LAT_TRIALS" 10000000 "$v $gc $opts" | tee -a "$SECTION_OUT"
    done
  done
done
say ""
fi

# 4. Agent start-up: an application that loads ~3,000 classes, with and without -javaagent; and,
# to tell what any agent costs from what usethread adds, with an agent that does nothing and with
# one whose transformer returns every class unchanged (BaselineAgent, in the benchmarks jar); and
# with the woven-class cache (cache=), filled by one run before the timed ones.
if section startup 4-startup; then
say "### Agent start-up (whole JVM, ms, median of $START_RUNS, app loads 3,000 classes)"
if [[ -z "$AGENT" ]]; then
  say "Not measured: no agent jar (build the agent module first)."
  for v in $JDKS; do "$(jdk_home "$v")/bin/java" -cp "$JAR" dev.usethread.bench.StartupApp > /dev/null; done
else
  BASE_AGENT=${BASELINE_AGENT:-}
  base_head=""; base_rule=""
  [[ -n "$BASE_AGENT" ]] && { base_head=" earlier agent (\`BASELINE_AGENT\`) | added by it |"; base_rule="---|---|"; }
  say "| JDK | GC | without agent | empty agent | no-op transformer | usethread agent | added by usethread agent | of which any agent with a transformer | usethread agent, warm \`cache=\` | added with the cache |$base_head"
  say "|---|---|---|---|---|---|---|---|---|---|$base_rule"
  for v in $JDKS; do
    for gc in $GCS; do
      log "start-up JDK $v $gc"
      java="$(jdk_home "$v")/bin/java"; w=(); e=(); t=(); g=(); c=(); b=()
      cache=$ROOT/benchmarks/target/startup-cache; rm -rf "$cache"
      "$java" "-XX:+Use${gc}GC" "-javaagent:$AGENT=cache=$cache" -cp "$JAR" dev.usethread.bench.StartupApp > /dev/null
      for ((i = 0; i < START_RUNS; i++)); do
        w+=("$(wall_ms "$java" "-XX:+Use${gc}GC" -cp "$JAR" dev.usethread.bench.StartupApp)")
        e+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$JAR" -cp "$JAR" dev.usethread.bench.StartupApp)")
        t+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$JAR=transformer" -cp "$JAR" dev.usethread.bench.StartupApp)")
        g+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$AGENT" -cp "$JAR" dev.usethread.bench.StartupApp)")
        c+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$AGENT=cache=$cache" -cp "$JAR" dev.usethread.bench.StartupApp)")
        [[ -n "$BASE_AGENT" ]] && b+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$BASE_AGENT" -cp "$JAR" dev.usethread.bench.StartupApp)")
      done
      wm=$(printf '%s\n' "${w[@]}" | median); em=$(printf '%s\n' "${e[@]}" | median)
      tm=$(printf '%s\n' "${t[@]}" | median); gm=$(printf '%s\n' "${g[@]}" | median)
      cm=$(printf '%s\n' "${c[@]}" | median)
      base_cells=""
      [[ -n "$BASE_AGENT" ]] && { bm=$(printf '%s\n' "${b[@]}" | median); base_cells=" $bm | $((bm - wm)) ms |"; }
      say "| $v | $gc | $wm | $em | $tm | $gm | $((gm - wm)) ms | $((tm - wm)) ms | $cm | $((cm - wm)) ms |$base_cells"
    done
  done
fi
say ""
fi

# 5. Frequent cancellation (issue 14): a bystander runs one agent-woven workload while another
# thread's withTimeout deadlines fire 1-1,000 times a second (CancelRates); ratio = phase with
# deadlines / phase without (same threads and CPU load), alternating, best of FREQ_PAIRS.
if section frequent 5-frequent; then
say "### Frequent cancellation (bystander ops/s while another thread's deadlines fire; agent-woven; best of $FREQ_PAIRS alternating phase pairs of ≥ $FREQ_PHASE_MS ms)"
if [[ -z "$AGENT" ]]; then
  say "Not measured: no agent jar (build the agent module first)."
else
  say "| JDK, GC | bystander | cancels/s asked | cancels/s seen | ops/s without | ops/s with cancels | ratio | site changes |"
  say "|---|---|---|---|---|---|---|---|"
  workloads="intSum longLoop vectorAdd nestedMatMul recursiveFib virtualCalls listWalk jacksonParse rhinoScript regex guavaMultiset commonsMathFft"
  # The smoke run takes them all in one JVM per JDK; the full run one JVM per workload.
  $SMOKE && workloads=$(echo $workloads | tr ' ' ',')
  for v in $JDKS; do
    for w in $workloads; do
      log "frequent JDK $v $w"
      # shellcheck disable=SC2086
      "$(jdk_home "$v")/bin/java" -XX:+UseG1GC -Dusethread.poll.quietMillis=1000 -Dusethread.poll.maxQuietMillis=1000 $QUICK_IDLE "-javaagent:$AGENT=$AGENT_OPTS" \
        -cp "$JAR" dev.usethread.bench.CancelRates "$w" "$FREQ_PHASE_MS" "$FREQ_PAIRS" "$v G1" "$FREQ_RATES" \
        2> "$RESULTS/frequent-$v.err" | tee -a "$SECTION_OUT"
    done
  done
  say ""
  say "| JDK | cancels/s | geometric mean of ratios | worst | workloads |"
  say "|---|---|---|---|---|"
  # Per JDK and rate over all workloads (ratio column 8; "n/a" rows of a crashed run are skipped).
  say "$(awk -F'|' '$2 ~ /G1/ && $8 ~ /[0-9]/ {split($2, j, " "); k = j[1] " " ($4 + 0); n[k]++; l[k] += log($8 + 0 < 0.001 ? 0.001 : $8 + 0)
      if (!(k in w) || $8 + 0 < w[k]) w[k] = $8 + 0}
    END {for (k in n) {split(k, p, " "); printf "| %s | %s | %.3f | %.3f | %d |\n", p[1], p[2], exp(l[k] / n[k]), w[k], n[k]}}' \
    "$SECTION_OUT" | sort -t'|' -k2,2n -k3,3n)"
fi
say ""
fi

# 6. A deadline service (issue 14): two workers serve library requests under withTimeout, each JVM
# in its steady state (DeadlineService): (a) with the agent, 1 % pathological and stopped by their
# deadline; (a') the same with deadlines now and then (1 request in SERVICE_RARE_EVERY); (b) with the
# agent, none pathological; (c) without the agent, none pathological; (d) without the agent, the
# pathological requests' code bounded so that each ends by itself (what serving them costs the
# good ones without any cancellation).
if section service 6-service; then
say "### Deadline service (good requests/s per worker-second outside pathological requests; 2 workers, ${SERVICE_TIMEOUT_MS} ms deadlines, median of $SERVICE_PAIRS phases of $SERVICE_PHASE_MS ms per JVM after ${SERVICE_WARMUP_MS} ms of warm-up and, in (a) and (d), ${SERVICE_SETTLE_MS} ms of settling; (a'): one phase of $((5 * SERVICE_PHASE_MS)) ms after $((2 * SERVICE_SETTLE_MS)) ms of settling; $SERVICE_RUNS JVMs of each kind)"
if [[ -z "$AGENT" ]]; then
  say "Not measured: no agent jar (build the agent module first)."
else
  say "| JDK, run | JVM | (a), (a'), (d) good/s | wall-clock | (b), (c) none pathological | | deadlines/s | pathological stopped | good requests timed out |"
  say "|---|---|---|---|---|---|---|---|---|"
  for v in $JDKS; do
    java="$(jdk_home "$v")/bin/java"; rows=$RESULTS/service-$v.rows; : > "$rows"; : > "$RESULTS/service-$v.err"
    for ((i = 0; i < SERVICE_RUNS; i++)); do
      log "service JDK $v run $((i + 1))"
      # shellcheck disable=SC2086
      "$java" -XX:+UseG1GC $QUICK_IDLE "-javaagent:$AGENT=$AGENT_OPTS" -cp "$JAR" \
        dev.usethread.bench.DeadlineService a "$SERVICE_PHASE_MS" "$SERVICE_PAIRS" "$v (a)" "$SERVICE_TIMEOUT_MS" "$SERVICE_EVERY" "$SERVICE_WARMUP_MS" "$SERVICE_SETTLE_MS" \
        2>> "$RESULTS/service-$v.err" | tee -a "$rows"
      # shellcheck disable=SC2086
      "$java" -XX:+UseG1GC $QUICK_IDLE "-javaagent:$AGENT=$AGENT_OPTS" -cp "$JAR" \
        dev.usethread.bench.DeadlineService a "$((5 * SERVICE_PHASE_MS))" 1 "$v (a')" "$SERVICE_TIMEOUT_MS" "$SERVICE_RARE_EVERY" "$SERVICE_WARMUP_MS" "$((2 * SERVICE_SETTLE_MS))" \
        2>> "$RESULTS/service-$v.err" | tee -a "$rows"
      "$java" -XX:+UseG1GC -Dbench.pathological=bounded -cp "$JAR" \
        dev.usethread.bench.DeadlineService a "$SERVICE_PHASE_MS" "$SERVICE_PAIRS" "$v (d)" 10000 "$SERVICE_EVERY" "$SERVICE_WARMUP_MS" "$SERVICE_SETTLE_MS" \
        2>> "$RESULTS/service-$v.err" | tee -a "$rows"
      "$java" -XX:+UseG1GC "-javaagent:$AGENT=$AGENT_OPTS" -cp "$JAR" \
        dev.usethread.bench.DeadlineService b "$SERVICE_PHASE_MS" "$SERVICE_PAIRS" "$v" "$SERVICE_TIMEOUT_MS" 100 "$SERVICE_WARMUP_MS" \
        2>> "$RESULTS/service-$v.err" | tee -a "$rows"
      "$java" -XX:+UseG1GC -cp "$JAR" dev.usethread.bench.DeadlineService b "$SERVICE_PHASE_MS" "$SERVICE_PAIRS" "$v" "$SERVICE_TIMEOUT_MS" 100 "$SERVICE_WARMUP_MS" \
        2>> "$RESULTS/service-$v.err" | tee -a "$rows"
    done
    tee -a "$SECTION_OUT" < "$rows" > /dev/null
    # The median of column $3 over the rows whose label (column 2) contains $1 and JVM column $2.
    med() { awk -F'|' -v l="$1" -v k="$2" -v c="$3" 'index($2, l) && $3 ~ k {print $c + 0}' "$rows" | sort -g | awk '{x[NR] = $1} END {print x[int((NR + 1) / 2)]}'; }
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "n/a"}'; }
    a=$(med "(a)" '^ agent *$' 4); r=$(med "(a')" '^ agent *$' 4); d=$(med "(d)" 'no agent *$' 4)
    b=$(med "$v" '^ agent, no' 6); c=$(med "$v" 'no agent, no' 6)
    say "| $v | **medians** (a) $a, (a') $r, (d) $d; (b) $b, (c) $c | | | | **a/b $(ratio "$a" "$b")**, **a/c $(ratio "$a" "$c")** | **a'/c $(ratio "$r" "$c")** | **d/c $(ratio "$d" "$c")** | **a/d $(ratio "$a" "$d")** |"
  done
fi
say ""
fi

# 7. What a cancel costs its caller (CancelCost): cancel() blocking time and cancel-to-CANCELLED,
# first cancel after a calm period and with the site already armed, on a code cache kept compiled.
if section cancelcost 7-cancelcost; then
say "### Cost of cancel() to its caller (µs; $CANCEL_TRIALS cancels of a CPU-loop job, calm period $CANCEL_CALM_MS ms, library bystander running, or none: the second core free)"
if [[ -z "$AGENT" ]]; then
  say "Not measured: no agent jar (build the agent module first)."
else
  say "| JDK, GC | case | n | cancel() blocks p50 | p99 | max | cancel to CANCELLED p50 | p99 | max |"
  say "|---|---|---|---|---|---|---|---|---|"
  for v in $JDKS; do
    : > "$RESULTS/cancelcost-$v.err"
    for others in bystander none; do
      log "cancel cost JDK $v, $others"
      label="$v G1"; [[ $others == none ]] && label="$v G1, no bystander"
      "$(jdk_home "$v")/bin/java" -XX:+UseG1GC -Dusethread.poll.quietMillis=5 -Dusethread.poll.maxQuietMillis=5 \
        "-javaagent:$AGENT=$AGENT_OPTS" -cp "$JAR" dev.usethread.bench.CancelCost "$CANCEL_TRIALS" "$CANCEL_CALM_MS" "$label" \
        "$others" 2>> "$RESULTS/cancelcost-$v.err" | tee -a "$SECTION_OUT"
    done
  done
fi
say ""
fi

# 8. A long-running service that sees one deadline a second (LongRun), with -XX:+PrintCompilation
# to a file: last-minute throughput against a run without deadlines, and methods made not compilable.
if section longrun 8-longrun; then
say "### Long run (deadline service, 1 deadline a second for $LONGRUN_SECONDS s; without deadlines $LONGRUN_BASE_SECONDS s; good requests/s per worker-second outside pathological requests)"
if [[ -z "$AGENT" ]]; then
  say "Not measured: no agent jar (build the agent module first)."
else
  say "| JDK | deadlines | s | good/s first minute | good/s last minute | deadlines fired | good requests timed out | \"not compilable\" lines | \"made not entrant\" lines |"
  say "|---|---|---|---|---|---|---|---|---|"
  for v in $LONGRUN_JDKS; do
    for mode in deadlines none; do
      secs=$LONGRUN_SECONDS; [[ $mode == none ]] && secs=$LONGRUN_BASE_SECONDS
      log "long run JDK $v $mode ${secs} s"
      comp=$RESULTS/longrun-$v-$mode.compilation.log
      "$(jdk_home "$v")/bin/java" -XX:+UseG1GC -XX:+PrintCompilation "-javaagent:$AGENT=$AGENT_OPTS" -cp "$JAR" \
        dev.usethread.bench.LongRun "$mode" "$secs" "$v" "$RESULTS/longrun-$v-$mode.row" > "$comp" 2> "$RESULTS/longrun-$v-$mode.err"
      say "$(tr -d '\n' < "$RESULTS/longrun-$v-$mode.row") $(grep -c 'not compilable' "$comp" || true) | $(grep -c 'made not entrant' "$comp" || true) |"
    done
    last() { awk -F'|' '{print $6 + 0}' "$RESULTS/longrun-$v-$1.row"; }
    say "| $v | **last minute, with / without deadlines** | | | **$(awk -v a="$(last deadlines)" -v b="$(last none)" 'BEGIN {if (b > 0) printf "%.3f", a / b; else print "n/a"}')** | | | | |"
  done
fi
say ""
fi

# 9. Real programs with default weaving (-javaagent, no options): ECJ compiling the commons-lang3
# sources and scalac compiling scala-parser-combinators (whole process and peak RSS, alternating
# plain/agent pairs), and ECJ cancelled at a random point as a useThread job, then retried. The
# compilers and sources are copied into benchmarks/target/programs by the build.
if section programs 9-programs; then
PROG=$ROOT/benchmarks/target/programs
# The smoke run (CI) compiles once per program on the first JDK only: a scalac pair alone takes ~15 s.
if $SMOKE; then PAIRS=${PROGRAM_PAIRS:-1}; TRIALS=${RETRY_TRIALS:-1}; RETRY_ARGS=(1 1); CONTROL=false; PROG_JDKS=${JDKS%% *}
else PAIRS=${PROGRAM_PAIRS:-5}; TRIALS=${RETRY_TRIALS:-7}; RETRY_ARGS=(5 4); CONTROL=true; PROG_JDKS=$JDKS; fi
find "$PROG/src/scala-parser-combinators" -name '*.scala' | sort > "$PROG/scala-sources.txt"
# One compile into a fresh output directory; prints "<wall ms> <peak RSS KiB>" (GNU time's %M).
run_program() {
  local prog=$1 java=$2 out s e; shift 2
  out=$(mktemp -d "$PROG/out.XXXXXX")
  local cmd=("$java" "$@")
  # ecj-young: the same compile with G1's young generation fixed, so that the RSS ratio shows the
  # agent's own memory rather than the young-generation size G1 chose from the run's pause history.
  [[ "$prog" == ecj-young ]] && cmd+=(-Xmn64m)
  if [[ "$prog" == ecj* ]]; then
    cmd+=(-cp "$PROG/lib/ecj.jar" org.eclipse.jdt.internal.compiler.batch.Main -8 -encoding UTF-8 -nowarn
          -d "$out" "$PROG/src/commons-lang3")
  else
    cmd+=(-cp "$PROG/lib/scala-compiler.jar:$PROG/lib/scala-library.jar:$PROG/lib/scala-reflect.jar" scala.tools.nsc.Main
          -nowarn -classpath "$PROG/lib/scala-library.jar" -d "$out" "@$PROG/scala-sources.txt")
  fi
  s=$(date +%s%N)
  if ! /usr/bin/time -f %M -o "$out.rss" "${cmd[@]}" > "$out.log" 2>&1 || [[ -z "$(find "$out" -name '*.class' -print -quit)" ]]; then
    cat "$out.log" >&2; echo "run.sh: $prog failed or wrote no class file: ${cmd[*]}" >&2; return 1
  fi
  e=$(date +%s%N)
  echo "$(( (e - s) / 1000000 )) $(tail -1 "$out.rss")"
  rm -rf "$out" "$out.rss" "$out.log"
}
# Median of each whitespace-separated column of stdin, as decimals.
column_medians() {
  awk '{for (i = 1; i <= NF; i++) v[i, NR] = $i; if (NF > n) n = NF}
       END {for (i = 1; i <= n; i++) {m = 0; for (r = 1; r <= NR; r++) c[++m] = v[i, r]
              for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (c[b] < c[a]) {t = c[a]; c[a] = c[b]; c[b] = t}
              printf "%s%s", (m % 2 ? c[(m + 1) / 2] : (c[m / 2] + c[m / 2 + 1]) / 2), (i < n ? " " : "\n")}}'
}
if [[ -z "$AGENT" || ! -x /usr/bin/time ]]; then
  say "Not measured: needs the agent jar (build the agent module) and /usr/bin/time (Debian package time)."
else
  say "### Real programs with default weaving (whole process and peak RSS; median of $PAIRS alternating plain/agent/cached triples, ratios per triple; \"cached\": the agent with \`cache=\`, filled by one run before)"
  say "| JDK | program | plain ms | agent ms | agent/plain | plain MiB | agent MiB | agent/plain | cached ms | cached/plain | cached MiB | cached/plain |"
  say "|---|---|---|---|---|---|---|---|---|---|---|---|"
  for v in $PROG_JDKS; do
    for prog in ecj ecj-young scalac; do
      log "programs JDK $v $prog"
      java="$(jdk_home "$v")/bin/java"; rows=""
      cache=$PROG/cache; rm -rf "$cache"; run_program "$prog" "$java" "-javaagent:$AGENT=cache=$cache" > /dev/null
      for ((i = 0; i < PAIRS; i++)); do
        p=$(run_program "$prog" "$java"); a=$(run_program "$prog" "$java" "-javaagent:$AGENT")
        c=$(run_program "$prog" "$java" "-javaagent:$AGENT=cache=$cache")
        rows+="$p $a $c"$'\n'
      done
      # columns: plain ms, plain KiB, agent ms, agent KiB, time ratio, RSS ratio, cached ms, KiB, time and RSS ratios
      read -r pm pk am ak tr mr cm ck ctr cmr < <(printf '%s' "$rows" \
        | awk '{print $1, $2, $3, $4, $3 / $1, $4 / $2, $5, $6, $5 / $1, $6 / $2}' | column_medians)
      case $prog in
        ecj) name="ECJ, commons-lang3" ;;
        ecj-young) name="ECJ, commons-lang3, -Xmn64m" ;;
        *) name="scalac, scala-parser-combinators" ;;
      esac
      say "$(awk -v v="$v" -v n="$name" -v pm="$pm" -v am="$am" -v tr="$tr" -v pk="$pk" -v ak="$ak" -v mr="$mr" \
        -v cm="$cm" -v ctr="$ctr" -v ck="$ck" -v cmr="$cmr" \
        'BEGIN {printf "| %s | %s | %d | %d | %.3f | %d | %d | %.3f | %d | %.3f | %d | %.3f |", v, n, pm, am, tr, pk / 1024, ak / 1024, mr, cm, ctr, ck / 1024, cmr}')"
    done
  done
  say ""
  say "### Cancel, then retry: ECJ compiling commons-lang3 as a useThread job, with the agent (median of $TRIALS trials, each a fresh JVM; ${RETRY_ARGS[0]} runs before, T0 the last)"
  say "| JDK | sequence | T0 ms | cancelled after ms | cancel() to CANCELLED ms | T1 ms | T1/T0 | later runs / T0 |"
  say "|---|---|---|---|---|---|---|---|"
  for v in $PROG_JDKS; do
    : > "$ROOT/benchmarks/target/programs-retry-$v.log"
    modes=(cancel); $CONTROL && modes+=(control)
    for mode in "${modes[@]}"; do
      log "programs retry JDK $v $mode"
      rows=""
      for ((i = 0; i < TRIALS; i++)); do
        line=$("$(jdk_home "$v")/bin/java" "-javaagent:$AGENT" -cp "$JAR:$PROG/lib/ecj.jar" dev.usethread.bench.programs.RetryAfterCancel \
          "$PROG/src/commons-lang3" "$PROG/work" "${RETRY_ARGS[@]}" "$i" "$mode" 2>> "$ROOT/benchmarks/target/programs-retry-$v.log" | grep '^RESULT') \
          || { tail -30 "$ROOT/benchmarks/target/programs-retry-$v.log" >&2; echo "run.sh: RetryAfterCancel failed on JDK $v" >&2; exit 1; }
        # columns: T0, cancelled after, cancel wait, T1, then Tn/T0 for every run after the cancel
        rows+=$(echo "$line" | sed 's/[a-zA-Z0-9]*=//g; s/^RESULT //; s/,/ /g' | awk '{printf "%s %s %s %s", $1, $2, $3, $4; for (i = 4; i <= NF; i++) printf " %.3f", $i / $1; print ""}')$'\n'
      done
      read -r -a m < <(printf '%s' "$rows" | column_medians)
      label=$([[ "$mode" == cancel ]] && echo "cancelled, then retried" || echo "control: no cancel")
      after=$(printf '%s ' "${m[@]:5}"); after=${after% }
      say "| $v | $label | ${m[0]%.*} | $([[ $mode == cancel ]] && echo "${m[1]%.*}" || echo -) | $([[ $mode == cancel ]] && echo "${m[2]%.*}" || echo -) | ${m[3]%.*} | ${m[4]} | ${after:--} |"
    done
  done
  say ""
  say "Load average at the end of this section: $(cut -d' ' -f1-3 /proc/loadavg)."
fi
say ""
fi

cat "$RESULTS"/header.md "$RESULTS"/[0-9]-*.md > "$OUT" 2>/dev/null || cat "$RESULTS"/header.md > "$OUT"
log "results in $OUT"

if ! $SMOKE && [[ "${UPDATE_DOC:-1}" == 1 ]]; then
  # Splice the results into BENCHMARKS.md between the markers.
  python3 - "$ROOT/BENCHMARKS.md" "$OUT" <<'PY'
import sys
doc, res = sys.argv[1], sys.argv[2]
text = open(doc).read()
begin, end = "<!-- results:begin -->", "<!-- results:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + open(res).read() + end + tail)
PY
  log "BENCHMARKS.md updated"
fi
