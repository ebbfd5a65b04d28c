// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-vmstate",
    products: [
        // The library C emulators link (libswiftvmstate.so): engine, QEMU-named C symbols, registry.
        .library(name: "swiftvmstate", type: .dynamic, targets: ["VMState"]),
        // The same library for Swift packages.
        .library(name: "VMState", targets: ["VMState"]),
        .executable(name: "vmstate", targets: ["VMStateTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .systemLibrary(
            name: "CGLib",
            pkgConfig: "gio-2.0",
            providers: [.apt(["libglib2.0-dev"])]
        ),
        // The C face: QEMU-compatible headers in include/, the standard VMStateInfo instances.
        .target(
            name: "CVMState",
            dependencies: ["CGLib"],
            path: ".",
            sources: ["CShim"],
            publicHeadersPath: "include"
        ),
        // The engine, I/O, the stream registry, the schema dump and the exported C functions,
        // in Swift: everything libswiftvmstate.so holds.
        .target(
            name: "VMState",
            dependencies: ["CVMState", "CGLib"]
        ),
        // The stream analyzer, diff and compat checker behind the `vmstate` tool (not linked by
        // C emulators).
        .target(
            name: "VMStateAnalysis",
            dependencies: ["VMState", "CVMState", "CGLib"]
        ),
        .executableTarget(
            name: "VMStateTool",
            dependencies: [
                "VMState", "VMStateAnalysis", "CVMState",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Test-only C devices described with the VMSTATE_* macros.
        .target(
            name: "CFixtures",
            dependencies: ["CVMState"],
            path: "Tests/CFixtures"
        ),
        .testTarget(
            name: "VMStateTests",
            dependencies: ["VMState", "VMStateAnalysis", "CFixtures", "CVMState"]
        ),
    ]
)
