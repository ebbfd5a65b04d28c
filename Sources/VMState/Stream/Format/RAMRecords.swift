// The records of the "ram" section, version 4 (docs/FORMAT.md §6, §10): each starts with a
// be64 word, the page-aligned address (or, with MEM_SIZE, the total RAM size) OR'ed with the
// flags in the low bits. A MEM_SIZE word is followed by the block list (``RAMBlockEntry`` until
// the lengths add up to the total); a ZERO or PAGE word without CONTINUE by the block's name.
// Page bytes are not records: the readers copy or skip them themselves.

/// A RAM record's be64 word, split.
package struct RAMRecordWord: Sendable, Equatable {
    /// The word as written.
    package var word: UInt64
    /// The flags: the bits below the page size (QEMU `RAM_SAVE_FLAG_*`).
    package var flags: UInt64
    /// The page address, or the total RAM size of a MEM_SIZE record.
    package var address: UInt64

    package init(word: UInt64, pageSize: Int = StreamFormat.pageSize) {
        self.word = word
        let mask = UInt64(pageSize - 1)
        flags = word & mask
        address = word & ~mask
    }

    /// A ZERO, PAGE, XBZRLE or COMPRESS_PAGE record without CONTINUE: the block's name follows
    /// the word (QEMU `ram_block_from_stream`, called for each of them).
    package var namesBlock: Bool {
        flags
            & (StreamFormat.RAMFlag.zero | StreamFormat.RAMFlag.page | StreamFormat.RAMFlag.xbzrle
                | StreamFormat.RAMFlag.compressPage) != 0
            && flags & StreamFormat.RAMFlag.continuePage == 0
    }

    /// The word alone (8 bytes).
    package struct Decoder: StreamRecordDecoder {
        package var pageSize: Int
        package init(pageSize: Int = StreamFormat.pageSize) { self.pageSize = pageSize }
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<RAMRecordWord> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                RAMRecordWord(word: try c.be64(.ramWord), pageSize: pageSize)
            }
        }
    }

    /// The block name after a word that ``namesBlock``: byte length + bytes.
    package struct BlockNameDecoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<RAMBlockName> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                RAMBlockName(try c.shortString(length: .blockNameLength, .blockName))
            }
        }
    }
}

/// A RAM block's name as a stream gives it. QEMU names blocks after device ids and paths, and
/// compares names as bytes; its scripts decode them as UTF-8 and stop where they are not
/// (`UnicodeDecodeError`). `name` repairs bytes that are not UTF-8 (U+FFFD), so two such names
/// may read alike: `isUTF8` says whether it is the stream's name exactly.
package struct RAMBlockName: Sendable, Equatable {
    package var name: String
    package var isUTF8: Bool

    package init<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        name = String(decoding: bytes, as: UTF8.self)
        isUTF8 = name.utf8.elementsEqual(bytes)
    }
}

/// One block of a MEM_SIZE record's list: name (byte length + bytes), be64 used length; with
/// the capability x-ignore-shared a be64 guest address (QEMU `ram_save_setup`, 7.2 and 10.0);
/// with mapped-ram (QEMU 9.0+) the mapped-ram header (``MappedRAMHeader``).
package struct RAMBlockEntry: Sendable, Equatable {
    package var name: String
    package var length: UInt64
    /// Whether `name` is the stream's exactly (``RAMBlockName``).
    package var nameIsUTF8 = true
    /// The guest address (x-ignore-shared).
    package var address: UInt64?
    /// Where the block's pages are in the file (mapped-ram).
    package var mappedRAM: MappedRAMHeader?

    /// The layout the configuration's capabilities give a block entry.
    package struct Decoder: StreamRecordDecoder {
        package var ignoreShared: Bool
        package var mappedRAM: Bool
        package init(ignoreShared: Bool, mappedRAM: Bool = false) {
            self.ignoreShared = ignoreShared
            self.mappedRAM = mappedRAM
        }
        /// The layout for these capabilities (as listed by the configuration section).
        package init(capabilities: [String]) {
            self.init(
                ignoreShared: capabilities.contains("x-ignore-shared"), mappedRAM: capabilities.contains("mapped-ram"))
        }
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<RAMBlockEntry> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let name = RAMBlockName(try c.shortString(length: .blockNameLength, .blockName))
                c.context = name.name
                var entry = RAMBlockEntry(name: name.name, length: try c.be64(.blockLength))
                entry.nameIsUTF8 = name.isUTF8
                if ignoreShared { entry.address = try c.be64(.blockAddress) }
                if mappedRAM { entry.mappedRAM = try MappedRAMHeader.read(&c) }
                return entry
            }
        }
    }
}

/// The mapped-ram header after a block's used length (QEMU 9.0+, capability mapped-ram; all
/// big-endian): be32 version (1), be64 page size, be64 bitmap offset, be64 pages offset. Page i
/// is at pages offset + i × page size iff bit i of the bitmap is set.
package struct MappedRAMHeader: Sendable, Equatable {
    package var version: UInt32
    package var pageSize: UInt64
    package var bitmapOffset: UInt64
    package var pagesOffset: UInt64

    /// The header's size in bytes.
    package static let size = 28

    static func read(_ c: inout FormatCursor) throws(FormatShortfall) -> MappedRAMHeader {
        MappedRAMHeader(
            version: try c.be32(.mappedRAMVersion), pageSize: try c.be64(.mappedRAMPageSize),
            bitmapOffset: try c.be64(.mappedRAMBitmapOffset), pagesOffset: try c.be64(.mappedRAMPagesOffset))
    }

    /// The header alone (after a block entry read without it).
    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<MappedRAMHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in try MappedRAMHeader.read(&c)
            }
        }
    }
}

/// Which RAM flags a QEMU version's streams may carry (docs/FORMAT.md §6, §9).
package enum RAMFlagRules {
    /// The flags the registry loads: MEM_SIZE, ZERO, PAGE, EOS, CONTINUE, XBZRLE (written by a
    /// QEMU source with capability xbzrle) and COMPRESS_PAGE (capability compress, QEMU 7.2 to
    /// 9.0; loaded from a stream of any version, although QEMU 9.1 and later no longer know the
    /// flag). Hooks and multifd are never written by the registry nor loaded; neither are
    /// XBZRLE and compressed pages written.
    package static let loadable: UInt64 =
        StreamFormat.RAMFlag.memSize | StreamFormat.RAMFlag.zero | StreamFormat.RAMFlag.page
        | StreamFormat.RAMFlag.eos | StreamFormat.RAMFlag.continuePage | StreamFormat.RAMFlag.xbzrle
        | StreamFormat.RAMFlag.compressPage

    /// The flags of `flags` outside ``loadable``.
    package static func unloadable(_ flags: UInt64) -> UInt64 { flags & ~loadable }

    /// Whether loadable `flags` are one record kind QEMU's destination reads: without CONTINUE,
    /// exactly MEM_SIZE, ZERO, PAGE, XBZRLE, COMPRESS_PAGE or EOS. QEMU 7.2 and 10.0 `ram_load_precopy`
    /// switch on `flags & ~RAM_SAVE_FLAG_CONTINUE` and fail any other value, 0 included, with
    /// "Unknown combination of migration flags: 0x%x" (-EINVAL).
    package static func isOneKind(_ flags: UInt64) -> Bool {
        switch flags & ~StreamFormat.RAMFlag.continuePage {
        case StreamFormat.RAMFlag.memSize, StreamFormat.RAMFlag.zero, StreamFormat.RAMFlag.page,
            StreamFormat.RAMFlag.xbzrle, StreamFormat.RAMFlag.compressPage, StreamFormat.RAMFlag.eos:
            return true
        default: return false
        }
    }

    /// The bits of `flags` QEMU defines no flag for (neither loadable nor a hook or multifd
    /// flush).
    package static func undefined(_ flags: UInt64) -> UInt64 {
        flags & ~(loadable | StreamFormat.RAMFlag.hook | StreamFormat.RAMFlag.multifdFlush)
    }

    /// What unloadable `flags` are, with what makes QEMU write each (for the error).
    package static func meaning(ofUnloadable flags: UInt64) -> String {
        let known: [(UInt64, String)] = [
            (StreamFormat.RAMFlag.hook, "a RAM hook (RDMA migration)"),
            (
                StreamFormat.RAMFlag.multifdFlush,
                "a multifd flush (capability multifd, whose pages go on other channels; QEMU 8.1.0-8.1.2 write it without multifd too)"
            ),
        ]
        var parts = known.filter { flags & $0.0 != 0 }.map { $0.1 }
        let unknown = known.reduce(flags) { $0 & ~$1.0 }
        if unknown != 0 { parts.append("unknown flags 0x\(String(unknown, radix: 16))") }
        return parts.joined(separator: ", ")
    }
}
