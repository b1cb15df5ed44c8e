// swift-tools-version:5.9
// The Swift package of the vaxpass SDK for Apple platforms (ios/README.md).
//
// VaxpassFFI is the Rust core as a static library per platform in an XCFramework, built by
// ios/build-xcframework.sh (macOS with Xcode) into ios/build/; run it before using the package.
// Vaxpass is the uniffi-generated Swift API over it (ios/Sources/Vaxpass/Vaxpass.swift, not to be
// edited) plus a few idioms.
import PackageDescription

let package = Package(
    name: "Vaxpass",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Vaxpass", targets: ["Vaxpass"]),
    ],
    targets: [
        .binaryTarget(name: "VaxpassFFI", path: "ios/build/VaxpassFFI.xcframework"),
        .target(
            name: "Vaxpass",
            dependencies: ["VaxpassFFI"],
            path: "ios/Sources/Vaxpass",
            // Apple's privacy manifest: the bundled SQLite's file-timestamp and disk-space calls
            // and the wallet's boot-time clock, with their reasons (ios/README.md).
            resources: [.copy("PrivacyInfo.xcprivacy")],
            // chrono's time-zone lookup (iana-time-zone) in the static library calls CoreFoundation.
            linkerSettings: [.linkedFramework("CoreFoundation")]
        ),
        .testTarget(
            name: "VaxpassTests",
            dependencies: ["Vaxpass"],
            path: "ios/Tests/VaxpassTests"
        ),
    ]
)
