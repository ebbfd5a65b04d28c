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
        // The engine, the stream registry and the exported C functions, in Swift.
        .target(
            name: "VMState",
            dependencies: ["CVMState", "CGLib"]
        ),
        .executableTarget(
            name: "VMStateTool",
            dependencies: [
                "VMState", "CVMState",
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
            dependencies: ["VMState", "CFixtures", "CVMState"]
        ),
    ]
)
