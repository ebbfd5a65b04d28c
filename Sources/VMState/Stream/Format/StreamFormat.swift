/// The byte values of QEMU 7.2's stream format (docs/FORMAT.md §5): the one list, read by the
/// registry, the RAM codec and the analyzer.
package enum StreamFormat {
    package static let magic: UInt32 = 0x5145_564d  // "QEVM"
    /// The be32 that starts each of QEMU's multifd channels (MULTIFD_MAGIC, migration/multifd.c
    /// of 7.2 and 10.0): the first field of the channel's initial packet, not a stream.
    package static let multifdMagic: UInt32 = 0x1122_3344
    package static let version: UInt32 = 3
    package static let eof: UInt8 = 0x00
    package static let sectionStart: UInt8 = 0x01
    package static let sectionPart: UInt8 = 0x02
    package static let sectionEnd: UInt8 = 0x03
    package static let sectionFull: UInt8 = 0x04
    package static let subsection: UInt8 = 0x05
    package static let vmdesc: UInt8 = 0x06
    package static let configuration: UInt8 = 0x07
    package static let command: UInt8 = 0x08
    package static let footer: UInt8 = 0x7e
    /// The record types that may follow a section's footer besides EOF: another section's
    /// START, PART, END or FULL, or a command.
    package static let sectionTypes: Set<UInt8> = [sectionStart, sectionPart, sectionEnd, sectionFull, command]
    package static let pageSize = 4096

    /// The flags in the low bits of a RAM record's be64 word.
    package enum RAMFlag {
        package static let zero: UInt64 = 0x02
        package static let memSize: UInt64 = 0x04
        package static let page: UInt64 = 0x08
        package static let eos: UInt64 = 0x10
        package static let continuePage: UInt64 = 0x20
        package static let xbzrle: UInt64 = 0x40
        package static let hook: UInt64 = 0x80
        package static let compressPage: UInt64 = 0x100
        /// MULTIFD_FLUSH: bare records in streams of QEMU 8.1.0–8.1.2, even without multifd.
        package static let multifdFlush: UInt64 = 0x200
    }
}
