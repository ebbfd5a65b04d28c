// Helpers shared by every test file: where the fixtures are and how to read them, thrown-error
// capture, byte and hex helpers, descriptions made in memory, and a readable structural JSON
// comparison.

import CGLib
import CVMState
import Foundation
import Testing
import VMState

/// Paths shared by the tests: the package root and the fixtures committed under Tests/Fixtures
/// (outputs of real QEMU; nothing outside the checkout is read).
enum TestPaths {
    /// The package root, from this file's path (Tests/VMStateTests/TestSupport.swift).
    static let packageRoot: String = parent(of: "\(#filePath)", levels: 3)
    /// QEMU 7.2 streams (pc-reset, pc-bios), their analyze/vmdesc outputs and dump-vmstate-pc.json.
    static let qemuFixtures: String = packageRoot + "/Tests/Fixtures/qemu-7.2"
    /// The same outputs of QEMU 10.0.13 (Tests/Fixtures/qemu-10.0).
    static let qemu10Fixtures: String = packageRoot + "/Tests/Fixtures/qemu-10.0"
    /// Streams of the QEMU versions between and after 7.2 and 10.0 (Ubuntu's 8.2.2, 9.2.1 and
    /// 10.1.0) with what each one's analyze-migration.py prints (Tests/Fixtures/qemu-other).
    static let otherQEMUFixtures: String = packageRoot + "/Tests/Fixtures/qemu-other"
    static let otherQEMUStreams = ["qemu-8.2", "qemu-9.2", "qemu-10.1"]
    /// More QEMU 7.2 streams made with scripts/qemu/qemu-stream.py (Tests/Fixtures/streams).
    static let streams: String = packageRoot + "/Tests/Fixtures/streams"
    static let streamNames = [
        "q35", "q35-bios", "virtio-net", "virtio-blk", "e1000", "usb-xhci", "audio-hda", "user-net", "bg-snapshot",
    ]

    static func readBytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func readText(_ path: String) throws -> String {
        String(decoding: try readBytes(path), as: UTF8.self)
    }

    static func readJSON(_ path: String) throws -> JSONValue {
        try JSONValue(parsing: readBytes(path))
    }

    private static func parent(of path: String, levels: Int) -> String {
        var parts = path.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(levels)
        return parts.joined(separator: "/")
    }
}

/// The error of type `E` that `body` throws, or nil when it succeeds (an error of another type
/// is recorded as an issue).
func thrownError<E: Error>(_ type: E.Type, _ body: () throws -> Void) -> E? {
    do {
        try body()
        return nil
    } catch let error as E {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

// MARK: - Bytes

/// The raw bytes of a value (for C arrays imported as tuples).
func rawBytes<T>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

func be64(_ v: UInt64) -> [UInt8] { rawBytes(v.bigEndian) }
func be32(_ v: UInt32) -> [UInt8] { rawBytes(v.bigEndian) }

// MARK: - Descriptions in memory

/// A description `name`, version 1 (minimum 1), of `fields` (ended by an all-zero entry), kept
/// for the life of the process as a C table is (plans are kept by its address).
func processLifetimeDescription(
    _ name: String, fields: UnsafeMutablePointer<VMStateField>
) -> UnsafeMutablePointer<VMStateDescription> {
    let vmsd = UnsafeMutablePointer<VMStateDescription>.allocate(capacity: 1)
    vmsd.initialize(to: VMStateDescription())
    vmsd.pointee.name = UnsafePointer(g_strdup(name))
    vmsd.pointee.version_id = 1
    vmsd.pointee.minimum_version_id = 1
    vmsd.pointee.fields = UnsafePointer(fields)
    return vmsd
}

/// `v` in lowercase hexadecimal, zero-padded to `digits` digits.
func hex<T: BinaryInteger>(_ v: T, digits: Int) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, digits - s.count)) + s
}

// MARK: - JSON

extension JSONValue {
    /// Where `self` and `other` differ, as "path: this vs that" lines (empty when equal).
    func differences(from other: JSONValue, at path: String = "$") -> [String] {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            var out: [String] = []
            if a.keys != b.keys {
                out.append("\(path): keys \(a.keys) vs \(b.keys)")
            }
            for m in a {
                if let v = b[m.key] {
                    out += m.value.differences(from: v, at: "\(path).\(m.key)")
                }
            }
            return out
        case (.array(let a), .array(let b)):
            var out: [String] = []
            if a.count != b.count {
                out.append("\(path): \(a.count) items vs \(b.count)")
            }
            for i in 0..<min(a.count, b.count) {
                out += a[i].differences(from: b[i], at: "\(path)[\(i)]")
            }
            return out
        default:
            return self == other
                ? [] : ["\(path): \(formatted(.pythonCompact)) vs \(other.formatted(.pythonCompact))"]
        }
    }
}
