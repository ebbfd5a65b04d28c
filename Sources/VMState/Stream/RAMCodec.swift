import CGLib
import CVMState

/// The "ram" section (version 4): MEM_SIZE with the block list, ZERO and PAGE records, EOS.
enum RAMCodec {
    static let memSize = StreamFormat.RAMFlag.memSize
    static let zero = StreamFormat.RAMFlag.zero
    static let page = StreamFormat.RAMFlag.page
    static let eos = StreamFormat.RAMFlag.eos
    static let xbzrle = StreamFormat.RAMFlag.xbzrle
    static let compressPage = StreamFormat.RAMFlag.compressPage
    static let continueFlag = StreamFormat.RAMFlag.continuePage
    static let flagMask: UInt64 = UInt64(StreamFormat.pageSize - 1)
    /// The most RAM block entries the RAM section's start may list (QEMU's machines have tens):
    /// more is refused, so that a total no entries reach cannot have a whole stream read as
    /// entries.
    static let maximumBlockEntries = 65_536
    /// How many unregistered blocks an error names (the rest are counted).
    static let shownMissingBlocks = 16

    /// A RAM block name that is not UTF-8: QEMU names blocks after device ids and paths (UTF-8),
    /// and the registry's names are UTF-8, so the stream is damaged or not QEMU's; read with
    /// its bytes repaired (U+FFFD) it could be taken for another block (hostile10 F3).
    static func nameNotUTF8(_ repaired: String, at offset: Int) -> VMStateError {
        VMStateError(
            .ram, path: repaired, offset: offset,
            reason: "RAM block name is not UTF-8 (QEMU names RAM blocks after device ids and paths)")
    }

    /// A block name in double quotes for an error's list of blocks, its `\` and `"` escaped
    /// so that the list reads one way (control characters are escaped where it is printed).
    static func quotedName(_ name: String) -> String {
        var quoted = "\""
        for c in name {
            if c == "\\" || c == "\"" { quoted.append("\\") }
            quoted.append(c)
        }
        return quoted + "\""
    }

    /// Carried across the parts of one stream: the block of the last page (for CONTINUE).
    struct LoadState {
        var lastBlock: Int?
        var lastBlockName = ""
        /// The configuration lists x-ignore-shared: each block's length is followed by its be64
        /// guest address (QEMU `ram_save_setup`), kept here by block name.
        var ignoreShared = false
        var addresses: [String: UInt64] = [:]
        /// With x-ignore-shared: the blocks a page record named. QEMU's source sends every page
        /// of a block it migrates (a zero page as a ZERO record) and none of one it skips (RAM
        /// on a shared file), so the listed blocks no page named are the skipped ones.
        var pagedBlocks: Set<String> = []
        /// The blocks the x-ignore-shared stream listed and sent no page of (QEMU's
        /// `migrate_ram_is_ignored` blocks of its source), empty without x-ignore-shared.
        var unsentBlocks: Set<String> {
            ignoreShared ? Set(addresses.keys).subtracting(pagedBlocks) : []
        }
        /// The blocks the RAM section's start listed, when no registered RAM took them (a RAM
        /// kept by KEEP_UNKNOWN): name and length in bytes, each block once in the order of its
        /// first listing, with its last length (a MEM_SIZE record may come again, in a PART).
        var unloadedBlocks: [(name: String, length: UInt64)] = []
        /// Each of ``unloadedBlocks``' names with its index there.
        var unloadedBlockIndices: [String: Int] = [:]
        /// The configuration lists mapped-ram: each block's length is followed by its mapped-ram
        /// header, and its pages are at file offsets, not records.
        var mappedRAM = false
        /// Inflates compressed pages (capability compress), made at the first one.
        var inflater: PageInflater?
        /// Where a compressed page is inflated when it goes to no registered block.
        var scratchPage: [UInt8] = []
        /// The index in the `blocks` given to ``RAMCodec/loadPart(_:blocks:state:)`` of each
        /// block by idstr (the registry's ``Registry/ramBlockIndices``). A page record that
        /// names its block looked through every block: a live migration's pass over N blocks
        /// took N² steps on the destination (16,384 blocks: 5 s).
        var blockIndices: [String: Int] = [:]
        /// The stream's pages are 4 KiB for sure: its vmdesc says so (a load from a buffer), its
        /// configuration has target-page-bits, or its machine type is x86's. No RAM error then
        /// suggests pages of another size.
        var pageSizeConfirmed = false
    }

    /// The mapped-ram header after a block's length (QEMU 9.0+ `MappedRamHeader`, packed, all
    /// big-endian): be32 version (1), be64 page size, be64 bitmap offset, be64 pages offset.
    static let mappedRAMHeaderSize = 28
    /// Where a block's pages start: the end of its bitmap rounded up to 1 MiB
    /// (MAPPED_RAM_FILE_OFFSET_ALIGNMENT).
    static let mappedRAMAlignment = 1 << 20

    /// Reads one block's mapped-ram header, bitmap and page region (the file is read forward
    /// only: QEMU puts the bitmap right after the header and the pages at the next 1 MiB
    /// boundary). Pages with their bit set go to `target` (when given), the others are zero
    /// there (QEMU never writes zero pages; its destination RAM starts zeroed).
    static func loadMappedRAMBlock(
        _ file: MigrationFile, name: String, length: UInt64, target: UnsafeMutableRawPointer?
    ) throws(VMStateError) {
        let pageSize = StreamFormat.pageSize
        let at = file.position
        guard let version = file.getBE32(), let size = file.getBE64(), let bitmapOffset = file.getBE64(),
            let pagesOffset = file.getBE64()
        else { throw short(file, "mapped-ram header", at: at) }
        guard version <= 1 else {
            throw VMStateError(
                .ram, path: name, offset: at,
                reason: "Migration mapped-ram capability version not supported (expected <= 1, got \(version))")
        }
        // (Each error is at its field: version at `at`, page size +4, bitmap offset +12, pages
        // offset +20.)
        guard size == UInt64(pageSize) else {
            throw VMStateError(
                .ram, path: name, offset: at + 4, reason: "mapped-ram page size", expected: "\(pageSize)",
                actual: "\(size)")
        }
        let pages = Int(length / UInt64(pageSize))
        let bitmapSize = (pages + 63) / 64 * 8
        guard bitmapOffset == UInt64(file.position), pagesOffset % UInt64(pageSize) == 0,
            pagesOffset >= bitmapOffset + UInt64(bitmapSize),
            pagesOffset - bitmapOffset <= UInt64(2 * mappedRAMAlignment)
        else {
            throw VMStateError(
                .ram, path: name, offset: bitmapOffset == UInt64(file.position) ? at + 20 : at + 12,
                reason: "mapped-ram offsets: the bitmap must follow the header and the pages start page aligned "
                    + "within 1 MiB after it", actual: "bitmap at \(bitmapOffset), pages at \(pagesOffset)")
        }
        // SAFETY: `take` hands `bitmapSize` window bytes, copied at once.
        guard let bitmap = file.take(bitmapSize, { Array(UnsafeRawBufferPointer(start: $0, count: bitmapSize)) })
        else { throw short(file, "mapped-ram bitmap", at: Int(bitmapOffset)) }
        let padding = file.position
        guard file.skip(Int(pagesOffset) - padding) else {
            throw short(file, "mapped-ram block's padding before its pages", at: padding)
        }
        for i in 0..<pages {
            // Host `unsigned long` words in host byte order (x86-64: bit i is bit i % 8 of byte i / 8).
            let set = bitmap[i / 8] & (1 << UInt8(i % 8)) != 0
            guard file.ensure(pageSize) else { throw short(file, "mapped-ram page") }
            if let target {
                // SAFETY: i < pages = length / pageSize, and `target` is a registered block of `length` bytes
                // (checked by the caller); `take` hands pageSize window bytes.
                let page = target + i * pageSize
                if set {
                    _ = file.take(pageSize) { page.copyMemory(from: $0, byteCount: pageSize) }
                } else {
                    clearPage(page, pageSize)
                    file.skip(pageSize)
                }
            } else {
                file.skip(pageSize)
            }
        }
    }

    /// Checks that the RAM fits the file's sink when it has a size limit (a `GByteArray`),
    /// before anything is written: by the plain upper bound, else by counting the non-zero
    /// pages. The blocks named in `unsent` are listed, and send no page.
    ///
    /// - Throws: ``VMStateError`` when the RAM records would pass the limit.
    static func checkSaveFits(
        _ blocks: [Registry.RAMBlock], unsent: Set<String> = [], mappedRAM: Bool = false, _ file: MigrationFile
    ) throws(VMStateError) {
        let pageSize = StreamFormat.pageSize
        if mappedRAM {
            // Every page is in the RAM START, each block after up to 1 MiB of bitmap and padding.
            let total = blocks.reduce(0) { $0 + $1.length + 2 * mappedRAMAlignment + $1.idstr.utf8.count + 64 }
            if let limit = file.outputLimit, total + 4096 > limit {
                throw ByteArraySink.tooLarge(file.written, total + 4096)
            }
            return
        }
        let paged = unsent.isEmpty ? blocks : blocks.filter { !unsent.contains($0.idstr) }
        let bound = paged.reduce(0) { $0 + $1.length + $1.length / pageSize * 9 + $1.idstr.utf8.count + 1 }
        if let limit = file.outputLimit, bound > limit - 64 - 4096 {
            // The exact size of the END part's records, when the bound is too large.
            var records = 8 + 5
            for block in paged {
                records += block.idstr.utf8.count + 1
                for offset in stride(from: 0, to: block.length, by: pageSize) {
                    // SAFETY: `offset + pageSize <= block.length` (length is a multiple of pageSize, checked in
                    // Registry.addRAM), inside the caller's registered RAM.
                    let page = UnsafeRawBufferPointer(start: block.host + offset, count: pageSize)
                    records += isZeroPage(page) ? 9 : 8 + pageSize
                }
            }
            let header = 5 + 4 + 8 + 4 + 8 + 8 + 5 + 5 + blocks.reduce(0) { $0 + $1.idstr.utf8.count + 17 }
            if records + header > limit {
                throw ByteArraySink.tooLarge(file.written, records + header)
            }
        }
    }

    /// Writes the RAM END part: every page straight from guest memory into the file's buffer
    /// (ZERO or PAGE records, CONTINUE after a block's first), EOS, the footer when `footer`.
    /// Blocks named in `unsent` send no page (x-ignore-shared: QEMU's ignored blocks).
    ///
    /// A stream's bounded buffer is made room for once, at the start (it writes out what it
    /// holds); a `GByteArray`, which holds the whole stream, for one MiB of RAM's records at a
    /// time: it grows (by doubling) to the stream's size, not the RAM's, so a mostly zero
    /// guest's save takes address space for its small stream only.
    static func saveEnd(
        _ blocks: [Registry.RAMBlock], unsent: Set<String> = [], sectionID: UInt32, footer: Bool,
        mappedRAM: Bool = false, _ file: MigrationFile
    ) {
        let pageSize = StreamFormat.pageSize
        file.putByte(StreamFormat.sectionEnd)
        file.putBE32(sectionID)
        let wholeStreamBuffer = file.outputLimit != nil
        if !wholeStreamBuffer { file.reserve(Int.max) }
        // With mapped-ram the pages went with the RAM START: the END holds only EOS.
        for block in blocks where !mappedRAM && !unsent.contains(block.idstr) {
            let name = Array(block.idstr.utf8)
            // The records of one MiB of pages at most, the block's name and the EOS and footer after.
            let chunk = (0x10_0000 / pageSize) * (pageSize + 8) + name.count + 1 + 8 + 5
            var first = true
            for offset in stride(from: 0, to: block.length, by: pageSize) {
                // A failed stream stops the save (checked every 1 MiB of RAM).
                if offset & 0xF_FFFF == 0 {
                    if file.errorCode != 0 { return }
                    if wholeStreamBuffer { file.reserve(chunk) }
                }
                // SAFETY: a whole page inside the registered block (offset + pageSize <= length).
                let page = UnsafeRawBufferPointer(start: block.host + offset, count: pageSize)
                let isZero = isZeroPage(page)
                file.putBE64(UInt64(offset) | (isZero ? zero : RAMCodec.page) | (first ? 0 : continueFlag))
                if first {
                    file.putByte(UInt8(name.count))
                    file.putBytes(name)
                    first = false
                }
                if isZero { file.putByte(0) } else { file.putBytes(page.baseAddress, pageSize) }
            }
        }
        file.putBE64(eos)
        if footer {
            file.putByte(StreamFormat.footer)
            file.putBE32(sectionID)
        }
    }

    /// Zeroes the page at `page` unless it is zero already: read before written, a page of a
    /// fresh mapping never written stays unbacked (a 5 GiB guest mostly empty loads in 14 MB,
    /// not 5 GB).
    static func clearPage(_ page: UnsafeMutableRawPointer, _ pageSize: Int) {
        // SAFETY: `page` is a whole page of a registered RAM block (see the callers).
        if !isZeroPage(UnsafeRawBufferPointer(start: page, count: pageSize)) {
            page.initializeMemory(as: UInt8.self, repeating: 0, count: pageSize)
        }
    }

    static func isZeroPage(_ page: UnsafeRawBufferPointer) -> Bool {
        // SAFETY: `page` is a whole page (4096 bytes, count / 8 words) of guest RAM, plain bytes;
        // read as unaligned words, so the RAM's address needs no alignment (addRAM checks none).
        let base = page.baseAddress!
        for i in 0..<(page.count / 8) where base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) != 0 {
            return false
        }
        return true
    }

    /// Reads one part up to its EOS; into `blocks` when given, else only past it.
    /// `state.blockIndices` indexes `blocks` by idstr.
    static func loadPart(_ file: MigrationFile, blocks: [Registry.RAMBlock]?, state: inout LoadState)
        throws(VMStateError)
    {
        let pageSize = StreamFormat.pageSize
        // Whether the record before this one was a page's data, with the page size unconfirmed: a
        // record that makes no sense right after one is most likely the rest of a larger page (a
        // target of 8 KiB pages read from a GIO stream, whose vmdesc, which says so, comes after
        // the RAM). A word of zero bytes is more likely a save that died (its preallocated file),
        // and flags QEMU defines (a multifd flush, which QEMU 8.1.0-8.1.2 write after a pass's
        // last page) a record QEMU wrote.
        var afterPageData = false
        while true {
            let at = file.position
            let record = try read(file, RAMRecordWord.Decoder()) { _ in "RAM record" }
            let flags = record.flags
            let address = record.address
            let unsupported = RAMFlagRules.unloadable(flags)
            if unsupported != 0 {
                throw VMStateError(
                    .ram, offset: at,
                    reason:
                        "a RAM record the registry does not load: \(RAMFlagRules.meaning(ofUnloadable: unsupported))"
                        + pageSizeHint(
                            flags, afterPageData: afterPageData && RAMFlagRules.undefined(unsupported) != 0,
                            confirmed: state.pageSizeConfirmed),
                    expected:
                        "flags among 0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x20 continue, 0x40 XBZRLE, 0x100 compressed page",
                    actual: unsupported == flags
                        ? hex(unsupported, width: 2)
                        : "\(hex(unsupported, width: 2)) (of the record's flags \(hex(flags, width: 2)))")
            }
            if !RAMFlagRules.isOneKind(flags) {
                // As QEMU's destination: a record of no kind (flags 0, as in the zero bytes a
                // save that died leaves in its preallocated file) or of two kinds at once.
                throw VMStateError(
                    .ram, offset: at,
                    reason: "Unknown combination of migration flags: 0x\(String(flags, radix: 16))"
                        + pageSizeHint(
                            flags, afterPageData: afterPageData && record.word != 0, confirmed: state.pageSizeConfirmed),
                    expected:
                        "one of 0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x40 XBZRLE, 0x100 compressed page (0x20 continue may be added)"
                )
            }
            afterPageData = flags & page != 0 && !state.pageSizeConfirmed
            if flags & memSize != 0 {
                var seen: UInt64 = 0
                // Blocks the stream has and the registry lacks (while it has some): all named at
                // once, the first ``shownMissingBlocks`` by name, the rest counted.
                var missing: [(name: String, length: UInt64, at: Int)] = []
                var missingCount = 0
                var entries = 0
                var listed: Set<String> = []
                let entryDecoder = RAMBlockEntry.Decoder(ignoreShared: state.ignoreShared)
                while seen < address {
                    // Errors about a block point at its entry (its name's length byte), or at its
                    // be64 length for a length that differs.
                    let entryAt = file.position
                    // A total no blocks reach (blocks of length 0 add nothing) would have every
                    // entry up to the stream's end read: QEMU stops at the first block it lacks.
                    entries += 1
                    guard entries <= RAMCodec.maximumBlockEntries else {
                        throw VMStateError(
                            .ram, offset: entryAt,
                            reason:
                                "more than \(RAMCodec.maximumBlockEntries) RAM block entries at the RAM section's start, and "
                                + "their lengths do not reach its total",
                            expected: "\(address) bytes", actual: "\(seen) bytes so far")
                    }
                    let entry = try read(file, entryDecoder) { shortfall in
                        switch shortfall.field {
                        case .blockLength: "RAM block length"
                        case .blockAddress: "RAM block address"
                        default: "RAM block name"
                        }
                    }
                    let (name, length) = (entry.name, entry.length)
                    guard entry.nameIsUTF8 else { throw RAMCodec.nameNotUTF8(name, at: entryAt) }
                    // QEMU lists each block once: a name listed again means the entries went on
                    // past the list, into the records after it (a total larger than the blocks).
                    guard listed.insert(name).inserted else {
                        throw VMStateError(
                            .ram, path: name, offset: entryAt,
                            reason:
                                "RAM block listed twice at the RAM section's start: the total is more than the "
                                + "lengths of the blocks listed before it add up to, or the list is damaged",
                            expected: "\(address) bytes", actual: "\(seen) bytes listed before it")
                    }
                    if let address = entry.address { state.addresses[name] = address }
                    if blocks == nil {
                        if let i = state.unloadedBlockIndices[name] {
                            state.unloadedBlocks[i].length = length
                        } else {
                            state.unloadedBlockIndices[name] = state.unloadedBlocks.count
                            state.unloadedBlocks.append((name, length))
                        }
                    }
                    if let blocks {
                        if let block = state.blockIndices[name].map({ blocks[$0] }) {
                            guard UInt64(block.length) == length else {
                                throw VMStateError(
                                    .ram, path: name, offset: entryAt + 1 + name.utf8.count,
                                    reason: "RAM block length differs", expected: "\(block.length)", actual: "\(length)"
                                )
                            }
                        } else if blocks.isEmpty || state.mappedRAM {
                            throw VMStateError(
                                .ram, path: name, offset: entryAt,
                                reason: "the stream has a RAM block that is not registered")
                        } else {
                            missingCount += 1
                            if missing.count < RAMCodec.shownMissingBlocks { missing.append((name, length, entryAt)) }
                        }
                    }
                    if state.mappedRAM {
                        // Checked above: a registered block has exactly `length` bytes.
                        let target = blocks.flatMap { b in state.blockIndices[name].map { b[$0].host } }
                        try loadMappedRAMBlock(file, name: name, length: length, target: target)
                    }
                    seen &+= length
                }
                if let first = missing.first {
                    // The first 16 by name: a hostile stream can name thousands.
                    let list = abbreviatedList(
                        missing.map { "\(RAMCodec.quotedName($0.name)) (\($0.length) bytes)" },
                        first: RAMCodec.shownMissingBlocks,
                        total: missingCount)
                    throw VMStateError(
                        .ram, path: first.name, offset: first.at,
                        reason: missingCount == 1
                            ? "the stream has a RAM block that is not registered (\(first.length) bytes)"
                            : "the stream has \(missingCount) RAM blocks that are not registered: \(list)")
                }
                if seen != address {
                    throw VMStateError(
                        .ram, offset: at, reason: "RAM block lengths do not add up to the total",
                        expected: "\(address)", actual: "\(seen)")
                }
            }
            if state.mappedRAM
                && flags
                    & (StreamFormat.RAMFlag.hook | StreamFormat.RAMFlag.multifdFlush | page | xbzrle | compressPage
                        | zero)
                    != 0
            {
                // QEMU 10.0 `ram_load_precopy`: a mapped-ram stream has no page records.
                throw VMStateError(.ram, offset: at, reason: "Unexpected RAM flags: \(flags)")
            }
            if flags & (zero | page | xbzrle | compressPage) != 0 {
                if record.namesBlock {
                    let blockName = try read(file, RAMRecordWord.BlockNameDecoder()) { _ in "RAM block name" }
                    let name = blockName.name
                    guard blockName.isUTF8 else { throw RAMCodec.nameNotUTF8(name, at: at + 8) }
                    state.lastBlockName = name
                    if state.ignoreShared { state.pagedBlocks.insert(name) }
                    state.lastBlock = blocks == nil ? nil : state.blockIndices[name]
                    if blocks != nil && state.lastBlock == nil {
                        throw VMStateError(
                            .ram, path: name, offset: at, reason: "page for a RAM block that is not registered")
                    }
                } else if blocks != nil && state.lastBlock == nil {
                    throw VMStateError(.ram, offset: at, reason: "CONTINUE page with no block before it")
                }
                var target: UnsafeMutableRawPointer?
                if let blocks, let index = state.lastBlock {
                    let block = blocks[index]
                    guard address <= UInt64(block.length - pageSize) else {
                        throw VMStateError(
                            .ram, path: block.idstr, offset: at, reason: "page address outside the RAM block",
                            expected: "below \(hex(UInt64(block.length), width: 8))", actual: hex(address, width: 8))
                    }
                    // SAFETY: `address <= length - pageSize` checked above and page-aligned (flag bits
                    // masked off), so `target[0..<pageSize]` is inside the registered block.
                    target = block.host + Int(address)
                }
                if flags & zero != 0 {
                    guard let fill = file.getByte() else { throw short(file, "zero page") }
                    // Every QEMU source writes 0; QEMU 10.0's destination refuses any other byte
                    // (`ram_load_precopy`), which QEMU 7.2's filled the page with.
                    guard fill == 0 else {
                        throw VMStateError(
                            .ram, offset: file.position - 1, reason: "Found a zero page with value \(fill)",
                            expected: "0", actual: "\(fill)")
                    }
                    if let target { clearPage(target, pageSize) }
                } else if flags & xbzrle != 0 {
                    try loadXBZRLEPage(file, into: target, pageSize: pageSize, record: at)
                } else if flags & compressPage != 0 {
                    try loadCompressedPage(file, into: target, pageSize: pageSize, record: at, state: &state)
                } else {
                    guard file.ensure(pageSize) else { throw short(file, "RAM page") }
                    // Straight from the file's buffer into guest memory.
                    if let target {
                        // SAFETY: `ensure(pageSize)` above; `take` hands pageSize window bytes; the window
                        // and guest RAM do not overlap.
                        _ = file.take(pageSize) { target.copyMemory(from: $0, byteCount: pageSize) }
                    } else {
                        file.skip(pageSize)
                    }
                }
            }
            if flags & eos != 0 { return }
        }
    }

    /// What a record that makes no sense right after a page's data most likely is.
    static var largerPageHint: String {
        " (right after a page of \(StreamFormat.pageSize) bytes: if the source's target has pages of another "
            + "size, as its vmdesc's page_size would say, this is the rest of a larger page (sparc64's 8 KiB) or what "
            + "follows a smaller one (ARM boards' 1 KiB, AVR's 256 bytes), misread with the registry's "
            + "\(StreamFormat.pageSize / 1024) KiB pages, which do not load them)"
    }

    /// ``largerPageHint`` right after a page's data, else ``smallerPageHint(_:confirmed:)``.
    static func pageSizeHint(_ flags: UInt64, afterPageData: Bool, confirmed: Bool) -> String {
        afterPageData ? largerPageHint : smallerPageHint(flags, confirmed: confirmed)
    }

    /// What a zero or page record whose flags hold bits 8 to 11 most likely is, with the page
    /// size unconfirmed (nothing otherwise): the address of a page that does not start on a 4
    /// KiB boundary, from a target of smaller pages (ARM boards' 1 KiB, AVR's 256 bytes), read
    /// with the 4 KiB pages' flag mask (its page records' data then misread too).
    static func smallerPageHint(_ flags: UInt64, confirmed: Bool) -> String {
        let addressBits = flags & 0xF00
        guard !confirmed, addressBits != 0, flags & (zero | page) != 0 else { return "" }
        return " (a zero or page record with the bits 0x\(String(addressBits, radix: 16)): if the source's target has "
            + "smaller pages, such as ARM boards' 1 KiB or AVR's 256 bytes, as its vmdesc's page_size would say, "
            + "they are a page's address below 4 KiB, which the registry's \(StreamFormat.pageSize / 1024) KiB "
            + "pages do not load)"
    }

    /// The rest of an XBZRLE record (capability xbzrle, XBZRLE.swift), its delta applied to the
    /// page at `target` (its previous contents, as QEMU's `load_xbzrle` decodes into guest
    /// memory); only checked when `target` is nil. The errors are QEMU's, at the record that
    /// starts at `record`: an encoding other than 0x01, a delta longer than a page, a delta
    /// that does not decode (the page is then left as it was).
    private static func loadXBZRLEPage(
        _ file: MigrationFile, into target: UnsafeMutableRawPointer?, pageSize: Int, record: Int
    ) throws(VMStateError) {
        let header = try read(file, XBZRLEHeader.Decoder()) { _ in "XBZRLE page header" }
        if let fault = header.fault(pageSize: pageSize) {
            let encoding = fault == .encoding
            throw VMStateError(
                .ram, offset: record, reason: fault.qemuMessage,
                expected: encoding ? "encoding 0x01" : "at most \(pageSize) bytes",
                actual: encoding ? hex(UInt64(header.encoding), width: 1) : "\(header.length)")
        }
        if header.length == 0 { return }  // (no run: the page keeps its contents, as in QEMU)
        guard file.ensure(header.length) else { throw short(file, "XBZRLE page") }
        let decoded = file.take(header.length) { delta in
            if let target {
                // SAFETY: `target` is a whole page inside a registered block (checked by the
                // caller); `apply` writes only inside `page`.
                let page = UnsafeMutableRawBufferPointer(start: target, count: pageSize)
                return XBZRLEDelta.apply(UnsafeRawBufferPointer(start: delta, count: header.length), to: page)
            }
            return XBZRLEDelta.isValid(UnsafeRawBufferPointer(start: delta, count: header.length), pageSize: pageSize)
        }
        guard decoded == true else {
            throw VMStateError(.ram, offset: record, reason: XBZRLEFault.delta.qemuMessage)
        }
    }

    /// The rest of a compressed page record (capability compress, CompressedPage.swift): its
    /// zlib stream inflated into the page at `target`, or into a scratch page when `target` is
    /// nil (a stream read only to check it). The errors are QEMU's, at the record that starts
    /// at `record`: a length above `compressBound` of a page, bytes that do not begin with one
    /// whole zlib stream of at most a page (the page then holds what was inflated before the
    /// fault); and, stricter than QEMU, which keeps the rest of the page, a stream that
    /// inflates to less than a page.
    private static func loadCompressedPage(
        _ file: MigrationFile, into target: UnsafeMutableRawPointer?, pageSize: Int, record: Int,
        state: inout LoadState
    ) throws(VMStateError) {
        let header = try read(file, CompressedPageHeader.Decoder()) { _ in "compressed page length" }
        if let fault = header.fault(pageSize: pageSize) {
            throw VMStateError(
                .ram, offset: record, reason: fault.qemuMessage(length: header.length),
                expected: "at most \(CompressedPageHeader.compressBound(pageSize)) bytes", actual: "\(header.length)")
        }
        guard header.length > 0 else {
            throw VMStateError(.ram, offset: record, reason: CompressedPageFault.data.qemuMessage(length: 0))
        }
        guard file.ensure(header.length) else { throw short(file, "compressed page") }
        let inflater = state.inflater ?? PageInflater()
        state.inflater = inflater
        func inflate(into page: UnsafeMutableRawBufferPointer) -> PageInflater.Inflated? {
            file.take(header.length) { bytes in
                inflater.inflate(UnsafeRawBufferPointer(start: bytes, count: header.length), into: page)
            }
        }
        let inflated: PageInflater.Inflated?
        if let target {
            // SAFETY: `target` is a whole page inside a registered block (checked by the caller).
            inflated = inflate(into: UnsafeMutableRawBufferPointer(start: target, count: pageSize))
        } else {
            if state.scratchPage.count != pageSize { state.scratchPage = [UInt8](repeating: 0, count: pageSize) }
            inflated = state.scratchPage.withUnsafeMutableBytes { inflate(into: $0) }
        }
        switch inflated {
        case .page?: return
        case .short(let count)?:
            throw VMStateError(
                .ram, offset: record,
                reason:
                    "a compressed page that inflates to \(count) bytes, not a page (QEMU's destination would keep the rest of the page as it was; no QEMU source writes one)",
                expected: "\(pageSize) bytes", actual: "\(count)")
        default:
            throw VMStateError(
                .ram, offset: record, reason: CompressedPageFault.data.qemuMessage(length: header.length))
        }
    }

    /// One record through the stream-format layer; `what` names the cut field for the error.
    private static func read<D: StreamRecordDecoder>(
        _ file: MigrationFile, _ decoder: D, _ what: (FormatShortfall) -> String
    ) throws(VMStateError) -> D.Record {
        let start = file.position
        switch file.decode(decoder) {
        case .success(let record): return record
        case .failure(let shortfall): throw short(file, what(shortfall), at: start + shortfall.offset)
        }
    }

    /// The stream ended inside `what`, which starts at byte `at` (the cursor by default).
    private static func short(_ file: MigrationFile, _ what: String, at: Int? = nil) -> VMStateError {
        VMStateError(.shortInput, offset: at ?? file.position, reason: "stream ended inside a \(what)")
    }
}
