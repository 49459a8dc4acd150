#!/usr/bin/env bash
# Builds usethread (runtime, agent, demo) and runs the demo with the agent, as a user would.
#   demo/run.sh                  the terminal demo (ends by itself)
#   demo/run.sh --web [--port N] the web demo on http://localhost:8080/ (Ctrl-C to stop)
set -euo pipefail
cd "$(dirname "$0")/.."
main=dev.usethread.demo.Demo
if [ "${1:-}" = "--web" ]; then
  main=dev.usethread.demo.WebDemo
  shift
fi
mvn -B -q -Dstyle.color=never -DskipTests package -pl runtime,agent,demo -am
agent=agent/target/usethread-agent.jar
cp="runtime/target/classes:demo/target/classes"
if [ -f "$agent" ]; then
  exec java "-javaagent:$agent=jdk=java.util.regex" -cp "$cp" "$main" "$@"
else
  echo "(agent jar not built: running with cooperative cancellation only)"
  exec java -cp "$cp" "$main" "$@"
fi
