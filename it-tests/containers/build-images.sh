#!/usr/bin/env bash
# Builds JRE images for the container tests without pulling anything from a registry:
# debootstrap a minimal Debian root filesystem with Debian's OpenJDK JRE, then `docker import` it.
#
#   build-images.sh            builds usethread/jdk21:trixie and usethread/jdk25:trixie
#   build-images.sh 21         builds only the JDK 21 image
#
# An image that already exists is skipped. Needs root, debootstrap and a running Docker engine.
# The Debian mirror is the one this machine's apt uses (override with DEBIAN_MIRROR=...).
set -euo pipefail

SUITE="${DEBIAN_SUITE:-trixie}"
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(21 25)

# First Debian archive URI in apt's sources (deb822 "URIs:" or one-line "deb URI suite ..."),
# skipping the security archive, which has no full suite.
find_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri=$( { grep -hE '^[[:space:]]*URIs:' "$f" | awk '{for (i = 2; i <= NF; i++) print $i}';
             grep -hE '^[[:space:]]*deb[[:space:]]' "$f" | sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } \
           | grep -E '/debian/?$' | head -n 1 || true)
    if [ -n "$uri" ]; then echo "${uri%/}"; return 0; fi
  done
  return 1
}

MIRROR="${DEBIAN_MIRROR:-$(find_mirror || true)}"
if [ -z "$MIRROR" ]; then
  echo "build-images: no Debian mirror found in /etc/apt/sources*; set DEBIAN_MIRROR" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "build-images: debootstrap is not installed" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-images: no Docker engine answers" >&2; exit 1; }

for v in "${VERSIONS[@]}"; do
  image="usethread/jdk${v}:${SUITE}"
  if docker image inspect "$image" >/dev/null 2>&1; then
    echo "build-images: $image exists, skipped"
    continue
  fi
  started=$(date +%s)
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/usethread-rootfs-jdk${v}.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  echo "build-images: debootstrap $SUITE with openjdk-${v}-jre-headless from $MIRROR"
  debootstrap --variant=minbase --include="openjdk-${v}-jre-headless" \
    "$SUITE" "$rootfs" "$MIRROR" > "$rootfs.log" 2>&1 || {
      tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"
      echo "build-images: debootstrap failed for JDK $v" >&2; exit 1; }
  rm -f "$rootfs.log"
  # Keep the image small: package caches and lists are not needed at run time.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
  java_home=$(dirname "$(dirname "$(readlink -f "$rootfs/usr/bin/java")")")
  java_home="${java_home#"$rootfs"}"
  tar -C "$rootfs" -c . | docker import \
    --change "ENV JAVA_HOME=$java_home" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["java", "-version"]' \
    - "$image" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  echo "build-images: $image built in $(( $(date +%s) - started )) s: $(docker run --rm --network none "$image" java -version 2>&1 | head -n 1)"
done
