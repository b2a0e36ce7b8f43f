// swift-tools-version: 6.2
import PackageDescription

// One list for every Swift target: the upcoming-feature flags the Swift server
// projects use, and warnings treated as errors so CI stays clean.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "softcopy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "softcopy-coordinator", targets: ["softcopy-coordinator"]),
        .library(name: "SoftcopyCore", targets: ["SoftcopyCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries (Debian: libxxhash-dev, libyaml-dev).
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Typed wrappers for the C calls Swift cannot make (variadic syscall(2)).
        .target(name: "CSoftcopyShims"),

        // The pure core: zarr model, readiness state machine, verdict, configuration. No I/O.
        .target(name: "SoftcopyCore", swiftSettings: swiftSettings),

        // Everything that talks to the kernel or a C library.
        .target(
            name: "SoftcopyIO",
            dependencies: [
                "SoftcopyCore", "CXXHash", "CYAML", "CSoftcopyShims",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // The coordinator service: wires core and I/O together.
        .target(
            name: "SoftcopyCoordinator",
            dependencies: [
                "SoftcopyCore", "SoftcopyIO",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "softcopy-coordinator",
            dependencies: [
                "SoftcopyCoordinator", "SoftcopyCore", "SoftcopyIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Test support shipped as a library: temp folders, the python writers, running the binaries.
        .target(
            name: "SoftcopyTesting",
            dependencies: ["SoftcopyCore", "SoftcopyIO"],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "SoftcopyCoreTests", dependencies: ["SoftcopyCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SoftcopyIOTests",
            dependencies: ["SoftcopyIO", "SoftcopyCore", "SoftcopyTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["SoftcopyCore", "SoftcopyIO", "SoftcopyTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
