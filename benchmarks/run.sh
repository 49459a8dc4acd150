#!/usr/bin/env bash
# Measures every figure of BENCHMARKS.md and writes them there (between the results markers).
#
#   benchmarks/run.sh            full run: JDK 17 and 25, G1 and Parallel GC (about 30 minutes)
#   benchmarks/run.sh --smoke    every benchmark very briefly, asserts nothing about times (CI)
#   SECTIONS="idle latency" benchmarks/run.sh   re-measure some sections (idle warmup latency
#                                startup frequent); the others keep their last results
#
# Environment: JDK17, JDK25 (JDK homes), AGENT (agent jar; default agent/target/usethread-agent.jar,
# used when present), OUT (results file; default benchmarks/target/results.md).
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
  mvn -B -q -o package -pl runtime,benchmarks -am -DskipTests 2>/dev/null \
    || mvn -B -q package -pl runtime,benchmarks -am -DskipTests
fi
JAR=$ROOT/benchmarks/target/benchmarks.jar
[[ -f "$AGENT" ]] || AGENT=""

if $SMOKE; then
  JDKS="17 25"; GCS="G1"; FORKS=1
  LAT_TRIALS=3; WARM_RUNS=1; WARM_ROUNDS=200; START_RUNS=1; PHASE_MS=200
else
  JDKS="17 25"; GCS="G1 Parallel"; FORKS=2
  LAT_TRIALS=100; WARM_RUNS=5; WARM_ROUNDS=25000; START_RUNS=9; PHASE_MS=1000
fi
jdk_home() { if [[ "$1" == 17 ]]; then echo "$JDK17"; else echo "$JDK25"; fi; }

SECTIONS=${SECTIONS:-idle warmup latency startup frequent programs}
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
# one whose transformer returns every class unchanged (BaselineAgent, in the benchmarks jar).
if section startup 4-startup; then
say "### Agent start-up (whole JVM, ms, median of $START_RUNS, app loads 3,000 classes)"
if [[ -z "$AGENT" ]]; then
  say "Not measured: no agent jar (build the agent module first)."
  for v in $JDKS; do "$(jdk_home "$v")/bin/java" -cp "$JAR" dev.usethread.bench.StartupApp > /dev/null; done
else
  say "| JDK | GC | without agent | empty agent | no-op transformer | usethread agent | added by usethread agent | of which any agent with a transformer |"
  say "|---|---|---|---|---|---|---|---|"
  for v in $JDKS; do
    for gc in $GCS; do
      log "start-up JDK $v $gc"
      java="$(jdk_home "$v")/bin/java"; w=(); e=(); t=(); g=()
      for ((i = 0; i < START_RUNS; i++)); do
        w+=("$(wall_ms "$java" "-XX:+Use${gc}GC" -cp "$JAR" dev.usethread.bench.StartupApp)")
        e+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$JAR" -cp "$JAR" dev.usethread.bench.StartupApp)")
        t+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$JAR=transformer" -cp "$JAR" dev.usethread.bench.StartupApp)")
        g+=("$(wall_ms "$java" "-XX:+Use${gc}GC" "-javaagent:$AGENT" -cp "$JAR" dev.usethread.bench.StartupApp)")
      done
      wm=$(printf '%s\n' "${w[@]}" | median); em=$(printf '%s\n' "${e[@]}" | median)
      tm=$(printf '%s\n' "${t[@]}" | median); gm=$(printf '%s\n' "${g[@]}" | median)
      say "| $v | $gc | $wm | $em | $tm | $gm | $((gm - wm)) ms | $((tm - wm)) ms |"
    done
  done
fi
say ""
fi

# 5. Frequent cancellation: bystander throughput while another thread is cancelled 1,000 times/s.
if section frequent 5-frequent; then
say "### Frequent cancellation (bystander ops/s; 1,000 cancels/s on another thread)"
say "| JDK, GC | bystander kernel | cancels/s | ops/s without | ops/s with cancels | ratio | just after (armed) | site flips |"
say "|---|---|---|---|---|---|---|---|"
for v in $JDKS; do
  for gc in $GCS; do
    for k in intSum longLoop vectorAdd recursiveFib listWalk; do
      log "frequent JDK $v $gc $k"
      "$(jdk_home "$v")/bin/java" "-XX:+Use${gc}GC" -Dusethread.poll.maxQuietMillis=1000 -cp "$JAR" dev.usethread.bench.FrequentCancel "$k" "$PHASE_MS" "$v $gc" | tee -a "$SECTION_OUT"
    done
  done
done
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
else PAIRS=${PROGRAM_PAIRS:-5}; TRIALS=${RETRY_TRIALS:-3}; RETRY_ARGS=(5 4); CONTROL=true; PROG_JDKS=$JDKS; fi
find "$PROG/src/scala-parser-combinators" -name '*.scala' | sort > "$PROG/scala-sources.txt"
# One compile into a fresh output directory; prints "<wall ms> <peak RSS KiB>" (GNU time's %M).
run_program() {
  local prog=$1 java=$2 out s e; shift 2
  out=$(mktemp -d "$PROG/out.XXXXXX")
  local cmd=("$java" "$@")
  if [[ "$prog" == ecj ]]; then
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
  say "### Real programs with default weaving (whole process and peak RSS; median of $PAIRS alternating plain/agent pairs, ratios per pair)"
  say "| JDK | program | plain ms | agent ms | agent/plain | plain MiB | agent MiB | agent/plain |"
  say "|---|---|---|---|---|---|---|---|"
  for v in $PROG_JDKS; do
    for prog in ecj scalac; do
      log "programs JDK $v $prog"
      java="$(jdk_home "$v")/bin/java"; rows=""
      for ((i = 0; i < PAIRS; i++)); do
        p=$(run_program "$prog" "$java"); a=$(run_program "$prog" "$java" "-javaagent:$AGENT")
        rows+="$p $a"$'\n'
      done
      # columns: plain ms, plain KiB, agent ms, agent KiB, time ratio, RSS ratio
      read -r pm pk am ak tr mr < <(printf '%s' "$rows" | awk '{print $1, $2, $3, $4, $3 / $1, $4 / $2}' | column_medians)
      name=$([[ "$prog" == ecj ]] && echo "ECJ, commons-lang3" || echo "scalac, scala-parser-combinators")
      say "$(awk -v v="$v" -v n="$name" -v pm="$pm" -v am="$am" -v tr="$tr" -v pk="$pk" -v ak="$ak" -v mr="$mr" \
        'BEGIN {printf "| %s | %s | %d | %d | %.3f | %d | %d | %.3f |", v, n, pm, am, tr, pk / 1024, ak / 1024, mr}')"
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
