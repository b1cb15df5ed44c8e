#!/usr/bin/env bash
# Kotlin binding tests: compiles the generated bindings (vaxpass.kt), the Android module's Kotlin
# helpers (android/src/main/kotlin) and its JVM tests (android/src/test/kotlin) with one kotlinc
# call, then runs every *Test class with JUnit 4 against the host-built library.
#
#   tests/bindings/kotlin.sh          (from any directory)
#
# Environment (relative paths are taken from the current directory):
#   LIB_DIR       directory of libvaxpass_ffi.so built with `--features test-helpers` (default:
#                 <repo>/target/debug, built first)
#   BINDINGS_DIR  output of generate-bindings.sh   (default: <repo>/target/bindings; generated
#                 from the library if missing or older)
#   VAXPASS_ISSUER_URL and the rest of scripts/issuer-service.sh's line: the issuer service the
#                 sync tests talk to; when unset, this script starts one and stops it on exit
# Build output goes to <repo>/target/kotlin-tests; the compile is skipped when no input changed.
#
# Before compiling, the Kotlin bindings are regenerated from the library (and patched,
# scripts/patch-bindings.py) and must match BINDINGS_DIR byte for byte; at load time the
# generated code also checks uniffi's API checksums against the library.
#
# The last line is always `kotlin: N passed, M failed`. The exit status is non-zero if a test
# failed or if nothing could be run (missing library, drift, compile error: counted as 1 failure).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
absolute() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
LIB_DIR="$(absolute "${LIB_DIR:-$ROOT/target/debug}")"
BINDINGS_DIR="$(absolute "${BINDINGS_DIR:-$ROOT/target/bindings}")"
BUILD="$ROOT/target/kotlin-tests"
LIB="$LIB_DIR/libvaxpass_ffi.so"
BINDINGS_KT="$BINDINGS_DIR/kotlin/io/vaxpass/vaxpass.kt"

log() { printf '[kotlin] %s\n' "$*" >&2; }
# Setup failures: say why, then the summary line the callers parse.
give_up() {
    log "ERROR: $*"
    echo "kotlin: 0 passed, 1 failed"
    exit 1
}

t_start=$SECONDS

# ---- toolchains: kotlinc, kotlin-test, JNA (scripts/toolchains.sh), JUnit 4 + Hamcrest (apt) ----
toolchain_env="$("$ROOT/scripts/toolchains.sh" kotlin)" || give_up "scripts/toolchains.sh kotlin failed"
eval "$toolchain_env" # KOTLINC KOTLIN_HOME JNA_JAR
JUNIT_JAR=/usr/share/java/junit4.jar
HAMCREST_JAR=/usr/share/java/hamcrest-core.jar
if [ ! -f "$JUNIT_JAR" ] || [ ! -f "$HAMCREST_JAR" ]; then
    log "installing junit4 and libhamcrest-java"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends junit4 libhamcrest-java >&2 2>/dev/null || {
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends junit4 libhamcrest-java >&2
    }
fi
[ -f "$JUNIT_JAR" ] || give_up "$JUNIT_JAR missing after installing junit4"
[ -f "$HAMCREST_JAR" ] || give_up "$HAMCREST_JAR missing after installing libhamcrest-java"
KLIB="$KOTLIN_HOME/lib"

# ---- the library (with the test helpers) and its bindings ----
if [ "$LIB_DIR" = "$ROOT/target/debug" ]; then
    log "building vaxpass-ffi --features test-helpers"
    (cd "$ROOT" && cargo build --locked -p vaxpass-ffi --features test-helpers >&2) ||
        give_up "cargo build -p vaxpass-ffi --features test-helpers failed"
fi
[ -f "$LIB" ] || give_up "no library at $LIB"
if [ ! -f "$BINDINGS_KT" ] || [ ! -f "$BINDINGS_DIR/uniffi-jvm.toml" ] || [ "$LIB" -nt "$BINDINGS_KT" ]; then
    log "generating bindings into $BINDINGS_DIR"
    "$ROOT/scripts/generate-bindings.sh" "$LIB" "$BINDINGS_DIR" || give_up "generate-bindings.sh failed"
fi

mkdir -p "$BUILD"
rm -rf "$BUILD/src" "$BUILD/regenerated"
mkdir -p "$BUILD/src"
# Work on a copy: another job may regenerate BINDINGS_DIR while this one compiles.
cp "$BINDINGS_KT" "$BUILD/src/vaxpass.kt" || give_up "cannot read $BINDINGS_KT"

# Drift check: the bindings compiled here are exactly what this library generates (with the JVM
# settings generate-bindings.sh wrote beside them).
if ! (cd "$ROOT" && cargo build --locked --quiet -p uniffi-bindgen >&2); then
    [ -x "$ROOT/target/debug/uniffi-bindgen" ] || give_up "cargo build -p uniffi-bindgen failed"
    log "WARNING: cargo build -p uniffi-bindgen failed; using the existing target/debug/uniffi-bindgen"
fi
# (library mode runs `cargo metadata`, so from the workspace)
(cd "$ROOT" && target/debug/uniffi-bindgen generate --no-format --library "$LIB" \
    --config "$BINDINGS_DIR/uniffi-jvm.toml" --language kotlin --out-dir "$BUILD/regenerated" >/dev/null) \
    || give_up "uniffi-bindgen failed on $LIB"
python3 "$ROOT/scripts/patch-bindings.py" kotlin "$BUILD/regenerated/io/vaxpass/vaxpass.kt" \
    || give_up "scripts/patch-bindings.py kotlin failed"
if ! cmp -s "$BUILD/src/vaxpass.kt" "$BUILD/regenerated/io/vaxpass/vaxpass.kt"; then
    diff -u "$BUILD/src/vaxpass.kt" "$BUILD/regenerated/io/vaxpass/vaxpass.kt" | head -n 40 >&2 || true
    give_up "bindings drift: $BINDINGS_KT differs from what $LIB generates; rerun scripts/generate-bindings.sh"
fi

# ---- compile (one kotlinc call; skipped when sources, jars and compiler are unchanged) ----
mapfile -t sources < <(
    echo "$BUILD/src/vaxpass.kt"
    find "$ROOT/android/src/main/kotlin" "$ROOT/android/src/test/kotlin" -name '*.kt' | LC_ALL=C sort
)
CP="$JNA_JAR:$KLIB/kotlin-test.jar:$KLIB/kotlin-test-junit.jar:$JUNIT_JAR"
stamp="$(
    {
        echo "$KOTLINC $CP"
        cat "$KOTLIN_HOME/build.txt" 2>/dev/null || true
        for f in "${sources[@]}"; do echo "${f#"$ROOT"/}"; cat "$f"; done
    } | sha256sum | cut -d' ' -f1
)"
t_compile=$SECONDS
if [ -f "$BUILD/classes.stamp" ] && [ "$(cat "$BUILD/classes.stamp")" = "$stamp" ] && [ -d "$BUILD/classes" ]; then
    log "sources unchanged: reusing $BUILD/classes"
else
    rm -rf "$BUILD/classes" "$BUILD/classes.stamp"
    log "kotlinc: ${#sources[@]} files"
    # -nowarn: the generated code alone gives dozens of warnings; errors still print.
    # (pipefail: the pipeline fails when kotlinc does)
    if ! "$KOTLINC" -nowarn -jvm-target 17 -cp "$CP" -d "$BUILD/classes" "${sources[@]}" 2>&1 | tee "$BUILD/kotlinc.log" >&2; then
        if grep -q "'message' hides member of supertype 'Throwable'" "$BUILD/kotlinc.log"; then
            log "hint: a uniffi::Error variant has a field named \`message\`, which clashes with Throwable.message in Kotlin (uniffi issue #1434): rename the field"
        fi
        give_up "compilation failed"
    fi
    echo "$stamp" >"$BUILD/classes.stamp"
fi
compile_seconds=$((SECONDS - t_compile))

# ---- the issuer service the sync tests fetch lists from ----
if [ -z "${VAXPASS_ISSUER_URL:-}" ]; then
    service_line="$("$ROOT/scripts/issuer-service.sh" start kotlin | tail -n 1)" ||
        give_up "scripts/issuer-service.sh start failed"
    trap '"$ROOT/scripts/issuer-service.sh" stop kotlin' EXIT
    # shellcheck disable=SC2163,SC2086  # KEY=VALUE words, none with spaces
    export $service_line
fi

# ---- run ----
mapfile -t test_classes < <(
    cd "$BUILD/classes" && find . -name '*Test.class' ! -name '*$*' | sed -e 's|^\./||' -e 's|\.class$||' -e 's|/|.|g' | LC_ALL=C sort
)
[ "${#test_classes[@]}" -gt 0 ] || give_up "no *Test classes compiled"
log "running ${test_classes[*]}"
log "(RobustnessTest panics in Rust on purpose: a panic message on stderr is expected)"
t_run=$SECONDS
set +e
java -Djna.library.path="$LIB_DIR" \
    -cp "$BUILD/classes:$KLIB/kotlin-stdlib.jar:$KLIB/kotlin-test.jar:$KLIB/kotlin-test-junit.jar:$JUNIT_JAR:$HAMCREST_JAR:$JNA_JAR" \
    org.junit.runner.JUnitCore "${test_classes[@]}" 2>&1 | tee "$BUILD/junit.log"
junit_status=${PIPESTATUS[0]}
set -e
run_seconds=$((SECONDS - t_run))

# JUnitCore ends with "OK (N tests)" or "Tests run: N,  Failures: M".
if ok_line="$(grep -E '^OK \([0-9]+ tests?\)' "$BUILD/junit.log" | tail -n 1)" && [ -n "$ok_line" ]; then
    total="$(sed -E 's/^OK \(([0-9]+) tests?\)/\1/' <<<"$ok_line")"
    failed=0
elif fail_line="$(grep -E '^Tests run: [0-9]+, +Failures: [0-9]+' "$BUILD/junit.log" | tail -n 1)" && [ -n "$fail_line" ]; then
    total="$(sed -E 's/^Tests run: ([0-9]+),.*/\1/' <<<"$fail_line")"
    failed="$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$fail_line")"
else
    give_up "JUnit printed no summary (exit status $junit_status)"
fi
passed=$((total - failed))
if [ "$failed" -eq 0 ] && [ "$junit_status" -ne 0 ]; then
    log "JUnit exited with $junit_status although no test failed"
    failed=1
fi
log "compile ${compile_seconds}s, tests ${run_seconds}s, total $((SECONDS - t_start))s"
echo "kotlin: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
