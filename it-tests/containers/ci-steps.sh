#!/usr/bin/env bash
# CI steps for the container tests, for .ci/run (as root, on a machine that reaches only Debian's
# packages and Maven Central):
#   1. install docker.io and debootstrap from Debian's packages if missing,
#   2. start dockerd if no engine answers,
#   3. build the JDK 21/25 images offline (build-images.sh; existing images are kept),
#   4. run the container tests with Docker required: a missing engine fails, it does not skip.
#
#   ci-steps.sh          all four steps
#   ci-steps.sh setup    steps 1-3 only
#   ci-steps.sh test     step 4 only
#
# Extra arguments after the mode go to Maven (e.g. -o).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode="${1:-all}"
[ $# -gt 0 ] && shift
case "$mode" in all|setup|test) ;; *) echo "usage: $0 [all|setup|test] [maven args...]" >&2; exit 64 ;; esac

export USETHREAD_IMAGE_JDK21="${USETHREAD_IMAGE_JDK21:-usethread/jdk21:trixie}"
export USETHREAD_IMAGE_JDK25="${USETHREAD_IMAGE_JDK25:-usethread/jdk25:trixie}"

log() { echo "[containers] $*"; }

setup() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/tmp/usethread-apt.log 2>&1 \
      || { tail -n 30 /tmp/usethread-apt.log >&2; exit 1; }
  fi

  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: /tmp/dockerd.log)"
    nohup dockerd >/tmp/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker info >/dev/null 2>&1 && break
      sleep 1
    done
    docker info >/dev/null 2>&1 || { tail -n 30 /tmp/dockerd.log >&2; log "dockerd did not answer within 60 s"; exit 1; }
  fi
  log "Docker engine $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"

  "$here/build-images.sh" 21 25
}

run_tests() {
  log "container tests on $USETHREAD_IMAGE_JDK21 and $USETHREAD_IMAGE_JDK25"
  cd "$root"
  mvn -B -Dstyle.color=never "$@" -pl it-tests -am verify \
    -Dgroups=containers -Dsurefire.failIfNoSpecifiedTests=false \
    -Dusethread.docker.required=true
  if [ -f it-tests/target/container-cancel-times.tsv ]; then
    log "cancel() -> CANCELLED inside the containers:"
    sed 's/^/[containers]   /' it-tests/target/container-cancel-times.tsv
  fi
}

started=$(date +%s)
case "$mode" in
  all) setup; run_tests "$@" ;;
  setup) setup ;;
  test) run_tests "$@" ;;
esac
log "done in $(( $(date +%s) - started )) s"
