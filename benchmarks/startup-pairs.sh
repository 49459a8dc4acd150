#!/usr/bin/env bash
# Start-up of StartupApp (3,000 library classes) without an agent and with each given agent, run one
# after the other in every round, so that a slower minute hits all of them alike. Prints each round
# on standard error as it goes, then the medians and, for each agent after the first, the per-round
# difference from the first (mean and standard error). Run it on a quiet machine, after building
# the benchmarks jar:
#   benchmarks/startup-pairs.sh 30 /usr/lib/jvm/java-17-openjdk-amd64/bin/java \
#       /path/to/earlier/usethread-agent.jar agent/target/usethread-agent.jar
# An agent may carry options: 'agent.jar=cache=/tmp/c'. JVM flags for every run: JAVA_OPTS.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 ROUNDS JAVA AGENT_JAR[=OPTIONS] [AGENT_JAR[=OPTIONS] ...]" >&2
  exit 2
fi
rounds=$1; java=$2; shift 2
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "$0: ROUNDS must be a positive number, not '$rounds'" >&2; exit 2; }
java_path=$(command -v "$java") || { echo "$0: no java at '$java'" >&2; exit 2; }
java=$java_path
for a in "$@"; do
  [[ -f "${a%%=*}" ]] || { echo "$0: no agent jar at '${a%%=*}'" >&2; exit 2; }
done
jar="$(cd "$(dirname "$0")" && pwd)/target/benchmarks.jar"
[[ -f "$jar" ]] || { echo "$0: build the benchmarks first (no $jar)" >&2; exit 2; }

ms() { local s; s=$(date +%s%N); "$@" > /dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); }
read -r -a opts <<< "${JAVA_OPTS:-}"

echo "# round: without agent, then ms with each agent: $*"
for ((r = 1; r <= rounds; r++)); do
  row="$(ms "$java" "${opts[@]}" -cp "$jar" dev.usethread.bench.StartupApp)"
  for a in "$@"; do
    row+=" $(ms "$java" "${opts[@]}" "-javaagent:$a" -cp "$jar" dev.usethread.bench.StartupApp)"
  done
  echo "$row"
done | tee /dev/stderr | awk -v names="without $*" '
  { n = NR; for (i = 1; i <= NF; i++) v[i, n] = $i; cols = NF }
  function median(c,   i, j, t, a) {
    for (i = 1; i <= n; i++) a[i] = v[c, i]
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    split(names, label, " ")
    for (c = 1; c <= cols; c++)
      printf "median %s: %d ms%s\n", label[c], median(c), (c > 1 ? sprintf(" (+%d)", median(c) - median(1)) : "")
    for (c = 3; c <= cols; c++) {
      sum = 0; sq = 0
      for (i = 1; i <= n; i++) { d = v[c, i] - v[2, i]; sum += d; sq += d * d }
      mean = sum / n; sd = n > 1 ? sqrt((sq - n * mean * mean) / (n - 1)) : 0
      printf "%s minus %s, per round: mean %+.1f ms, standard error %.1f\n", label[c], label[2], mean, sd / sqrt(n)
    }
  }'
