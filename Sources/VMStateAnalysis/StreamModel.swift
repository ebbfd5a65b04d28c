import VMState
// What a migration stream holds, as read with its own device description (vmdesc).

/// One value of a device's state, typed the way QEMU's analyze-migration.py interprets the
/// vmdesc `type` of the field. Only a record is boxed: an integer, a bool or a NULL entry is
/// held in the value itself (24 bytes in an array), so that an array of half a million of them
/// (the Raspberry Pi's USB controller saves `usb_buf` as 524,288 `uint8` elements) is held in
/// about 12 MB.
public enum FieldValue: Sendable, Equatable {
    /// An integer field (`int8` ... `uint64`, the `equal`/`le` variants): its big-endian bytes
    /// as they are in the stream, and whether the type reads as signed.
    case integer(bytes: IntegerBytes, signed: Bool)
    /// A `bool` field: the first byte is non-zero.
    case bool(Bool)
    /// Raw bytes: buffers, unused space, timers, and every type without a dedicated reader.
    case bytes([UInt8])
    /// A nested struct, a whole device section, or a subsection.
    indirect case record(FieldRecord)
    /// The elements of an array field (vmdesc entries with an `index`), or, in QEMU 10.0
    /// streams, every value of a name the vmdesc lists more than once.
    case list([FieldValue])
    /// A NULL entry of an array of pointers: vmdesc type `nullptr` (QEMU 10.0), one byte 0x30
    /// in the stream; printed `"nullptr"`.
    case nullPointer
    /// A string read from the stream: vmdesc type `capability` (u8 length, then the name).
    case text(String)
}

/// An integer value's bytes, big-endian, as the stream holds them: up to 8 of them (every
/// integer type QEMU writes) held inline, without an allocation; more (a vmdesc that gives an
/// integer type another size) in an array.
public struct IntegerBytes: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    private enum Storage: Sendable, Hashable {
        /// The bytes as a big-endian number, and how many there are (0 to 8).
        case inline(UInt64, count: UInt8)
        case array([UInt8])
    }
    private let storage: Storage

    /// The bytes of `raw`.
    public init(_ raw: UnsafeRawBufferPointer) {
        if raw.count <= 8 {
            storage = .inline(raw.reduce(0) { $0 << 8 | UInt64($1) }, count: UInt8(raw.count))
        } else {
            storage = .array(Array(raw))
        }
    }

    /// The bytes of `bytes`.
    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { IntegerBytes($0) }
    }

    public init(arrayLiteral elements: UInt8...) { self.init(elements) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case .inline(_, let count): return Int(count)
        case .array(let bytes): return bytes.count
        }
    }

    public subscript(position: Int) -> UInt8 {
        switch storage {
        case .inline(let value, let count):
            precondition(position >= 0 && position < Int(count), "IntegerBytes index out of range")
            return UInt8(truncatingIfNeeded: value >> (8 * UInt64(Int(count) - 1 - position)))
        case .array(let bytes):
            return bytes[position]
        }
    }

    /// The bytes as an array.
    public var array: [UInt8] { Array(self) }
}

/// The members of a struct, section or subsection, in stream order. A member name occurs once:
/// array elements are collected in a `.list`, and a later member with an existing name replaces
/// the earlier value in place (as analyze-migration.py's dictionaries do).
public struct FieldRecord: Sendable, Equatable {
    /// One named member.
    public struct Member: Sendable, Equatable {
        /// The member's name (the vmdesc field name).
        public var name: String
        /// The member's value.
        public var value: FieldValue
        /// The vmdesc type (`uint32`, `struct`, `buffer`, ...); `subsection` for subsections.
        public var type: String
        /// Where the member's bytes start in the stream file.
        public var offset: Int
        /// Number of bytes the member occupies in the stream (all elements, for arrays).
        public var length: Int

        /// A member with every part given.
        public init(name: String, value: FieldValue, type: String, offset: Int, length: Int) {
            self.name = name
            self.value = value
            self.type = type
            self.offset = offset
            self.length = length
        }
    }

    /// The members in stream order.
    public var members: [Member]
    /// The description's name (`vmsd_name`), when the vmdesc gives one.
    public var vmsdName: String?
    /// The version the description was saved at (vmdesc `version`, or the subsection's
    /// version in the stream).
    public var version: Int?

    /// A record with every part given.
    public init(members: [Member] = [], vmsdName: String? = nil, version: Int? = nil) {
        self.members = members
        self.vmsdName = vmsdName
        self.version = version
    }

    /// The value of the member `name`, if there is one.
    public subscript(name: String) -> FieldValue? {
        members.first { $0.name == name }?.value
    }
}

/// A RAM block announced at the start of the "ram" section.
public struct RAMBlock: Sendable, Equatable {
    /// The member's name (the vmdesc field name).
    public var name: String
    /// The block's used length in bytes.
    public var length: UInt64
    /// Where the stream announces the block: the offset of its entry (the byte giving the
    /// name's length) in the RAM_SAVE_FLAG_MEM_SIZE list; the last announcement when the name
    /// comes again.
    public var offset: Int
}

/// One page record of the "ram" section.
public struct RAMPage: Sendable, Equatable {
    /// What the record or section holds.
    public enum Content: Sendable, Equatable {
        /// A page filled with one byte value (RAM_SAVE_FLAG_ZERO; the byte is 0 in practice).
        case fill(UInt8)
        /// A full page of data, starting at this offset of the stream file.
        case data(offset: Int)
        /// An XBZRLE page (RAM_SAVE_FLAG_XBZRLE, capability xbzrle; docs/FORMAT.md §5): a delta
        /// against what the page held before this record, whose header (the encoding byte, be16
        /// length, the delta) starts at this offset of the stream file.
        case xbzrle(offset: Int)
        /// A compressed page (RAM_SAVE_FLAG_COMPRESS_PAGE 0x100, capability compress, QEMU 7.2
        /// to 9.0; docs/FORMAT.md §5): a whole page deflated by zlib, whose header (be32
        /// length, then the zlib stream) starts at this offset of the stream file.
        case compressed(offset: Int)
        /// A page that a reading of page contents (`--memory`, `diff`) decoded from XBZRLE
        /// records: page number `slot` of that reading's ``DecodedPages`` file. Never in a
        /// stream's page records.
        case decoded(slot: Int)
    }

    /// Index into `RAMSection.pageBlockNames`.
    public var block: Int32
    /// Offset of the page within its RAM block.
    public var address: UInt64
    /// What the record holds.
    public var content: Content
}

/// The iterative "ram" section: the RAM blocks and every page record, in stream order.
public struct RAMSection: Sendable, Equatable {
    /// The section version in its header (4 for QEMU 7.2 and 10.0).
    public var version: Int
    /// Total RAM announced by RAM_SAVE_FLAG_MEM_SIZE.
    public var totalSize: UInt64?
    /// Blocks as announced by RAM_SAVE_FLAG_MEM_SIZE, in order.
    public var blocks: [RAMBlock] = []
    /// Names of the blocks that page records refer to (`RAMPage.block` indexes this).
    public var pageBlockNames: [String] = []
    /// Every page record in stream order (a page sent twice appears twice). Empty when the
    /// stream was read with `recordPages: false`.
    public var pages: [RAMPage] = []
    /// Number of page records, also when they were not recorded.
    public var pageCount: Int = 0
    /// Number of page records with a whole page of data, compressed ones included (the rest
    /// are fill pages and XBZRLE pages).
    public var dataPageCount: Int = 0
    /// Number of compressed page records (capability compress), counted in `dataPageCount` too.
    public var compressedPageCount: Int = 0
    /// Number of XBZRLE page records (capability xbzrle: a page sent again as a delta against
    /// its earlier contents).
    public var xbzrlePageCount: Int = 0
    /// Whether some page of a block came at or below the address of an earlier page of that
    /// block: only then can a page have been sent twice (QEMU sends each pass over a block in
    /// ascending address order, and a stream written in one pass never repeats a page).
    public var mayRepeatPages = false
    /// Per entry of `pageBlockNames`: one past the highest page address seen so far (0: none).
    var nextPageAddress: [UInt64] = []
    /// Which START record of its section id this is (1 for the first); page records read later
    /// carry it, so a second pass can tell the pages of this section from those of an earlier
    /// section that the same id replaced.
    package var generation = 0

    /// Counts a page record and keeps `mayRepeatPages` up to date (O(blocks) state).
    @inline(__always) mutating func notePage(block: Int32, address: UInt64) {
        pageCount += 1
        let b = Int(block)
        while nextPageAddress.count <= b { nextPageAddress.append(0) }
        if address < nextPageAddress[b] { mayRepeatPages = true }
        nextPageAddress[b] = address &+ 1
    }
}

/// A page record as read, with the RAM section it belongs to (see ``RAMSection/generation``).
package struct RAMPageRecord {
    /// The RAM section's id.
    package var sectionID: UInt32
    /// The RAM section's generation (``RAMSection/generation``).
    package var generation: Int
    /// The page.
    package var page: RAMPage
    /// Where the record starts in the stream file (its header word; a mapped-ram page: its bytes).
    package var offset: Int
}

/// One section of a stream (every part of an iterative section merged into one).
public struct AnalyzedSection: Sendable, Equatable {
    /// What the record or section holds.
    public enum Content: Sendable, Equatable {
        /// A device, read with its vmdesc description.
        case device(FieldRecord)
        /// The RAM section.
        case ram(RAMSection)
        /// The sPAPR hash page table section (skipped; it has no readable state).
        case htab
        /// The s390 storage attributes section (`s390-storage_attributes`: guest page
        /// attributes, CMMA; skipped, as QEMU's analyze-migration.py skips it).
        case storageAttributes
    }

    /// The section id of the header.
    public var sectionID: UInt32
    /// The section's idstr, e.g. `cpu`, `0000:00:01.1/ide`, `ram`.
    public var name: String
    /// The instance id of the header.
    public var instanceID: UInt32
    /// The version in the section header.
    public var version: UInt32
    /// Offset of the section header (the START/FULL byte).
    public var offset: Int
    /// Offset just past the section's data (of its last part, for iterative sections).
    public var endOffset: Int
    /// What the record holds.
    public var content: Content

    /// `name (section_id)`, the key analyze-migration.py uses.
    public var key: String { "\(name) (\(sectionID))" }
}

/// Where the device description sits in a stream.
public struct VMDescLocation: Sendable, Equatable {
    /// Offset of the QEMU_VM_VMDESCRIPTION byte (0x06).
    public var markerOffset: Int
    /// Offset and length of the JSON text.
    public var jsonOffset: Int
    /// Length of the JSON text in bytes.
    public var jsonLength: Int
}
