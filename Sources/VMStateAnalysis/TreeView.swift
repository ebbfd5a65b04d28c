import VMState
// A readable, indented text view of a StreamAnalysis (`vmstate analyze --tree`).
//
//   timer (section 0, instance 0, version 2)  vmsd "timer" v2  @0x55b40 +28
//       cpu_ticks_offset  int64          0x000000009ae27228 = 2598531624
//       unused            unused_buffer  00 00 00 00 00 00 00 00
//       env.regs          uint64[16]
//           [0]  0x0000000000000000 = 0
//
// Integers show hex and decimal (signed types as signed); byte buffers longer than 16 bytes
// become hex dump lines; arrays of one-byte integers are dumped the same way.

/// The indented human-readable view of `vmstate analyze --tree`.
public struct TreeView: Sendable {
    /// Show at most this many bytes of a buffer (0: all).
    public var maxBytes: Int
    /// Spaces per nesting level.
    public var indentWidth = 4

    /// A view showing at most `maxBytes` bytes of each buffer (0: all).
    public init(maxBytes: Int = 64) {
        self.maxBytes = maxBytes
    }

    /// The whole view as one string. Throws `StreamAnalysisError` when a device section read
    /// without keeping its fields (``StreamAnalysis/unkeptDeviceSections``) no longer reads as
    /// it did (the stream's file changed meanwhile).
    public func text(_ analysis: StreamAnalysis) throws(StreamAnalysisError) -> String {
        var out = ""
        try render(analysis) { out += $0 }
        return out
    }

    /// Renders the view, handing text to `write` in pieces. Throws as ``text(_:)`` does.
    public func render(_ analysis: StreamAnalysis, write: (String) -> Void) throws(StreamAnalysisError) {
        try render(analysis, stoppedBy: nil, write: write)
    }

    /// The same for an analysis that stopped at `failure` (``StreamAnalysis/init(readingAsFarAsPossible:options:failure:)``):
    /// the sections read whole before it, and where reading stopped instead of the end of the
    /// stream. The caller reports `failure` itself. Device sections read without keeping their
    /// fields are read again, one at a time, as they are shown.
    package func render(_ analysis: StreamAnalysis, stoppedBy failure: StreamAnalysisError?, write: (String) -> Void)
        throws(StreamAnalysisError)
    {
        try withoutActuallyEscaping(write) { (write) throws(StreamAnalysisError) in
            var lines = Lines(write: write)
            defer { lines.flush() }
            try render(analysis, stoppedBy: failure, into: &lines)
        }
    }

    /// Lines of the view, handed to `write` in pieces of about 64 KiB as they are made: a dump
    /// of a 32 MiB buffer (`--max-bytes 0`) is 2 Mi lines, which are never all held at once.
    private struct Lines {
        var text = ""
        let write: (String) -> Void

        mutating func append(_ line: String) {
            text += line
            text += "\n"
            if text.utf8.count >= 1 << 16 { flush() }
        }

        mutating func flush() {
            if !text.isEmpty {
                write(text)
                text.removeAll(keepingCapacity: true)
            }
        }
    }

    private func render(_ analysis: StreamAnalysis, stoppedBy failure: StreamAnalysisError?, into lines: inout Lines)
        throws(StreamAnalysisError)
    {
        lines.append("QEMU migration stream \(analysis.bytes.origin): format version 3, \(analysis.bytes.count) bytes")
        if let m = analysis.machineType {
            lines.append("machine type: \(m)")
        } else if analysis.hasConfiguration {
            lines.append("machine type: unread (the configuration section is cut short or corrupt: the error follows)")
        } else {
            lines.append(
                "machine type: not sent (no configuration section: a machine type up to 2.3, or -global migration.send-configuration=off)"
            )
        }
        if let u = analysis.uuidString { lines.append("VM UUID: \(u) (capability validate-uuid)") }
        if !analysis.capabilities.isEmpty {
            lines.append("capabilities: \(analysis.capabilities.joined(separator: ", "))")
        }
        if analysis.footersTurnedOff && failure == nil {
            lines.append("section footers: none (saved with -global migration.send-section-footer=off)")
        }
        var desc = "page size: \(analysis.pageSize)"
        if let bits = analysis.targetPageBits { desc += " (configuration/target-page-bits \(bits))" }
        if let loc = analysis.vmdescLocation {
            desc += ", vmdesc at offset \(analysisHexOffset(loc.markerOffset)) (\(loc.jsonLength) bytes of JSON)"
        } else {
            desc += ", vmdesc supplied separately"
        }
        lines.append(desc)
        if let failure {
            lines.append(
                "\(analysis.sections.count) section\(analysis.sections.count == 1 ? "" : "s") read, then reading stopped at \(analysisHexOffset(failure.offset)) (the error follows on stderr)"
            )
        } else {
            lines.append(
                "\(analysis.sections.count) sections, end of stream at \(analysisHexOffset(analysis.endOffset))")
        }
        let rereader = try analysis.makeDeviceSectionRereader()
        for (i, section) in analysis.sections.enumerated() {
            lines.append("")
            var head =
                "\(section.name) (section \(section.sectionID), instance \(section.instanceID), version \(section.version))"
            switch section.content {
            case .device(let kept):
                let record = try analysis.deviceRecord(at: i, reader: rereader) ?? kept
                if let n = record.vmsdName {
                    head += "  vmsd \"\(n)\"" + (record.version.map { " v\($0)" } ?? "")
                }
                head += "  @\(analysisHexOffset(section.offset)) +\(section.endOffset - section.offset)"
                lines.append(head)
                renderRecord(
                    record, depth: 1,
                    virtioDevice: PCIConfigSpace.isPCIPath(section.name)
                        ? VirtioFeatures.deviceName(section.name) : nil,
                    into: &lines)
            case .ram(let ram):
                head += "  @\(analysisHexOffset(section.offset))"
                lines.append(head)
                renderRAM(ram, into: &lines)
            case .htab:
                lines.append(head + "  (hash page table, not shown)")
            case .storageAttributes:
                lines.append(head + "  (s390 storage attributes, not shown)")
            }
        }
    }

    private func pad(_ depth: Int) -> String { String(repeating: " ", count: depth * indentWidth) }

    private func renderRAM(_ ram: RAMSection, into lines: inout Lines) {
        let p = pad(1)
        if let total = ram.totalSize {
            lines.append("\(p)blocks (total 0x\(analysisHex(total, width: 16)), \(analysisHumanSize(total))):")
        } else {
            lines.append("\(p)blocks:")
        }
        let width = min(40, ram.blocks.map(\.name.count).max() ?? 0)
        for b in ram.blocks {
            lines.append(
                "\(pad(2))\(padded(b.name, width))  0x\(analysisHex(b.length, width: 16))  \(analysisHumanSize(b.length))"
            )
        }
        let filled = ram.pageCount - ram.dataPageCount - ram.xbzrlePageCount
        let compressed = ram.compressedPageCount > 0 ? " (\(ram.compressedPageCount) compressed)" : ""
        let xbzrle = ram.xbzrlePageCount > 0 ? ", \(ram.xbzrlePageCount) XBZRLE" : ""
        lines.append(
            "\(p)pages: \(ram.pageCount) records, \(ram.dataPageCount) with data\(compressed)\(xbzrle), \(filled) filled"
        )
    }

    /// `virtioDevice`: the device's name when the record is a PCI device's section (an idstr
    /// with a PCI path), whose `virtio` fields are virtio-pci's: the guest's negotiated
    /// features follow the bytes (``VirtioFeatures``).
    private func renderRecord(
        _ record: FieldRecord, depth: Int, virtioDevice: String? = nil, into lines: inout Lines
    ) {
        let width = min(32, record.members.map(\.name.count).max() ?? 0)
        let typeWidth = min(24, record.members.map { typeLabel($0).count }.max() ?? 0)
        for m in record.members {
            let label = pad(depth) + padded(m.name, width) + "  "
            let type = typeLabel(m)
            switch m.value {
            case .record(let r):
                var line = label + type
                if let n = r.vmsdName, m.type != "subsection" { line += " \"\(n)\"" }
                if m.type == "subsection", let v = r.version { line += " v\(v)" }
                lines.append(line)
                renderRecord(r, depth: depth + 1, virtioDevice: virtioDevice, into: &lines)
            case .list(let items):
                lines.append(label + type)
                renderList(items, depth: depth + 1, into: &lines)
            case .bytes(let b) where b.count > 16:
                lines.append(label + type)
                hexDump(b, depth: depth + 1, into: &lines)
                if let device = virtioDevice, m.type == "virtio", let d = VirtioFeatures.decode(b) {
                    let features = d.all ?? UInt64(d.lowHalf)
                    var note = ""
                    if !d.subsectionsRead {
                        note = " (the low half: the field does not end in the virtio subsections QEMU 7.2 to 10.0 save)"
                    } else if d.all == nil {
                        note = " (the low half: no virtio/64bit_features)"
                    } else if features & 0xFFFF_FFFF != UInt64(d.lowHalf) {
                        note =
                            " (virtio/64bit_features; the low half saved before the device's state is 0x"
                            + String(d.lowHalf, radix: 16)
                            + ", which QEMU checks instead when its device offers no feature above bit 31)"
                    }
                    lines.append(
                        pad(depth + 1) + "guest features: 0x" + String(features, radix: 16) + note
                            + (features == 0 ? "" : ": " + VirtioFeatures.described(features, device: device)))
                }
            default:
                lines.append(label + padded(type, typeWidth) + "  " + leaf(m.value))
            }
        }
    }

    private func renderList(_ items: [FieldValue], depth: Int, into lines: inout Lines) {
        // Arrays of single bytes read best as a dump.
        let allBytes = items.allSatisfy {
            if case .integer(let b, _) = $0 { return b.count == 1 }
            return false
        }
        if allBytes && items.count > 4 {
            hexDump(
                items.map { if case .integer(let b, _) = $0 { return b[0] } else { return 0 } }, depth: depth,
                into: &lines)
            return
        }
        let width = "[\(max(items.count - 1, 0))]".count
        for (i, item) in items.enumerated() {
            let label = pad(depth) + padded("[\(i)]", width) + "  "
            switch item {
            case .record(let r):
                lines.append(label + (r.vmsdName.map { "\"\($0)\"" } ?? "struct"))
                renderRecord(r, depth: depth + 1, into: &lines)
            case .list(let inner):
                lines.append(label + "array[\(inner.count)]")
                renderList(inner, depth: depth + 1, into: &lines)
            case .bytes(let b) where b.count > 16:
                lines.append(label + "\(b.count) bytes")
                hexDump(b, depth: depth + 1, into: &lines)
            default:
                lines.append(label + leaf(item))
            }
        }
    }

    private func typeLabel(_ m: FieldRecord.Member) -> String {
        switch m.value {
        case .list(let items):
            return "\(m.type)[\(items.count)]"
        case .bytes(let b):
            return m.type == "buffer" || m.type == "unused_buffer" || b.count != 8
                ? "\(m.type) (\(b.count) bytes)" : m.type
        default:
            return m.type
        }
    }

    private func leaf(_ v: FieldValue) -> String {
        switch v {
        case .integer:
            let hex = v.displayString
            if let dec = v.decimalString, !hex.contains(" (") {
                return hex + " = " + dec
            }
            return hex
        case .bool(let b):
            return b ? "true" : "false"
        case .bytes(let b):
            return b.isEmpty ? "(empty)" : v.displayString
        default:
            return v.displayString
        }
    }

    private func hexDump(_ bytes: [UInt8], depth: Int, into lines: inout Lines) {
        let shown = maxBytes > 0 ? min(bytes.count, maxBytes) : bytes.count
        let offsetWidth = max(4, String(max(bytes.count - 1, 0), radix: 16).count)
        var i = 0
        while i < shown {
            let end = min(i + 16, shown)
            let row = bytes[i..<end].map { analysisHex(UInt64($0), width: 2) }.joined(separator: " ")
            lines.append(pad(depth) + analysisHex(UInt64(i), width: offsetWidth) + ": " + row)
            i = end
        }
        if shown < bytes.count {
            lines.append(pad(depth) + "... \(bytes.count - shown) more bytes (\(bytes.count) in all)")
        }
    }
}

private func padded(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

func analysisHexOffset(_ v: Int) -> String { "0x" + String(v, radix: 16) }

func analysisHumanSize(_ v: UInt64) -> String {
    if v >= 1 << 30 && v % (1 << 30) == 0 { return "\(v >> 30) GiB" }
    if v >= 1 << 20 && v % (1 << 20) == 0 { return "\(v >> 20) MiB" }
    if v >= 1 << 10 && v % (1 << 10) == 0 { return "\(v >> 10) KiB" }
    return "\(v) bytes"
}
