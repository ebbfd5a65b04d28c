import CFixtures
import CGLib
import CVMState
import Foundation
import Testing

@testable import VMState
import VMStateAnalysis

/// Real QEMU 7.2 streams (shared/fixtures) loaded into our C descriptions of pc devices.
@Suite struct RealStreamTests {
    /// A stream's own vmdesc device entries.
    static func vmdesc(_ stream: [UInt8]) throws -> VMDescIndex {
        let input = gbytes(stream)
        defer { g_bytes_unref(input) }
        var refusal: String?
        return try #require(VMDescIndex.find(in: MigrationFile(input: input), refusal: &refusal) { _, _ in true }).index
    }

    /// The data bytes of FULL section `idstr` (between its header and its footer), and its version.
    static func sectionData(_ stream: [UInt8], _ idstr: String) throws -> (bytes: [UInt8], version: Int32) {
        let registry = Registry()
        try registry.load(stream, options: .keepUnknown)
        for entry in registry.layout ?? [] {
            guard case .kept(let bytes, _) = entry, bytes[0] == 0x04 else { continue }
            let length = Int(bytes[5])
            guard String(decoding: bytes[6..<6 + length], as: UTF8.self) == idstr else { continue }
            let header = 6 + length + 8
            let version = Int32(bytes[header - 1]) | Int32(bytes[header - 2]) << 8
            return (Array(bytes[header..<bytes.count - 5]), version)
        }
        throw VMStateError(.unknownSection, reason: "no section \(idstr)")
    }

    /// "0x0f" / "00 01 02" strings of analyze.json as numbers / bytes.
    static func number(_ any: Any?) -> UInt64? {
        (any as? String).flatMap { UInt64($0.dropFirst(2).prefix { $0 != " " }, radix: 16) }
    }

    static func hexBytes(_ any: Any?) -> [UInt8] {
        ((any as? String) ?? "").split(separator: " ").compactMap { UInt8($0, radix: 16) }
    }

    static func analyze(_ name: String) throws -> [String: Any] {
        let data = Data(try TestPaths.readBytes(TestPaths.qemuFixtures + "/\(name)/analyze.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func section(_ analyze: [String: Any], _ idstr: String) throws -> [String: Any] {
        let key = try #require(analyze.keys.first { $0.hasPrefix(idstr + " (") })
        return try #require(analyze[key] as? [String: Any])
    }

    @Test func rtcSectionLoadsQEMUsValuesAndSavesTheSameBytes() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let (data, version) = try Self.sectionData(stream, "mc146818rtc")
        #expect(version == 3)
        let vmsd = try #require(pc_device_vmsd_named("mc146818rtc"))
        let rtc = try #require(pc_device_state_new(vmsd)).assumingMemoryBound(to: PcRTCState.self)
        defer { g_free(rtc) }
        try VMStateEngine.load(vmsd, opaque: rtc, version: version, from: data)

        let expected = try Self.section(try Self.analyze("pc-bios"), "mc146818rtc")
        let cmos = rawBytes(rtc.pointee.cmos_data)
        #expect(cmos == Self.hexBytes(expected["cmos_data"]))
        #expect(cmos[0x0B] == 0x02 && cmos[0x32] == 0x20)
        #expect(UInt64(rtc.pointee.cmos_index) == Self.number(expected["cmos_index"]))
        #expect(rtc.pointee.base_rtc == 0x6b09_1bcc && rtc.pointee.base_rtc == Self.number(expected["base_rtc"]))
        #expect(rtc.pointee.last_update == 0x18eb_d158_195e_c0d0)
        #expect(rtc.pointee.next_alarm_time == Self.number(expected["next_alarm_time"]))
        #expect(rtc.pointee.periodic_timer.pointee.expire_time == -1)
        #expect(rtc.pointee.update_timer.pointee.expire_time == 0x18ec_0c69_fbd6_c8d0)
        #expect(UInt64(rtc.pointee.period) == Self.number(expected["period"]))

        #expect(try VMStateEngine.save(vmsd, opaque: rtc) == data)
    }

    @Test func pitSectionLoadsQEMUsValuesAndSavesTheSameBytes() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/pc-bios/stream.bin")
        let (data, version) = try Self.sectionData(stream, "i8254")
        let vmsd = try #require(pc_device_vmsd_named("i8254"))
        let pit = try #require(pc_device_state_new(vmsd)).assumingMemoryBound(to: PcPITState.self)
        defer { g_free(pit) }
        try VMStateEngine.load(vmsd, opaque: pit, version: version, from: data)

        let expected = try Self.section(try Self.analyze("pc-bios"), "i8254")
        let channels = try #require(expected["channels"] as? [[String: Any]])
        let loaded = withUnsafeBytes(of: pit.pointee.channels) { raw in
            (0..<3).map {
                raw.load(fromByteOffset: $0 * MemoryLayout<PcPITChannelState>.stride, as: PcPITChannelState.self)
            }
        }
        for (i, channel) in loaded.enumerated() {
            #expect(UInt64(UInt32(bitPattern: channel.count)) == Self.number(channels[i]["count"]), "channel \(i)")
            #expect(UInt64(channel.mode) == Self.number(channels[i]["mode"]), "channel \(i)")
            #expect(UInt64(channel.rw_mode) == Self.number(channels[i]["rw_mode"]), "channel \(i)")
            #expect(UInt64(channel.gate) == Self.number(channels[i]["gate"]), "channel \(i)")
            #expect(UInt64(bitPattern: channel.count_load_time) == Self.number(channels[i]["count_load_time"]))
            #expect(
                UInt64(bitPattern: channel.next_transition_time) == Self.number(channels[i]["next_transition_time"]))
        }
        #expect(loaded[0].count == 0x10000 && loaded[0].mode == 2 && loaded[1].mode == 3)
        #expect(UInt64(loaded[0].irq_disabled) == Self.number(expected["channels[0].irq_disabled"]))

        #expect(try VMStateEngine.save(vmsd, opaque: pit) == data)
    }

    /// Every device of the stream we have a description for, registered by the stream's vmdesc.
    final class PCMachine {
        let registry = Registry()
        var states:
            [(idstr: String, instance: UInt32, vmsd: UnsafePointer<VMStateDescription>, state: UnsafeMutableRawPointer)] =
                []

        /// `skip`: idstrs left unregistered.
        init(stream: [UInt8], skip: Set<String> = []) throws {
            for entry in try RealStreamTests.vmdesc(stream).entries where !skip.contains(entry.name) {
                guard let text = entry.json, let json = String(bytes: text, encoding: .utf8),
                    let range = json.range(of: #""vmsd_name": ""#)
                else { continue }
                let vmsdName = String(json[range.upperBound...].prefix { $0 != "\"" })
                guard let vmsd = pc_device_vmsd_named(vmsdName), let state = pc_device_state_new(vmsd) else { continue }
                try registry.add(
                    idstr: entry.name, instanceID: entry.instanceID, vmsd: vmsd, opaque: state,
                    size: pc_device_state_size(vmsd))
                states.append((entry.name, entry.instanceID, vmsd, state))
            }
        }

        deinit { for s in states { g_free(s.state) } }
    }

    @Test(arguments: ["pc-reset", "pc-bios"])
    func wholeStreamLoadsIntoPCDevicesAndSavesByteForByte(_ name: String) throws {
        let stream = try TestPaths.readBytes(TestPaths.qemuFixtures + "/\(name)/stream.bin")
        let machine = try PCMachine(stream: stream)
        #expect(machine.states.count >= 20)
        for required in [
            "mc146818rtc", "i8254", "i8259", "port92", "pcspk", "hpet", "ioapic", "fw_cfg",
            "ps2kbd", "ps2mouse", "pckbd", "dma", "timer", "globalstate",
        ] {
            #expect(
                machine.states.contains { $0.idstr == required || $0.idstr.hasSuffix("/" + required) }, "\(required)")
        }
        try machine.registry.load(stream, options: .keepUnknown)
        let kept = (machine.registry.layout ?? []).filter { if case .kept = $0 { true } else { false } }.count
        let loaded = (machine.registry.layout ?? []).filter { if case .device = $0 { true } else { false } }.count
        #expect(loaded == machine.states.count)
        #expect(kept >= 3)  // the RAM parts at least
        #expect(try machine.registry.save() == stream)
    }

    /// Every value our devices hold after the load, written out by our save with our vmdesc and
    /// read back by the analyzer, equals what QEMU's analyze-migration.py printed for the stream.
    /// The shared fixtures and the streams committed under Tests/Fixtures/streams.
    /// (q35 streams are covered by `q35StreamIsRefusedByAnI440FXConfiguredBus`: our fixture
    /// devices are configured as a pc-i440fx machine's.)
    static let allStreams = ["pc-reset", "pc-bios", "virtio-net", "virtio-blk", "e1000", "usb-xhci", "audio-hda"]

    @Test func q35StreamIsRefusedByAnI440FXConfiguredBus() throws {
        let stream = try TestPaths.readBytes(Self.streamDirectory("q35") + "/stream.bin")
        let machine = try PCMachine(stream: stream)
        #expect {
            try machine.registry.load(stream, options: .keepUnknown)
        } throws: { error in
            let e = error as! VMStateError
            // The PCI bus's VMSTATE_INT32_EQUAL(nirq): q35 has 8 PCI IRQs, i440fx 4.
            return e.kind == .mismatch && e.path == "PCIBUS/nirq" && e.expected == "0x00000004"
                && e.actual == "0x00000008" && e.reason.contains("section \"PCIBUS\" instance 0")
        }
    }

    static func streamDirectory(_ name: String) -> String {
        (name.hasPrefix("pc-") ? TestPaths.qemuFixtures : TestPaths.streams) + "/" + name
    }

    @Test(arguments: allStreams)
    func otherMachinesAndDevicesRoundTripByteForByte(_ name: String) throws {
        let stream = try TestPaths.readBytes(Self.streamDirectory(name) + "/stream.bin")
        let machine = try PCMachine(stream: stream)
        #expect(machine.states.count >= 10, "devices we describe in \(name)")
        try machine.registry.load(stream, options: .keepUnknown)
        #expect(try machine.registry.save() == stream)
    }

    @Test(arguments: allStreams)
    func loadedValuesEqualAnalyzeJSON(_ name: String) throws {
        let stream = try TestPaths.readBytes(Self.streamDirectory(name) + "/stream.bin")
        let machine = try PCMachine(stream: stream)
        // The RAM and the devices we do not describe are kept (RAM is never skipped) and left
        // out of the comparison: only our devices, at their stream section ids, described by
        // our own tables.
        try machine.registry.load(stream, options: .keepUnknown)
        let ours = try StreamAnalysis(
            bytes: StreamBytes(try machine.registry.save()), options: .init(recordPages: false))
        let expectedText = try TestPaths.readText(Self.streamDirectory(name) + "/analyze.json")
        let expected = try #require(try JSONValue(parsing: expectedText).objectValue)
        let ourIdstrs = Set(machine.states.map(\.idstr))
        let actual = try #require(ours.stateJSON.objectValue).members.filter { member in
            ourIdstrs.contains(String(member.key[..<(member.key.lastIndex(of: " ") ?? member.key.endIndex)]))
        }
        #expect(actual.count == machine.states.count)
        for member in actual {
            let qemu = try #require(expected[member.key], "QEMU's analyze.json has no section \(member.key)")
            #expect(member.value == qemu, "section \(member.key)")
        }
    }
}
