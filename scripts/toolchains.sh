#!/usr/bin/env bash
# toolchains.sh — bootstrap the toolchains for the Kotlin / Swift / Python
# binding tests. Idempotent and cache-aware: the first run installs, later
# runs only verify and reuse (and say so on stderr).
#
# Usage:
#   scripts/toolchains.sh kotlin [--env]   kotlinc + kotlin-test + JNA
#   scripts/toolchains.sh swift  [--env]   Debian trixie chroot with swiftlang
#   scripts/toolchains.sh swift-run CMD... run CMD inside the Swift chroot
#   scripts/toolchains.sh python [--env]   venv with a pinned `cryptography`, `maturin` and `mypy`,
#                                          and a wheelhouse of the Python tests' dependencies
#   scripts/toolchains.sh all    [--env]   kotlin + swift + python
#
# Result variables: KOTLIN_VERSION KOTLIN_HOME KOTLINC JNA_JAR (kotlin),
# SWIFT_ROOT TOOLCHAINS_SH (swift), PYTHON MATURIN MYPY PYTHON_WHEELS (python, `all`).
# Swift commands run in the chroot, cwd and paths unchanged, e.g.
#   scripts/toolchains.sh swift-run swiftc -version
#
# Output contract: progress/log lines go to STDERR; STDOUT carries only the
# machine-readable result, so callers can do
#   eval "$(scripts/toolchains.sh kotlin)"        # `export K=V` lines
#   scripts/toolchains.sh kotlin --env > k.env    # plain `K=V` lines
# `python` prints the venv's python path as the last stdout line
# (with --env: MATURIN=<path>, MYPY=<path>, PYTHON_WHEELS=<dir>, then PYTHON=<path>).
#
# Environment:
#   VAXPASS_CACHE          cache dir (default: $HOME/.cache/vaxpass)
#   VAXPASS_DEBIAN_MIRROR  Debian mirror for debootstrap (default: the one
#                          this machine's apt uses, see debian_mirror())
#   PROJECT_DIR            dir bind-mounted into the chroot by swift-run, at
#                          the SAME absolute path (default: this repo's root)
#
# Needs root (apt-get, debootstrap, mount, chroot). Debian 12 x86_64 host.
set -euo pipefail

CACHE="${VAXPASS_CACHE:-$HOME/.cache/vaxpass}"

# ---- pinned versions --------------------------------------------------------
# Newest stable 2.x of the npm package `kotlin-compiler` at the time of
# writing (`npm view kotlin-compiler versions`: ... 2.4.10, 2.4.20, 2.5.0-Beta1).
KOTLIN_VERSION="2.4.20"
# Newest `cryptography` on PyPI at the time of writing (abi3 wheels, cp311 ok).
CRYPTOGRAPHY_VERSION="50.0.2"
# Newest `maturin` on PyPI at the time of writing (`pip index versions maturin`); it builds the
# Python wheel (python/pyproject.toml, which names the same version).
MATURIN_VERSION="1.16.0"
# Newest `mypy` on PyPI at the time of writing; it checks that the wheel's type hints reach a type
# checker (tests/bindings/python_types.py).
MYPY_VERSION="2.4.1"
# Debian suite used for the Swift chroot (bookworm has no swiftlang package).
SWIFT_SUITE="trixie"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
PROJECT_DIR="${PROJECT_DIR:-$(cd "$SCRIPT_DIR/.." && pwd)}"

export DEBIAN_FRONTEND=noninteractive

log() { printf '[toolchains] %s\n' "$*" >&2; }
# emit NAME VALUE: result line on stdout; `export NAME=<shell-quoted>` by
# default, plain `NAME=VALUE` with --env (EMIT_PLAIN=1).
EMIT_PLAIN=0
emit() { if [ "$EMIT_PLAIN" = 1 ]; then printf '%s=%s\n' "$1" "$2"; else printf 'export %s=%q\n' "$1" "$2"; fi; }
die() { printf '[toolchains] ERROR: %s\n' "$*" >&2; exit 1; }

# ---- apt helper -------------------------------------------------------------
# apt_ensure PKG...: install the packages that are not installed yet.
# `apt-get update` runs only when something actually has to be installed.
APT_UPDATED=0
apt_ensure() {
  local missing=() p
  for p in "$@"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      log "reuse apt package $p ($(dpkg-query -W -f='${Version}' "$p"))"
    else
      missing+=("$p")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update (needed for: ${missing[*]})"
    apt-get update -qq >&2
    APT_UPDATED=1
  fi
  log "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# ---- kotlin -----------------------------------------------------------------
# Layout of the npm package `kotlin-compiler` (it is the full Kotlin compiler
# distribution zip, repackaged; its package.json only declares `kotlinc-js` as
# an npm bin, so node_modules/.bin/ has NO kotlinc — use the path below):
#   $CACHE/kotlin/node_modules/kotlin-compiler/          = KOTLIN_HOME
#     build.txt                   the version, e.g. "2.4.20"
#     bin/kotlinc, bin/kotlinc-jvm, bin/kotlin  (shell scripts; need `java`)
#     lib/kotlin-stdlib.jar, lib/kotlin-test.jar, lib/kotlin-test-junit.jar,
#     lib/kotlin-test-junit5.jar, lib/kotlin-reflect.jar, lib/annotations-13.0.jar,
#     lib/kotlin-compiler.jar, ...        (junit.jar itself is NOT included)
# JNA comes from Debian: libjna-java -> /usr/share/java/jna.jar, with its JNI
# stub from libjna-jni in /usr/lib/x86_64-linux-gnu/jni (on Debian's default
# java.library.path, so no -Djna.* flag is needed).
kotlin_home() { echo "$CACHE/kotlin/node_modules/kotlin-compiler"; }

ensure_kotlin() {
  local t0=$SECONDS home; home="$(kotlin_home)"
  command -v java >/dev/null || die "java not found (JDK 17 expected on PATH)"
  if [ -x "$home/bin/kotlinc" ] && [ "$(cat "$home/build.txt" 2>/dev/null)" = "$KOTLIN_VERSION" ]; then
    log "reuse kotlin-compiler $KOTLIN_VERSION at $home"
  else
    log "npm install kotlin-compiler@$KOTLIN_VERSION into $CACHE/kotlin"
    mkdir -p "$CACHE/kotlin"
    npm install --prefix "$CACHE/kotlin" --no-audit --no-fund --loglevel=error \
      "kotlin-compiler@$KOTLIN_VERSION" >&2
    [ -x "$home/bin/kotlinc" ] || die "kotlinc not found at $home/bin/kotlinc after npm install"
  fi
  apt_ensure libjna-java
  [ -f /usr/share/java/jna.jar ] || die "/usr/share/java/jna.jar missing"
  log "kotlin ready in $((SECONDS - t0))s"
}

kotlin_env() {
  local home; home="$(kotlin_home)"
  emit KOTLIN_VERSION "$KOTLIN_VERSION"
  emit KOTLIN_HOME "$home"
  emit KOTLINC "$home/bin/kotlinc"
  emit JNA_JAR /usr/share/java/jna.jar
}

# ---- swift (Debian trixie chroot) -------------------------------------------
SWIFT_ROOT="$CACHE/swift-root"
SWIFT_MARKER="$CACHE/swift-root.complete"   # written last; absent => rebuild

# The Debian mirror apt on this machine uses (only the registries are
# reachable, so debootstrap must use the same host). Looks at deb822
# *.sources "URIs:" lines and one-line "deb URL suite" entries, skipping
# debian-security. Here: http://deb.debian.org/debian
debian_mirror() {
  if [ -n "${VAXPASS_DEBIAN_MIRROR:-}" ]; then echo "$VAXPASS_DEBIAN_MIRROR"; return; fi
  local m
  m="$( { grep -hsE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources | awk '{for(i=2;i<=NF;i++) print $i}'
          grep -hsE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
        } | grep -E '/debian/?$' | grep -v security | head -n1)" || true
  echo "${m:-http://deb.debian.org/debian}"
}

# Mount points at or below dir $1 that are currently mounted (deepest first).
mounts_under() {
  awk -v r="$1" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}

# Remove a (half-built) chroot dir. Leftover mounts (a killed swift-run's
# /proc, /dev or project bind mount; debootstrap's own /proc, /sys) are
# unmounted first, and it refuses to delete while anything is still mounted,
# otherwise `rm -rf` would descend into the bind-mounted project or /dev.
remove_chroot_dir() {
  local d="$1" m
  [ -e "$d" ] || return 0
  for m in $(mounts_under "$d"); do umount -l "$m" 2>/dev/null || true; done
  [ -z "$(mounts_under "$d")" ] || die "refusing to delete $d: something is still mounted inside"
  log "removing $d"
  rm -rf --one-file-system "$d"
}

xctest_report() {
  local f
  f="$(find "$SWIFT_ROOT/usr" \( -name 'libXCTest.so' -o -name 'XCTest.swiftmodule' \) 2>/dev/null | sort | tr '\n' ' ')"
  if [ -n "$f" ]; then log "XCTest available: $f"; else log "XCTest NOT found in the chroot"; fi
}

swift_ready() { [ -f "$SWIFT_MARKER" ] && [ -x "$SWIFT_ROOT/usr/bin/swiftc" ]; }

ensure_swift() {
  local t0=$SECONDS
  if ! swift_ready; then
    # Serialize concurrent first runs; the winner builds, the others reuse.
    mkdir -p "$CACHE"
    exec 9>"$CACHE/swift-root.lock"
    flock 9
  fi
  if swift_ready; then
    log "reuse Swift chroot $SWIFT_ROOT ($(cat "$SWIFT_MARKER"))"
  else
    apt_ensure debootstrap
    local mirror tmp="$SWIFT_ROOT.partial"
    mirror="$(debian_mirror)"
    # A chroot without marker is half-finished (or from an interrupted run).
    [ -e "$SWIFT_ROOT" ] && log "incomplete chroot at $SWIFT_ROOT, rebuilding"
    rm -f "$SWIFT_MARKER"
    remove_chroot_dir "$SWIFT_ROOT"
    remove_chroot_dir "$tmp"
    log "debootstrap $SWIFT_SUITE from $mirror (about a minute)"
    debootstrap --variant=minbase --include=swiftlang,libc6-dev \
      "$SWIFT_SUITE" "$tmp" "$mirror" >&2
    rm -f "$tmp"/var/cache/apt/archives/*.deb   # debootstrap keeps the downloaded .debs
    mv "$tmp" "$SWIFT_ROOT"
    local ver
    # shellcheck disable=SC2016  # ${Version} is a dpkg-query format field
    ver="$(chroot "$SWIFT_ROOT" dpkg-query -W -f='swiftlang ${Version}' swiftlang)"
    echo "$ver, $SWIFT_SUITE, built $(date -u +%FT%TZ)" > "$SWIFT_MARKER"
    log "built Swift chroot: $ver"
  fi
  exec 9>&-   # release the build lock (no-op if not taken)
  xctest_report
  log "swift ready in $((SECONDS - t0))s"
}

swift_env() {
  emit SWIFT_ROOT "$SWIFT_ROOT"
  emit TOOLCHAINS_SH "$SELF"     # run Swift as: "$TOOLCHAINS_SH" swift-run swiftc ...
}

# swift-run CMD...: run CMD inside the chroot with /proc, /dev and the project
# dir mounted. The project dir is bind-mounted at the SAME absolute path
# (e.g. /home/me/vaxpass), so paths (target/debug/*.so, sources) are identical
# inside and outside. The working directory is kept when it is under the
# project dir, else it is the project dir.
# To make cleanup bullet-proof (even on SIGKILL) and parallel runs safe, the
# mounts are made in a private mount namespace (`unshare -m`) when possible;
# they are additionally unmounted by an EXIT trap.
swift_run_cleanup() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null || true
  done
}

swift_run() {
  [ "$#" -gt 0 ] || die "usage: toolchains.sh swift-run CMD [ARGS...]"
  swift_ready || ensure_swift >/dev/null
  if [ -z "${VAXPASS_IN_NS:-}" ] && unshare --mount --propagation private true 2>/dev/null; then
    VAXPASS_IN_NS=1 exec unshare --mount --propagation private "$SELF" swift-run "$@"
  fi
  MOUNTED=()   # global: the EXIT trap runs after this function has returned
  trap swift_run_cleanup EXIT
  trap 'exit 130' INT TERM
  if ! mountpoint -q "$SWIFT_ROOT/proc"; then
    mount -t proc proc "$SWIFT_ROOT/proc"; MOUNTED+=("$SWIFT_ROOT/proc")
  fi
  # swiftc/clang need real /dev/null, /dev/urandom etc.
  if ! mountpoint -q "$SWIFT_ROOT/dev"; then
    mount --bind /dev "$SWIFT_ROOT/dev"; MOUNTED+=("$SWIFT_ROOT/dev")
  fi
  if ! mountpoint -q "$SWIFT_ROOT$PROJECT_DIR"; then
    mkdir -p "$SWIFT_ROOT$PROJECT_DIR"
    mount --bind "$PROJECT_DIR" "$SWIFT_ROOT$PROJECT_DIR"; MOUNTED+=("$SWIFT_ROOT$PROJECT_DIR")
  fi
  local cwd="$PROJECT_DIR"
  case "$PWD/" in "$PROJECT_DIR"/*) cwd="$PWD" ;; esac
  # Clean environment inside the chroot; pass extra vars with `env K=V cmd`.
  local rc=0
  # shellcheck disable=SC2016  # $1/$@ expand in the inner sh
  chroot "$SWIFT_ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$cwd" "$@" || rc=$?
  return "$rc"
}

# ---- python -----------------------------------------------------------------
# The venv runs maturin and the binding tools; the wheelhouse holds the wheels of the Python tests'
# dependencies (cryptography and what it needs), so that the fresh venv each test run makes
# installs them offline (tests/bindings/python.sh).
VENV="$CACHE/py-venv"
WHEELHOUSE="$CACHE/py-wheels/cryptography-$CRYPTOGRAPHY_VERSION"

ensure_python() {
  local t0=$SECONDS py="$VENV/bin/python"
  if [ -x "$py" ] && "$py" -c "import cryptography, sys; sys.exit(cryptography.__version__ != '$CRYPTOGRAPHY_VERSION')" 2>/dev/null; then
    log "reuse venv $VENV (cryptography $CRYPTOGRAPHY_VERSION)"
  else
    log "creating venv $VENV with cryptography==$CRYPTOGRAPHY_VERSION"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$py" -m pip install -q --only-binary=:all: "cryptography==$CRYPTOGRAPHY_VERSION" >&2
    "$py" -c 'import cryptography' || die "cryptography import failed"
  fi
  if [ "$("$VENV/bin/maturin" --version 2>/dev/null)" = "maturin $MATURIN_VERSION" ]; then
    log "reuse maturin $MATURIN_VERSION"
  else
    log "pip install maturin==$MATURIN_VERSION"
    "$py" -m pip install -q --only-binary=:all: "maturin==$MATURIN_VERSION" >&2
  fi
  if "$VENV/bin/mypy" --version 2>/dev/null | grep -q "^mypy $MYPY_VERSION "; then
    log "reuse mypy $MYPY_VERSION"
  else
    log "pip install mypy==$MYPY_VERSION"
    "$py" -m pip install -q --only-binary=:all: "mypy==$MYPY_VERSION" >&2
  fi
  if [ -f "$WHEELHOUSE/complete" ]; then
    log "reuse wheelhouse $WHEELHOUSE"
  else
    log "downloading the wheels of cryptography==$CRYPTOGRAPHY_VERSION into $WHEELHOUSE"
    rm -rf "$WHEELHOUSE"
    "$py" -m pip download -q --only-binary=:all: -d "$WHEELHOUSE" "cryptography==$CRYPTOGRAPHY_VERSION" >&2
    : >"$WHEELHOUSE/complete"
  fi
  log "python ready in $((SECONDS - t0))s"
}

python_env() {
  emit MATURIN "$VENV/bin/maturin"
  emit MYPY "$VENV/bin/mypy"
  emit PYTHON_WHEELS "$WHEELHOUSE"
  emit PYTHON "$VENV/bin/python"
}

# ---- main -------------------------------------------------------------------
cmd="${1:-}"; [ "$#" -gt 0 ] && shift
if [ "$cmd" != swift-run ] && [ "${1:-}" = "--env" ]; then EMIT_PLAIN=1; fi
case "$cmd" in
  kotlin)    ensure_kotlin; kotlin_env ;;
  swift)     ensure_swift;  swift_env ;;
  swift-run) swift_run "$@" ;;
  python)    ensure_python
             # default: bare path (last stdout line); --env: the three variables, PYTHON last
             if [ "$EMIT_PLAIN" = 1 ]; then python_env; else echo "$VENV/bin/python"; fi ;;
  all)       ensure_kotlin; ensure_swift; ensure_python
             kotlin_env; swift_env; python_env ;;
  *)         sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
esac
