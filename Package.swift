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
        .executable(name: "softcopy-agent", targets: ["softcopy-agent"]),
        .library(name: "SoftcopyCore", targets: ["SoftcopyCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The Prometheus text format for /metrics (escaping, HELP and TYPE lines).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The coordinator's job history (SQLite): about 35 s of a first build on 2 cores.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // System libraries (Debian: libxxhash-dev, libyaml-dev).
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // zstd for chunks sent raw over a slow link (`wire_compression`).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Linked in its module map: pkg-config's -D_REENTRANT is a flag SwiftPM warns about.
        .systemLibrary(name: "CAvahi", providers: [.apt(["libavahi-client-dev"])]),
        .systemLibrary(name: "CCrypto", providers: [.apt(["libssl-dev"])]),
        // Typed wrappers for the C calls Swift cannot make (variadic syscall(2), curl_easy_setopt).
        .target(name: "CSoftcopyShims"),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),

        // The pure core: zarr model, readiness state machine, verdict, configuration. No I/O.
        .target(name: "SoftcopyCore", swiftSettings: swiftSettings),

        // Everything that talks to the kernel or a C library.
        .target(
            name: "SoftcopyIO",
            dependencies: [
                "SoftcopyCore", "CXXHash", "CYAML", "CCrypto", "CSoftcopyShims", "CZstd",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // HTTP both ways: a plain SwiftNIO server (chunk bytes and the small control API)
        // and a libcurl client that runs on threads of its own.
        .target(
            name: "SoftcopyHTTP",
            dependencies: [
                "SoftcopyCore", "SoftcopyIO", "CCurl", "CCurlShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // DNS-SD through avahi-daemon: agents advertise _softcopy._tcp, coordinators browse it.
        .target(
            name: "SoftcopyDiscovery",
            dependencies: ["CAvahi", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // The coordinator service: wires core and I/O together.
        .target(
            name: "SoftcopyCoordinator",
            dependencies: [
                // SoftcopyAgent: without agents, the coordinator copies through the agents' job, in process.
                "SoftcopyCore", "SoftcopyIO", "SoftcopyHTTP", "SoftcopyDiscovery", "SoftcopyAgent",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
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

        // The storage-node service: pulls leased work from coordinators, writes it under its root.
        .target(
            name: "SoftcopyAgent",
            dependencies: [
                "SoftcopyCore", "SoftcopyIO", "SoftcopyHTTP", "SoftcopyDiscovery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "softcopy-agent",
            dependencies: [
                "SoftcopyAgent", "SoftcopyCore", "SoftcopyIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // Test support shipped as a library: temp folders, the python writers, running the binaries,
        // and the coordinator and agents run inside the test process (InProcess/).
        .target(
            name: "SoftcopyTesting",
            dependencies: [
                "SoftcopyCore", "SoftcopyIO", "SoftcopyHTTP", "SoftcopyCoordinator", "SoftcopyAgent",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "SoftcopyCoreTests", dependencies: ["SoftcopyCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SoftcopyIOTests",
            dependencies: ["SoftcopyIO", "SoftcopyCore", "SoftcopyTesting"],
            swiftSettings: swiftSettings
        ),
        // Bounded, deterministic fuzzing of every parser of untrusted input.
        .testTarget(
            name: "FuzzTests",
            dependencies: ["SoftcopyCore", "SoftcopyIO", "SoftcopyHTTP", "SoftcopyTesting"],
            swiftSettings: swiftSettings
        ),
        // Coordinator and agents in one test process on loopback: no root, Python or Avahi.
        .testTarget(
            name: "InProcessTests",
            dependencies: [
                "SoftcopyCore", "SoftcopyIO", "SoftcopyHTTP", "SoftcopyCoordinator", "SoftcopyTesting",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["SoftcopyCore", "SoftcopyIO", "SoftcopyHTTP", "SoftcopyTesting"],
            swiftSettings: swiftSettings
        ),
    ]
)
