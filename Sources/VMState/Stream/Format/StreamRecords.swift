// The records of a migration stream outside the RAM section (docs/FORMAT.md §5, §10): the
// header, the configuration section, section headers, footers and command records. Each decoder
// reads the record after its type byte (the reader has read that byte to choose the decoder),
// except the header, which has none. Values are decoded, not judged: what a QEMU version accepts
// is in QEMUStreamRules and StreamRules, and each reader words its own errors.

/// The 8-byte stream header: be32 magic (`QEVM`), be32 format version (3; QEMU 7.2 to 10.0).
package struct StreamHeader: Sendable, Equatable {
    package var magic: UInt32
    /// Nil when the magic is not QEMU's: the decoder stops there (what follows is no stream's
    /// version), so 4 bytes of something else are reported as such, not as a cut header.
    package var version: UInt32?

    /// Whether the magic is QEMU's.
    package var isQEMU: Bool { magic == StreamFormat.magic }
    /// Whether the version is the one every supported QEMU writes.
    package var isSupportedVersion: Bool { version == StreamFormat.version }

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<StreamHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let magic = try c.be32(.magic)
                guard magic == StreamFormat.magic else { return StreamHeader(magic: magic, version: nil) }
                return StreamHeader(magic: magic, version: try c.be32(.formatVersion))
            }
        }
    }
}

/// The header of a START (0x01) or FULL (0x04) section, after the type byte: be32 section id,
/// idstr (byte length + bytes), be32 instance id, be32 version id.
package struct SectionHeader: Sendable, Equatable {
    package var sectionID: UInt32
    package var idstr: [UInt8]
    package var instanceID: UInt32
    package var versionID: UInt32

    /// The idstr as text (QEMU's are ASCII).
    package var name: String { String(decoding: idstr, as: UTF8.self) }

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<SectionHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let id = try c.be32(.sectionID)
                let idstr = try c.shortString(length: .idstrLength, .idstr)
                c.context = String(decoding: idstr, as: UTF8.self)
                let instanceID = try c.be32(.instanceID)
                c.instanceID = instanceID
                return SectionHeader(
                    sectionID: id, idstr: idstr, instanceID: instanceID, versionID: try c.be32(.versionID))
            }
        }
    }
}

/// The header of a PART (0x02) or END (0x03) section, after the type byte: be32 section id.
package struct SectionPartHeader: Sendable, Equatable {
    package var sectionID: UInt32

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<SectionPartHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                SectionPartHeader(sectionID: try c.be32(.sectionID))
            }
        }
    }
}

/// A section footer: byte 0x7e, be32 section id (QEMU `send-section-footer`; absent in
/// streams of `pc-i440fx-2.3` and older machine types). Decoded with its marker byte, which
/// ``isFooter`` checks.
package struct SectionFooter: Sendable, Equatable {
    package var marker: UInt8
    package var sectionID: UInt32

    /// Whether the marker is 0x7e.
    package var isFooter: Bool { marker == StreamFormat.footer }
    /// Whether this is the footer of section `id`.
    package func closes(_ id: UInt32) -> Bool { isFooter && sectionID == id }

    /// The footer of section `id` as the stream holds it: 0x7e, be32 section id (QEMU
    /// `save_section_footer`).
    package static func bytes(closing id: UInt32) -> [UInt8] {
        [StreamFormat.footer, UInt8(id >> 24), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)]
    }

    /// With the marker (the registry reads it as part of the section), or after it (the
    /// analyzer reads 0x7e as a record type).
    package struct Decoder: StreamRecordDecoder {
        package var includesMarker: Bool
        package init(includesMarker: Bool = true) { self.includesMarker = includesMarker }
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<SectionFooter> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let marker = includesMarker ? try c.u8(.footerMarker) : StreamFormat.footer
                return SectionFooter(marker: marker, sectionID: try c.be32(.footerSectionID))
            }
        }
    }
}

/// A command record (0x08), after the type byte: be16 command, be16 payload length. The
/// payload is not part of the record (every command a stream to a file may hold has length 0;
/// see ``QEMUStreamRules/commands(_:)``).
package struct CommandRecord: Sendable, Equatable {
    package var command: UInt16
    package var length: UInt16

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<CommandRecord> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                CommandRecord(command: try c.be16(.commandNumber), length: try c.be16(.commandLength))
            }
        }
    }
}

/// The configuration section (0x07) as QEMU 7.2 lays it out, after the type byte: be32 length
/// and the machine type; then ``ConfigurationSubsectionHeader``s (QEMU 8.2+ describe the same
/// bytes in the vmdesc's `"configuration"`).
package struct ConfigurationHeader: Sendable, Equatable {
    package var machineType: [UInt8]

    /// The machine type's length field (the registry refuses names over 255 bytes before
    /// reading them: ``lengthDecoder``).
    package struct LengthDecoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<UInt32> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                try c.be32(.machineTypeLength)
            }
        }
    }

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<ConfigurationHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let n = Int(try c.be32(.machineTypeLength))
                return ConfigurationHeader(machineType: try c.array(n, .machineType))
            }
        }
    }
}

/// A subsection header of the configuration section: 0x05, name (byte length + bytes), be32
/// version. What follows depends on the name (``ConfigurationSubsection``).
package struct ConfigurationSubsectionHeader: Sendable, Equatable {
    package var marker: UInt8
    package var name: String
    package var version: UInt32?

    /// Whether the marker is 0x05.
    package var isSubsection: Bool { marker == StreamFormat.subsection }

    /// The whole header, or (``withVersion`` false) the marker and name only, as the registry
    /// peeks them before deciding the subsection is the configuration's.
    package struct Decoder: StreamRecordDecoder {
        package var withVersion: Bool
        package init(withVersion: Bool = true) { self.withVersion = withVersion }
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<ConfigurationSubsectionHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let marker = try c.u8(.subsectionMarker)
                // Anything else ends the configuration: nothing more is read.
                guard marker == StreamFormat.subsection else {
                    return ConfigurationSubsectionHeader(marker: marker, name: "", version: nil)
                }
                let name = String(
                    decoding: try c.shortString(length: .subsectionNameLength, .subsectionName), as: UTF8.self)
                c.context = name
                let version = withVersion ? try c.be32(.subsectionVersion) : nil
                return ConfigurationSubsectionHeader(marker: marker, name: name, version: version)
            }
        }
    }
}

/// The configuration subsections QEMU writes (7.2 to 10.0: the same three), by name, with the
/// layout of their data.
package enum ConfigurationSubsection: Sendable, Equatable {
    /// `configuration/target-page-bits`: be32 (`target-page-bits` set by the machine).
    case targetPageBits
    /// `configuration/capabilities`: be32 count, then count names (byte length + bytes).
    case capabilities
    /// `configuration/uuid`: 16 bytes (`x-validate-uuid`).
    case uuid

    /// The subsection called `name`, nil for any other name.
    package init?(name: String) {
        switch name {
        case "configuration/target-page-bits": self = .targetPageBits
        case "configuration/capabilities": self = .capabilities
        case "configuration/uuid": self = .uuid
        default: return nil
        }
    }

    /// Its name in the stream.
    package var name: String {
        switch self {
        case .targetPageBits: "configuration/target-page-bits"
        case .capabilities: "configuration/capabilities"
        case .uuid: "configuration/uuid"
        }
    }

    /// The data's size when it is fixed (nil for the capability list).
    package var fixedSize: Int? {
        switch self {
        case .targetPageBits: 4
        case .uuid: 16
        case .capabilities: nil
        }
    }

    /// The target page size's bits (`configuration/target-page-bits`), a be32.
    package struct PageBitsDecoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<UInt32> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                try c.be32(.targetPageBits)
            }
        }
    }

    /// The capability list's count.
    package struct CountDecoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<UInt32> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                try c.be32(.capabilityCount)
            }
        }
    }

    /// One capability name of the list.
    package struct CapabilityDecoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<String> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                String(decoding: try c.shortString(length: .capabilityNameLength, .capabilityName), as: UTF8.self)
            }
        }
    }
}
