#!/usr/bin/env bash
# Builds usethread (runtime, agent, demo) and runs the demo with the agent, as a user would.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -Dstyle.color=never -DskipTests package -pl runtime,agent,demo -am
agent=agent/target/usethread-agent.jar
cp="runtime/target/classes:demo/target/classes"
if [ -f "$agent" ]; then
  exec java "-javaagent:$agent=jdk=java.util.regex" -cp "$cp" dev.usethread.demo.Demo
else
  echo "(agent jar not built: running with cooperative cancellation only)"
  exec java -cp "$cp" dev.usethread.demo.Demo
fi
