// The records of QEMU's iterative sections other than RAM whose ends their records give
// (docs/FORMAT.md §5): the registry reads past them (VMSTATE_LOAD_SKIP_UNKNOWN) or keeps them
// (VMSTATE_LOAD_KEEP_UNKNOWN). Like RAM they have START, PART and END records, no vmdesc entry
// and no length. Each part's data follows its section header (START) or section id (PART, END);
// the decoders read one record of it.

/// An iterative section other than RAM that the registry reads past, by its idstr and instance.
package enum OtherIterativeSection: Sendable, Equatable {
    /// ppc64 pseries' hash page table (hw/ppc/spapr.c `htab_save_*`, `spapr/htab` instance 0,
    /// version 1; QEMU 7.2 and 10.0). Each part: an ``HTABPartHeader``; after a header of 0,
    /// ``HTABChunkHeader`` records, each followed by its valid entries (16 bytes each), up to a
    /// chunk of all zeros.
    case htab
    /// s390x's storage attributes (hw/s390x/s390-stattrib.c, `s390-storage_attributes`
    /// instance 0, version 0; QEMU 7.2 and 10.0). Each part: ``StorageAttributesRecord``s up to
    /// one with the flag EOS.
    case storageAttributes

    /// The section of `idstr` and `instanceID`, when it is one of these.
    package init?(idstr: String, instanceID: UInt32) {
        guard instanceID == 0 else { return nil }
        switch idstr {
        case "spapr/htab": self = .htab
        case "s390-storage_attributes": self = .storageAttributes
        default: return nil
        }
    }

    /// The version QEMU registers the section at (and reads, and only that one).
    package var version: UInt32 {
        switch self {
        case .htab: 1
        case .storageAttributes: 0
        }
    }
}

/// The be32 that starts each part of `spapr/htab`: 0 in the parts that carry chunks; the hash
/// table's size (log2) in the START part, or 0xffffffff (-1) when the guest has none (then no
/// chunks follow).
package struct HTABPartHeader: Sendable, Equatable {
    package var value: UInt32
    /// Whether chunks follow.
    package var hasChunks: Bool { value == 0 }

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<HTABPartHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                HTABPartHeader(value: try c.be32(.htabHeader))
            }
        }
    }
}

/// A chunk of `spapr/htab`: be32 index of its first entry, be16 count of valid entries (whose
/// 16 bytes each follow), be16 count of invalid ones (none follow); all zeros ends the part.
package struct HTABChunkHeader: Sendable, Equatable {
    package var index: UInt32
    package var valid: UInt16
    package var invalid: UInt16

    /// The size of one hash table entry (HASH_PTE_SIZE_64).
    package static let entrySize = 16
    /// Whether this is the chunk that ends a part.
    package var endsPart: Bool { index == 0 && valid == 0 && invalid == 0 }
    /// The bytes of entries after the header.
    package var dataLength: Int { Int(valid) * Self.entrySize }

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<HTABChunkHeader> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                HTABChunkHeader(
                    index: try c.be32(.htabChunkIndex), valid: try c.be16(.htabValidCount),
                    invalid: try c.be16(.htabInvalidCount))
            }
        }
    }
}

/// What QEMU's destination knows of the hash table while it reads `spapr/htab`, and what it
/// refuses (hw/ppc/spapr.c `htab_load`, 7.2 and 10.0): a START's header gives the table's size
/// (2^shift bytes, 16 bytes an entry; -1: no table, size 0), and a chunk that passes its end is refused
/// ("htab_load() bad index ..."; QEMU sums in 32 bits, and a sum that wraps crashed QEMU 10.0:
/// summed in 64 here). Before any START, the destination's own table applies: not known here.
package struct HTABLoadState: Sendable, Equatable {
    /// The table's size log2 as the last START gave it (0 after -1), nil before any START.
    package private(set) var shift: UInt32?

    /// The largest table a QEMU source sends: 2^46 bytes, spapr's largest architected size
    /// (hw/ppc/spapr.c `spapr_hpt_shift_for_ramsize`, spapr_hcall.c's resize check).
    package static let largestShift: UInt32 = 46

    package init() {}

    /// Takes a part's header; the reason to refuse it, or nil:
    /// - a table larger than a QEMU source sends, which QEMU's destination would try to
    ///   allocate as it is (no check: past 63 bits the shift is undefined). This is a bound on
    ///   what a source sends, not on what a destination can allocate: QEMU 10.0 fails to
    ///   allocate 2^46 bytes as well (review55 D4), and no size below it is refused;
    /// - a part (header 0, of chunks or none) after -1 freed the table: QEMU's `htab_load` then
    ///   has none to load it into, and under TCG stops on its `assert(kvm_enabled())` (QEMU 7.2
    ///   and 10.0, review55 D2); under KVM it refuses any chunk as past a table of size 0, and
    ///   loads a part with none. A QEMU source sends -1 in every part while its guest has no
    ///   hash table; one whose guest is reset during the migration, which makes the table again,
    ///   then sends such parts (recheck55 D4, recheck55b E2).
    package mutating func take(_ header: HTABPartHeader) -> String? {
        switch header.value {
        case 0:
            guard shift != 0 else {
                return "a hash table part (header 0) after the source sent -1 (no hash table): QEMU's destination "
                    + "has no table to load it into (under TCG it stops on htab_load's assert(kvm_enabled()); "
                    + "under KVM it refuses any chunk in it as past a table of size 0)"
            }
            return nil
        case 0xFFFF_FFFF: shift = 0
        case 1...Self.largestShift: shift = header.value
        default:
            return "a hash table of 2^\(header.value) bytes, past the 2^46 a QEMU source sends at most (spapr's "
                + "largest architected size): QEMU's destination would try to allocate it"
        }
        return nil
    }

    /// The reason to refuse `chunk`, QEMU's own words, or nil: entries past the table.
    package func refusal(_ chunk: HTABChunkHeader) -> String? {
        guard let shift, !chunk.endsPart else { return nil }
        let entries = (UInt64(1) << UInt64(shift)) / UInt64(HTABChunkHeader.entrySize)
        let end = UInt64(chunk.index) + UInt64(chunk.valid) + UInt64(chunk.invalid)
        guard end > entries else { return nil }
        // (QEMU prints the index with %d and the counts with %hd.)
        return
            "an HTAB chunk of entries \(chunk.index) to \(end - 1), past the hash table of \(entries) entries (QEMU: "
            + "\"htab_load() bad index \(Int32(bitPattern: chunk.index)) (\(Int16(bitPattern: chunk.valid))+"
            + "\(Int16(bitPattern: chunk.invalid)) entries) in htab stream (htab_shift=\(shift))\")"
    }
}

/// A record of `s390-storage_attributes`: be64 guest address with flags in its low 12 bits
/// (s390's 4 KiB pages); with MORE, a be64 count of the attribute bytes that follow.
package struct StorageAttributesRecord: Sendable, Equatable {
    package var word: UInt64
    /// The count of attribute bytes after the record (MORE only).
    package var count: UInt64?

    /// The flags (QEMU's STATTR_FLAG_*).
    package var flags: UInt64 { word & 0xFFF }
    package static let endOfPart: UInt64 = 0x01  // EOS
    package static let more: UInt64 = 0x02  // MORE: a count and attribute bytes follow
    package static let error: UInt64 = 0x04  // ERROR: the source could not read them
    package static let done: UInt64 = 0x08  // DONE: the last part's, before its EOS

    /// Why QEMU's destination refuses this record (hw/s390x/s390-stattrib.c `cmma_load`, 7.2
    /// and 10.0), QEMU's words quoted: the flag ERROR, or flags other than EOS, MORE and DONE;
    /// nil for those.
    package var refusal: String? {
        switch flags {
        case Self.endOfPart, Self.more, Self.done: nil
        case Self.error:
            "the source marked its s390 storage attributes incomplete (flag ERROR, 0x04; QEMU: \"Storage attributes "
                + "data is incomplete\")"
        default:
            "unexpected s390 storage attribute flags 0x\(String(flags, radix: 16)) (QEMU: \"Unexpected storage "
                + "attribute flag data\")"
        }
    }

    package struct Decoder: StreamRecordDecoder {
        package init() {}
        package func decode(_ bytes: UnsafeRawBufferPointer) -> FormatDecoded<StorageAttributesRecord> {
            FormatCursor.decode(bytes) { (c: inout FormatCursor) throws(FormatShortfall) in
                let word = try c.be64(.storageAttributesWord)
                guard word & 0xFFF == StorageAttributesRecord.more else {
                    return StorageAttributesRecord(word: word, count: nil)
                }
                return StorageAttributesRecord(word: word, count: try c.be64(.storageAttributesCount))
            }
        }
    }
}
