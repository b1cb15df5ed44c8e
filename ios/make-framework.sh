#!/usr/bin/env bash
# Makes one slice of the XCFramework: OUT_DIR/VaxpassFFI.framework, a static framework around
# LIBRARY with HEADER, a framework module map and an Info.plist (ios/README.md, "The
# XCFramework's layout"). Called by build-xcframework.sh for each slice; portable, so the Linux
# test run (tests/bindings/swift.sh) builds a slice too and compiles the Swift API against it.
#
#   ios/make-framework.sh OUT_DIR LIBRARY HEADER PLATFORM MINIMUM_OS VERSION
#
# PLATFORM is iPhoneOS, iPhoneSimulator (shallow bundles) or MacOSX (a versioned bundle,
# Versions/A, as macOS requires).
set -euo pipefail

[ "$#" -eq 6 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
out="$1" library="$2" header="$3" platform="$4" minimum="$5" version="$6"
MODULE=VaxpassFFI
case "$platform" in
    iPhoneOS | iPhoneSimulator) minimum_key=MinimumOSVersion ;;
    MacOSX) minimum_key=LSMinimumSystemVersion ;;
    *) echo "make-framework.sh: unknown platform $platform" >&2; exit 2 ;;
esac
[ -f "$library" ] || { echo "make-framework.sh: no library $library" >&2; exit 1; }
[ -f "$header" ] || { echo "make-framework.sh: no header $header" >&2; exit 1; }

framework="$out/$MODULE.framework"
rm -rf "$framework"
if [ "$platform" = MacOSX ]; then
    contents="$framework/Versions/A"
    plist="$contents/Resources/Info.plist"
else
    contents="$framework"
    plist="$contents/Info.plist"
fi
mkdir -p "$contents/Headers" "$contents/Modules" "$(dirname "$plist")"
cp "$library" "$contents/$MODULE"
cp "$header" "$contents/Headers/$MODULE.h"
# A framework module, without the `use "Darwin"` / `use "_Builtin_stdbool"` / `use "_Builtin_stdint"`
# lines of uniffi's generated map: Apple's current toolchains have no such builtin modules, and the
# failing module makes the generated Swift's `canImport(VaxpassFFI)` false (mozilla/uniffi-rs#2917).
cat >"$contents/Modules/module.modulemap" <<MODULEMAP
framework module $MODULE {
    header "$MODULE.h"
    export *
}
MODULEMAP
cat >"$plist" <<PLIST
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleDevelopmentRegion</key>
	<string>en</string>
	<key>CFBundleExecutable</key>
	<string>$MODULE</string>
	<key>CFBundleIdentifier</key>
	<string>io.vaxpass.$MODULE</string>
	<key>CFBundleInfoDictionaryVersion</key>
	<string>6.0</string>
	<key>CFBundleName</key>
	<string>$MODULE</string>
	<key>CFBundlePackageType</key>
	<string>FMWK</string>
	<key>CFBundleShortVersionString</key>
	<string>$version</string>
	<key>CFBundleVersion</key>
	<string>$version</string>
	<key>CFBundleSupportedPlatforms</key>
	<array>
		<string>$platform</string>
	</array>
	<key>$minimum_key</key>
	<string>$minimum</string>
</dict>
</plist>
PLIST
if [ "$platform" = MacOSX ]; then
    ln -s A "$framework/Versions/Current"
    for entry in "$MODULE" Headers Modules Resources; do ln -s "Versions/Current/$entry" "$framework/$entry"; done
fi
