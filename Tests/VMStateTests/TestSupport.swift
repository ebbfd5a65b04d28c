import Foundation

/// Paths shared by the tests: the package root and the shared fixtures beside the checkout.
enum TestPaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared: URL = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let qemuFixtures: URL = shared.appendingPathComponent("fixtures/qemu-7.2")

    static func fixtureBytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: qemuFixtures.appendingPathComponent(relative)))
    }
}
