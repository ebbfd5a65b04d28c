import Foundation
import Testing
import VMState
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// A machine of thousands of vCPUs: QEMU 10.0 writes three device sections per x86 vCPU
/// (`cpu_common`, `cpu`, `apic`) and describes each in its vmdesc, about 6 KB of JSON per vCPU
/// under TCG (7.5 KB under KVM), so a 2,048-vCPU stream carries a 12 MB vmdesc: more than the
/// last 10 MiB where QEMU's analyze-migration.py looks for it, and, held once per vCPU, about
/// 80 MB of parsed JSON. The stream here is QEMU 10.0's q35-bios fixture (one vCPU) with its
/// vCPU's three sections and their vmdesc entries repeated for instances 1 to 2,047 (new section
/// ids, the same state), as QEMU writes them for a machine of that many vCPUs in the same state.
/// `vmstate analyze` (also `--tree`, `--desc` and `-x`) reads it in under 64 MiB, `diff` and
/// `compat` (two streams) in under 96 MiB, and each prints for every new vCPU exactly what it
/// prints for vCPU 0.
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct ManyCPUStreamTests {
    static let vcpus = 2048
    static let perCPUSections = ["cpu_common", "cpu", "apic"]
    static let fixture = TestPaths.qemu10Fixtures + "/q35-bios"

    /// The q35-bios stream grown to `vcpus` vCPUs (see the suite), written to `path`; returns
    /// the length of its vmdesc JSON.
    static func writeStream(_ path: String) throws -> Int {
        let original = try TestPaths.readBytes(fixture + "/stream.bin")
        let analysis = try StreamAnalysis(bytes: StreamBytes(original))
        var added: [UInt8] = []
        var nextID = try #require(analysis.sections.map(\.sectionID).max()) + 1
        for instance in 1..<UInt32(vcpus) {
            for name in perCPUSections {
                let s = try #require(analysis.sections.first { $0.name == name && $0.instanceID == 0 })
                // FULL, section id, idstr, instance id, version, the data, the footer.
                let dataStart = s.offset + 1 + 4 + 1 + name.utf8.count + 4 + 4
                added.append(0x04)
                added += bigEndian(nextID)
                added.append(UInt8(name.utf8.count))
                added += Array(name.utf8)
                added += bigEndian(instance) + bigEndian(s.version)
                added += original[dataStart..<s.endOffset]
                added.append(0x7E)
                added += bigEndian(nextID)
                nextID += 1
            }
        }
        guard case .object(var root) = try TestPaths.readJSON(fixture + "/vmdesc.json"),
            case .array(var devices) = root["devices"]
        else {
            Issue.record("the fixture's vmdesc is not an object with a devices list")
            return 0
        }
        let templates = try perCPUSections.map { name in
            try #require(
                devices.compactMap(\.objectValue).first {
                    $0["name"]?.stringValue == name && $0["instance_id"]?.intValue == 0
                })
        }
        for instance in 1..<vcpus {
            for var entry in templates {
                entry["instance_id"] = .number(JSONNumber(Int64(instance)))
                devices.append(.object(entry))
            }
        }
        root["devices"] = .array(devices)
        let json = Array(JSONValue.object(root).formatted(.pythonCompact).utf8)
        let stream =
            original[..<analysis.endOffset] + added + [0x00, 0x06] + bigEndian(UInt32(json.count)) + json
        try writeFile(path, Array(stream))
        return json.count
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw StreamFileError(path: path, operation: "open", reason: "\(errno)") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
    }

    /// `vmstate ARGS` with its stdout, under the large-stream tests' limits (256 MiB of address
    /// space), its peak resident memory under `limitMiB`.
    static func runBounded(_ args: [String], limitMiB: Int = 64) throws -> (
        status: Int32, stdout: [UInt8], stderr: String
    ) {
        var out: [UInt8] = []
        let r = try AnalyzeLargeStreamTests.runStreaming(kib: 256 << 10, args) { chunk in
            out += chunk
            return true
        }
        let result = (r.status, out, String(decoding: r.stderr, as: UTF8.self))
        #expect(r.samples > 0 && r.maxRSSKiB < limitMiB << 10, "\(args): \(r.maxRSSKiB) KiB")
        return result
    }

    @Test func aMachineOf2048VCPUsIsReadInBoundedMemory() throws {
        let path = "\(temporaryDirectoryPath())/vmstate-many-cpus-\(getpid()).bin"
        defer { unlink(path) }
        let vmdescLength = try Self.writeStream(path)
        #expect(vmdescLength > 10 << 20)

        // analyze: the fixture's own output (QEMU 10.0's script), then each new section as
        // vCPU 0's under its own key, in stream order.
        let analyze = try Self.runBounded(["analyze", path])
        #expect(analyze.status == 0)
        #expect(analyze.stderr.isEmpty)
        let printed = try #require(try JSONValue(parsing: analyze.stdout).objectValue)
        let expected = try #require(try TestPaths.readJSON(Self.fixture + "/analyze.json").objectValue)
        #expect(printed.count == expected.count + 3 * (Self.vcpus - 1))
        #expect(Array(printed.members.prefix(expected.count)) == expected.members)
        let analysis = try StreamAnalysis(path: Self.fixture + "/stream.bin")
        var nextID = try #require(analysis.sections.map(\.sectionID).max()) + 1
        var index = expected.count
        for _ in 1..<Self.vcpus {
            for name in Self.perCPUSections {
                let first = try #require(analysis.sections.first { $0.name == name && $0.instanceID == 0 })
                let member = printed.members[index]
                #expect(member.key == "\(name) (\(nextID))")
                #expect(member.value == expected["\(name) (\(first.sectionID))"])
                index += 1
                nextID += 1
            }
        }

        // --tree: every section, each new vCPU's fields as vCPU 0's.
        let tree = try Self.runBounded(["analyze", "--tree", path])
        #expect(tree.status == 0)
        let text = String(decoding: tree.stdout, as: UTF8.self)
        let sectionCount = analysis.sections.count + 3 * (Self.vcpus - 1)
        #expect(text.contains("\n\(sectionCount) sections, end of stream at "))
        let blocks = text.components(separatedBy: "\n\n")
        func fields(_ name: String, instance: Int) throws -> String {
            let block = try #require(
                blocks.first { $0.hasPrefix("\(name) (section ") && $0.contains(", instance \(instance), ") })
            // (The head line gives the section's offset; the last section's block ends the text.)
            var lines = String(block.drop { $0 != "\n" })
            while lines.hasSuffix("\n") { lines.removeLast() }
            return lines
        }
        for name in Self.perCPUSections {
            #expect(try fields(name, instance: Self.vcpus - 1) == fields(name, instance: 0))
        }

        // --desc: the vmdesc as written (its 6,144 device entries).
        let desc = try Self.runBounded(["analyze", "--desc", path])
        #expect(desc.status == 0)
        let devices = try #require(try JSONValue(parsing: desc.stdout).objectValue?["devices"]?.arrayValue)
        let fixtureDevices = try #require(
            try TestPaths.readJSON(Self.fixture + "/vmdesc.json").objectValue?["devices"]?.arrayValue)
        #expect(devices.count == fixtureDevices.count + 3 * (Self.vcpus - 1))
        #expect(Array(devices.prefix(fixtureDevices.count)) == fixtureDevices)
        #expect(devices.last?.objectValue?["instance_id"]?.intValue == Self.vcpus - 1)

        // -x: desc.json is --desc's text (without the final newline), written as it is made
        // (46 MB of it here; it was made whole in memory, 122 MB, before), then the RAM block
        // files and state.json.
        let directory = "\(temporaryDirectoryPath())/vmstate-many-cpus-\(getpid())-x"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let extract = try Self.runBounded(["analyze", "-x", "--directory", directory, path])
        #expect(extract.status == 0)
        #expect(extract.stderr.isEmpty)
        #expect(try TestPaths.readBytes(directory + "/desc.json") + [0x0A] == desc.stdout)
        let state = try #require(try TestPaths.readJSON(directory + "/state.json").objectValue)
        #expect(state.count == printed.count)
        #expect(state.members.last?.key == printed.members.last?.key)

        // diff and compat read two streams and hold both vmdescs (compat: each side's
        // descriptions in two forms besides): 57 and 60 MB measured in release builds.
        let diff = try Self.runBounded(["diff", path, path], limitMiB: 96)
        #expect(diff.status == 0)
        #expect(String(decoding: diff.stdout, as: UTF8.self) == "streams are equal\n")

        let compat = try Self.runBounded(["compat", path, path], limitMiB: 96)
        #expect(compat.status == 0)
        #expect(
            String(decoding: compat.stdout, as: UTF8.self).hasSuffix("compatible: state saved by OLD loads into NEW\n"))
    }
}
