import CFixtures
import CGLib
import CVMState
import Testing

@testable import VMState

/// A whole-stream load's edges: where it stops reading, what it holds in memory, records QEMU's
/// destination refuses, and what its messages say (a newcomer's findings, 2026-12-01).
struct StreamLoaderEdgeTests {
    typealias Stream = HostileStreamTests

    /// 0x08 PAGE records, the first naming the block, the rest CONTINUE, each page filled
    /// with its number's low byte; EOS. As a RAM section START with id 2 (and the block's
    /// MEM_SIZE record), then its footer.
    /// The RAM section's START (section id 2) up to its block list: MEM_SIZE with `total`, then
    /// pc.ram of 4 pages (more entries, or records, may follow).
    static func ramStart(total: UInt64) -> HxWire {
        let w = HxWire()
        w.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        w.be64(total | 0x04)
        w.u8(6).text("pc.ram").be64(4 * 4096)
        return w
    }

    static func ramSection(block: String = "pc.ram", blockLength: UInt64, pages: Int, records: [UInt64] = [])
        -> [UInt8]
    {
        let w = HxWire()
        w.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        w.be64(blockLength | 0x04).u8(UInt8(block.utf8.count)).text(block).be64(blockLength)
        for n in 0..<pages {
            if n == 0 {
                w.be64(0x08).u8(UInt8(block.utf8.count)).text(block)
            } else {
                w.be64(UInt64(n) * 4096 | 0x28)
            }
            w.fill(4096, UInt8(truncatingIfNeeded: n))
        }
        for record in records { w.be64(record) }
        w.be64(0x10).u8(0x7E).be32(2)
        return w.bytes
    }

    /// A registry of hx devices (Tests/CFixtures), some added without their size; no RAM.
    static func registry(unsized: [String] = [], sized: [String] = [], sample: Bool = false)
        throws -> (Registry, [HxDevice])
    {
        let registry = Registry()
        var devices: [HxDevice] = []
        for name in unsized {
            let d = HxDevice(name, sample: sample)
            devices.append(d)
            try registry.add(idstr: name, instanceID: 0, vmsd: d.vmsd, opaque: d.opaque)
        }
        for name in sized {
            let d = HxDevice(name, sample: sample)
            devices.append(d)
            try registry.add(idstr: name, instanceID: 0, vmsd: d.vmsd, opaque: d.opaque, size: d.size)
        }
        return (registry, devices)
    }

    // MARK: - where reading stops

    /// A stream cut inside a configuration subsection's header (QEMU 10.0's mapped-ram stream:
    /// `configuration/capabilities` at byte 27) ended early, from a buffer and from a GIO
    /// stream: not a 0x05 taken for the next section's type.
    @Test func aCutInsideAConfigurationSubsectionHeaderIsAnEarlyEnd() throws {
        let stream = try TestPaths.readBytes(TestPaths.qemu10Fixtures + "/mapped-ram/stream.bin")
        let name = Array("configuration/capabilities".utf8)
        #expect(Array(stream[27..<29 + name.count]) == [0x05, UInt8(name.count)] + name)
        for cut in 28..<(27 + 2 + name.count + 4) {
            let e = try #require(
                thrownError(VMStateError.self) { try Registry().load(Array(stream[..<cut]), options: .keepUnknown) })
            #expect(e.kind == .shortInput, "cut \(cut): \(e)")
            #expect(e.reason.contains("configuration subsection header"), "cut \(cut): \(e)")
            let r = StreamIOTests.loadFromStream(
                Registry(), Array(stream[..<cut]), chunk: 7, flags: Registry.LoadOptions.keepUnknown.rawValue)
            #expect(
                !r.ok && r.code == VMStateError.Kind.shortInput.rawValue && r.message == e.description, "cut \(cut)")
        }
    }

    /// A vmdesc followed by other bytes still gives unknown sections their sizes (as the load
    /// without SKIP_UNKNOWN, which stops at EOF, accepts such a stream), from a buffer and from
    /// a stream.
    @Test func unknownSectionsAreSkippedWhenBytesFollowTheVMDesc() throws {
        let stream = Stream.stream([Stream.unknown], vmdesc: Stream.vmdesc(size: "4")) + [0x01, 0x02, 0x03]
        for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
            let (viaBuffer, _) = try Self.registry()
            try viaBuffer.load(stream, options: options)
            let (viaStream, _) = try Self.registry()
            let r = StreamIOTests.loadFromStream(viaStream, stream, chunk: 7, flags: options.rawValue)
            #expect(r.ok, "\(r.message)")
        }
        // Kept: written back as it came, the vmdesc's device object with it.
        let (kept, _) = try Self.registry()
        try kept.load(stream, options: .keepUnknown)
        let saved = try kept.save()
        #expect(saved.count > 0)
        #expect(saved.starts(with: Array(stream[0..<17])))
        #expect(Array(saved[17..<(17 + Stream.unknown.count)]) == Stream.unknown)
    }

    /// An unknown section whose vmdesc claims more bytes than come before the EOF marker is
    /// refused before anything is held for it, also over a stream that has not ended (the
    /// reading stopped at the vmdesc).
    @Test func anUnknownSectionLongerThanTheStreamIsRefused() throws {
        let stream = Stream.stream([Stream.unknown], vmdesc: Stream.vmdesc(size: "2000000000"))
        let expected =
            "cannot skip section \"mystery\" instance 0: the stream's vmdesc does not describe it (it gives more bytes "
            + "than come before the EOF marker) (QEMU 7.2 and 10.0 give an array of pointers with NULL entries a wrong "
            + "size: VMS_ARRAY_OF_POINTER), or the section is damaged; expected 2000000000 bytes, got 9 left before "
            + "the EOF marker (at byte 38)"
        try Self.expectSkipRefused(
            stream, expected, chunk: 4096, cut: Int64(stream.count),
            failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
    }

    /// Loads `stream` with SKIP_UNKNOWN and with KEEP_UNKNOWN, over a stream (`chunk`, `cut`,
    /// `failCode` as ``StreamIOTests/loadFromStream``) and from a buffer: each is refused with
    /// code 14 (unknown section) and the message `expected`.
    static func expectSkipRefused(
        _ stream: [UInt8], _ expected: String, chunk: Int, cut: Int64 = -1, failCode: Int32 = 0
    ) throws {
        for options: Registry.LoadOptions in [.skipUnknown, .keepUnknown] {
            let (registry, _) = try Self.registry()
            let r = StreamIOTests.loadFromStream(
                registry, stream, chunk: chunk, flags: options.rawValue, cut: cut, failCode: failCode)
            #expect(r.code == VMStateError.Kind.unknownSection.rawValue && r.message == expected, "\(r.message)")
            let (viaBuffer, _) = try Self.registry()
            let e = try #require(thrownError(VMStateError.self) { try viaBuffer.load(stream, options: options) })
            #expect(e.kind == .unknownSection && e.description == expected, "\(e)")
        }
    }

    /// An unknown section whose footer is not where its vmdesc's size ends, with a section
    /// after it: the vmdesc does not describe it (as QEMU 7.2's and 10.0's of an array of
    /// pointers with a NULL entry past the first), code 14, not damaged data (docs50 D1).
    @Test func anUnknownSectionItsVMDescDoesNotDescribeIsRefused() throws {
        let stream = Stream.stream(
            [Stream.unknown, Stream.section(10, "other", [9])], vmdesc: Stream.vmdesc(size: "1", arrayLen: "6"))
        let expected =
            "cannot skip section \"mystery\" instance 0: the stream's vmdesc does not describe it (its footer is not "
            + "where the vmdesc's 6 bytes end) (QEMU 7.2 and 10.0 give an array of pointers with NULL entries a wrong "
            + "size: VMS_ARRAY_OF_POINTER), or the section is damaged; expected 0x7e and section id 9, got 0x00 and "
            + "590848 (at byte 44)"
        try Self.expectSkipRefused(stream, expected, chunk: 7)
    }

    /// No vmdesc at all: a stream that ends at its EOF marker was written without one (QEMU's
    /// suppress-vmdesc), the section cannot be skipped; one cut before it is an early end, at
    /// the stream's end.
    /// A stream cut inside its vmdesc (its marker, its length, or its JSON text) says so, with
    /// where the vmdesc starts, through a stream and from a buffer.
    @Test func anUnknownSectionWithAVMDescCutShortIsAnEarlyEnd() throws {
        let stream = Stream.stream([Stream.unknown], vmdesc: Stream.vmdesc(size: "9"))
        let marker = try #require(stream.lastIndex(of: 0x06))
        let jsonLength = stream.count - marker - 5
        for (cut, whole) in [
            (marker + 1, ""), (marker + 4, ""), (marker + 5, ", \(jsonLength) bytes of JSON"),
            (stream.count - 1, ", \(jsonLength) bytes of JSON"),
        ] {
            let bytes = Array(stream[..<cut])
            let expected =
                "the stream ended (cut short) inside its vmdesc (at byte \(marker)\(whole)), which gives the size of "
                + "section \"mystery\" instance 0 (at byte 17): it cannot be skipped without it (at byte \(cut))"
            let (registry, _) = try Self.registry()
            let r = StreamIOTests.loadFromStream(
                registry, bytes, chunk: 4096, flags: Registry.LoadOptions.skipUnknown.rawValue)
            #expect(r.code == VMStateError.Kind.shortInput.rawValue, "cut at \(cut)")
            #expect(r.message == expected)
            let (viaBuffer, _) = try Self.registry()
            let e = try #require(thrownError(VMStateError.self) { try viaBuffer.load(bytes, options: .keepUnknown) })
            #expect(e.kind == .shortInput)
            #expect(e.description == expected)
        }
    }

    /// The same where the bytes before the cut hold, by chance, a 0x06 and a be32 length that
    /// reaches the cut (here in the skipped section's data): still an early end, not an
    /// unreadable vmdesc (QEMU 7.2's pc-bios stream cut so: 13 of 124,560 cut lengths).
    @Test func aChanceMarkerBeforeACutVMDescIsAnEarlyEnd() throws {
        var stream = Stream.stream(
            [Stream.section(9, "mystery", [0x06, 0, 0, 0, 0, 7, 7, 7])],
            vmdesc: Stream.vmdesc(size: "1", arrayLen: "8"))
        let marker = try #require(stream.lastIndex(of: 0x06))
        let cut = marker + 5 + 20
        // The data after the header (17 bytes) and the section's (type, id, name, instance, version).
        let at = 17 + 21
        #expect(stream[at] == 0x06)
        stream.replaceSubrange(at + 1..<at + 5, with: withUnsafeBytes(of: UInt32(cut - at - 5).bigEndian, Array.init))
        let bytes = Array(stream[..<cut])
        let expected =
            "the stream ended (cut short) inside its vmdesc (at byte \(marker), \(stream.count - marker - 5) bytes of JSON), "
            + "which gives the size of section \"mystery\" instance 0 (at byte 17): it cannot be skipped without it (at byte \(cut))"
        let (registry, _) = try Self.registry()
        let r = StreamIOTests.loadFromStream(
            registry, bytes, chunk: 4096, flags: Registry.LoadOptions.skipUnknown.rawValue)
        #expect(r.code == VMStateError.Kind.shortInput.rawValue && r.message == expected, "\(r.message)")
        let (viaBuffer, _) = try Self.registry()
        let e = try #require(thrownError(VMStateError.self) { try viaBuffer.load(bytes, options: .skipUnknown) })
        #expect(e.kind == .shortInput && e.description == expected, "\(e)")
    }

    @Test func anUnknownSectionWithoutAVMDescIsRefused() throws {
        let stream = Stream.stream([Stream.unknown])
        let (registry, _) = try Self.registry()
        let r = StreamIOTests.loadFromStream(
            registry, stream, chunk: 4096, flags: Registry.LoadOptions.skipUnknown.rawValue)
        #expect(!r.ok)
        #expect(r.code == VMStateError.Kind.unknownSection.rawValue)
        #expect(
            r.message
                == "cannot skip section \"mystery\" instance 0: the stream ends at its EOF marker without the vmdesc "
                + "that gives its size (written without one, as with QEMU's suppress-vmdesc, or cut short right after "
                + "that marker) (at byte 17)")

        let cut = Array(stream.dropLast(1))
        for viaBuffer in [false, true] {
            let (registry, _) = try Self.registry()
            var message = "", code: Int32 = 0
            if viaBuffer {
                let e = thrownError(VMStateError.self) { try registry.load(cut, options: .skipUnknown) }
                (message, code) = (e?.description ?? "", e?.kind.rawValue ?? 0)
            } else {
                let r = StreamIOTests.loadFromStream(
                    registry, cut, chunk: 4096, flags: Registry.LoadOptions.skipUnknown.rawValue)
                (message, code) = (r.message, r.code)
            }
            #expect(code == VMStateError.Kind.shortInput.rawValue)
            #expect(
                message
                    == "the stream ended (cut short) before the vmdesc that gives the size of section \"mystery\" "
                    + "instance 0 (at byte 17), which cannot be skipped without it (at byte \(cut.count))")
        }
    }

    /// Over a stream, at most 64 MiB after an unknown section are held to find its size.
    @Test func anUnknownSectionMoreThan64MiBBeforeTheVMDescIsRefusedOverAStream() throws {
        let big = Stream.section(9, "mystery", [UInt8](repeating: 0x5A, count: 65 << 20))
        let vmdesc =
            #"{"page_size": 4096, "devices": [{"name": "mystery", "instance_id": 0, "vmsd_name": "m", "version": 1, "fields": [{"name": "x", "type": "buffer", "size": 68157440}]}]}"#
        let stream = Stream.stream([big], vmdesc: vmdesc)
        let (registry, _) = try Self.registry()
        let r = StreamIOTests.loadFromStream(
            registry, stream, chunk: 1 << 20, flags: Registry.LoadOptions.skipUnknown.rawValue)
        #expect(!r.ok)
        #expect(r.code == VMStateError.Kind.unknownSection.rawValue)
        #expect(
            r.message
                == "cannot skip section \"mystery\" instance 0: more than 64 MiB of stream follow it before the vmdesc that gives its size (at byte 17)"
        )
        // From a buffer, which holds it all already, it is skipped.
        let (whole, _) = try Self.registry()
        try whole.load(stream, options: .skipUnknown)
    }

    // MARK: - RAM kept without RAM registered

    /// KEEP_UNKNOWN with no RAM registered holds the stream's RAM to write it back: at most
    /// 64 MiB of it, else the load fails before holding more (from a stream) or copying it (from
    /// a buffer). Below that it comes back byte for byte.
    @Test func keptRAMIsBoundedTo64MiB() throws {
        let pages = (64 << 20) / 4104 + 10
        let large = Stream.stream([Self.ramSection(blockLength: 0x500_0000, pages: pages)])
        let expected =
            "section \"ram\" instance 0: cannot keep the stream's RAM, which no registered RAM block takes: VMSTATE_LOAD_KEEP_UNKNOWN holds at most 64 MiB of it in memory (register its RAM blocks to load it instead) (at byte 17)"
        let (viaStream, _) = try Self.registry()
        let r = StreamIOTests.loadFromStream(
            viaStream, large, chunk: 1 << 20, flags: Registry.LoadOptions.keepUnknown.rawValue)
        #expect(!r.ok)
        #expect(r.domain == vmstate_error_quark() && r.code == VMStateError.Kind.ram.rawValue)
        #expect(r.message == expected)
        let (viaBuffer, _) = try Self.registry()
        let e = try #require(thrownError(VMStateError.self) { try viaBuffer.load(large, options: .keepUnknown) })
        #expect(e.description == expected)

        let section = Self.ramSection(blockLength: 0x10_0000, pages: 40)
        let small = Stream.stream([section])
        let (kept, _) = try Self.registry()
        let s = StreamIOTests.loadFromStream(kept, small, chunk: 4096, flags: Registry.LoadOptions.keepUnknown.rawValue)
        #expect(s.ok, "\(s.message)")
        let saved = try kept.save()
        #expect(Array(saved[0..<(17 + section.count + 1)]) == small)
    }

    // MARK: - RAM records QEMU refuses

    /// A RAM record of no kind (flags 0, as the zero bytes a save that died leaves in its
    /// preallocated file) or of two kinds at once is refused, as QEMU's destination refuses it.
    @Test(arguments: [UInt64(0), 0x20, 0x0A, 0x14])
    func aRAMRecordOfNoOneKindIsRefused(_ flags: UInt64) throws {
        let section = Self.ramSection(blockLength: 4 * 4096, pages: 2, records: [flags])
        // With a vmdesc of 4 KiB pages: the page size is known.
        let stream = Stream.stream([section], vmdesc: #"{"page_size": 4096, "devices": []}"#)
        let machine = try Stream.Machine()
        let e = machine.error(stream)
        // Section header (17 bytes from 17), MEM_SIZE record (23), first page (4111), second (4104).
        let at = 17 + 17 + 23 + 4111 + 4104
        #expect(e.kind == .ram)
        #expect(
            e.description
                == "section \"ram\" instance 0: Unknown combination of migration flags: 0x\(String(flags, radix: 16)); expected one of 0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x40 XBZRLE, 0x100 compressed page (0x20 continue may be added) (at byte \(at))"
        )
        // Without one, right after a page's data, a record of flags (a word not all zero bytes)
        // may be the rest of a larger page, and the error says so.
        let unsure = machine.error(Stream.stream([section]))
        let hint = "(right after a page of 4096 bytes: if the source's target has pages of another size"
        #expect(unsure.description.contains(hint) == (flags != 0), "\(unsure)")
    }

    /// Zero bytes where a section starts (a save that died at a section boundary, its file's
    /// preallocated tail after it) are not an EOF marker: the load fails, from a buffer and
    /// from a stream, and restores what it can.
    @Test func zeroBytesAfterAnEOFAreACut() throws {
        let (source, sourceDevices) = try Self.registry(sized: ["hx-scalars", "hx-varray"], sample: true)
        defer { withExtendedLifetime(sourceDevices) {} }
        let stream = try source.save(machineType: "tiny")
        // The second section starts where the first one's footer ends.
        let footer: [UInt8] = [0x7E, 0, 0, 0, 1]
        let starts = Array(17..<(stream.count - 5))
        let found = starts.first { (i: Int) -> Bool in Array(stream[i..<(i + 5)]) == footer }
        let firstFooter = try #require(found)
        let boundary = firstFooter + 5
        let cut = Array(stream[..<boundary]) + [UInt8](repeating: 0, count: 4096)
        let expected =
            "the stream ends in zero bytes here (0x00 where a section or the EOF marker is read, then 0x00 instead of the vmdesc's 0x06): it was cut short, as the preallocated file of a save that did not finish is"
        let (target, targetDevices) = try Self.registry(sized: ["hx-scalars", "hx-varray"])
        defer { withExtendedLifetime(targetDevices) {} }
        let e = try #require(thrownError(VMStateError.self) { try target.load(cut) })
        #expect(e.kind == .shortInput)
        #expect(e.description == expected + " (at byte \(boundary))")
        let r = StreamIOTests.loadFromStream(target, cut, chunk: 7, flags: Registry.LoadOptions.transactional.rawValue)
        #expect(r.code == VMStateError.Kind.shortInput.rawValue)
        #expect(
            r.message == expected + " (load rolled back: the state is as it was before the call) (at byte \(boundary))")
    }

    /// With some RAM registered, every block the stream has and the registry lacks is named
    /// in one error, at the first one's entry (with no RAM at all, the first block:
    /// RegistryTests).
    @Test func everyMissingRAMBlockIsNamed() throws {
        let w = Self.ramStart(total: 4 * 4096 + 0x20000 + 0x40000)
        w.u8(20).text("/rom@etc/acpi/tables").be64(0x20000)
        w.u8(7).text("pc.bios").be64(0x40000)
        w.be64(0x10).u8(0x7E).be32(2)
        let machine = try Stream.Machine()
        let e = machine.error(Stream.stream([w.bytes]))
        #expect(e.kind == .ram)
        #expect(
            e.description
                == "/rom@etc/acpi/tables: section \"ram\" instance 0: the stream has 2 RAM blocks that are not registered: \"/rom@etc/acpi/tables\" (131072 bytes), \"pc.bios\" (262144 bytes) (at byte 57)"
        )
        let one = HxWire()
        one.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        one.be64((4 * 4096 + 0x40000) | 0x04).u8(6).text("pc.ram").be64(4 * 4096).u8(7).text("pc.bios").be64(0x40000)
        one.be64(0x10).u8(0x7E).be32(2)
        #expect(
            machine.error(Stream.stream([one.bytes])).description
                == "pc.bios: section \"ram\" instance 0: the stream has a RAM block that is not registered (262144 bytes) (at byte 57)"
        )
    }

    /// A block whose length differs from the registered one's: the error is at its be64 length
    /// (the entry at 42: name length byte, "pc.ram", then the length at 49).
    @Test func aRAMBlockLengthThatDiffersIsAnErrorAtTheLength() throws {
        let w = HxWire()
        w.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        w.be64((8 * 4096) | 0x04).u8(6).text("pc.ram").be64(8 * 4096)
        w.be64(0x10).u8(0x7E).be32(2)
        let e = try Stream.Machine().error(Stream.stream([w.bytes]))
        #expect(e.kind == .ram && e.offset == 49)
        #expect(
            e.description
                == "pc.ram: section \"ram\" instance 0: RAM block length differs; expected 16384, got 32768 (at byte 49)"
        )
    }

    /// A stream naming thousands of blocks the registry lacks (a hostile one, its names full of
    /// control characters) gets a message of the first 16 and a count, not all of them: the
    /// fuzzer's stream target once spent 30 s building (and escaping) such a message.
    @Test func aThousandMissingRAMBlocksAreCountedNotListed() throws {
        let w = HxWire()
        w.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        let count = 1000
        func three(_ i: Int) -> String { String(String(i + 1000).dropFirst()) }
        w.be64(UInt64(4 * 4096 + count * 4096) | 0x04)
        w.u8(6).text("pc.ram").be64(4 * 4096)
        for i in 0..<count { w.u8(5).text("b\u{1}\(three(i))").be64(4096) }
        w.be64(0x10).u8(0x7E).be32(2)
        let e = try Stream.Machine().error(Stream.stream([w.bytes]))
        let shown = (0..<16).map { "\"b\\x01\(three($0))\" (4096 bytes)" }.joined(separator: ", ")
        #expect(
            e.description
                == "b\\x01000: section \"ram\" instance 0: the stream has 1000 RAM blocks that are not registered: "
                + shown + " and 984 more (at byte 57)")
    }

    /// A `"` or `\` in a block's name is escaped in the list, which then reads one way
    /// (ramblocks F2: `"a "b"`).
    @Test func quotesInMissingRAMBlockNamesAreEscaped() throws {
        let w = HxWire()
        w.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        w.be64(UInt64(4 * 4096 + 2 * 4096) | 0x04)
        w.u8(6).text("pc.ram").be64(4 * 4096)
        w.u8(4).text("a \"b").be64(4096)
        w.u8(3).text("c\\d").be64(4096)
        w.be64(0x10).u8(0x7E).be32(2)
        let e = try Stream.Machine().error(Stream.stream([w.bytes]))
        #expect(
            e.description
                == #"a "b: section "ram" instance 0: the stream has 2 RAM blocks that are not registered: "a \"b" (4096 bytes), "c\\d" (4096 bytes) (at byte 57)"#
        )
    }

    /// A block name that is not UTF-8, in the list or in a page record, is refused as such:
    /// read with U+FFFD for its bytes it could be taken for a registered block of that name
    /// (hostile10 F3).
    @Test func ramBlockNamesNotUTF8AreRefused() throws {
        let listed = HxWire()
        listed.u8(1).be32(2).u8(3).text("ram").be32(0).be32(4)
        listed.be64(UInt64(4 * 4096) | 0x04)
        listed.u8(6).text("pc.r").u8(0x80).text("m").be64(4 * 4096)
        listed.be64(0x10).u8(0x7E).be32(2)
        let inList = try Stream.Machine().error(Stream.stream([listed.bytes]))
        #expect(
            inList.description
                == "pc.r\u{FFFD}m: section \"ram\" instance 0: RAM block name is not UTF-8 (QEMU names RAM blocks after device ids and paths) (at byte 42)"
        )
        let paged = Self.ramStart(total: 4 * 4096)
        paged.be64(0x02).u8(6).text("pc.r").u8(0x80).text("m").u8(0)  // a zero page of "pc.r\x80m"
        paged.be64(0x10).u8(0x7E).be32(2)
        let inPage = try Stream.Machine().error(Stream.stream([paged.bytes]))
        #expect(
            inPage.description
                == "pc.r\u{FFFD}m: section \"ram\" instance 0: RAM block name is not UTF-8 (QEMU names RAM blocks after device ids and paths) (at byte 65)"
        )
    }

    /// A block listed twice (a total larger than the blocks' lengths reads the records after
    /// the list as entries, until one names a block again): said so, at the second entry.
    @Test func aBlockListedTwiceIsNamedAsSuch() throws {
        let w = Self.ramStart(total: 8 * 4096)
        w.u8(6).text("pc.ram").be64(4 * 4096)
        w.be64(0x10).u8(0x7E).be32(2)
        let e = try Stream.Machine().error(Stream.stream([w.bytes]))
        #expect(
            e.description
                == "pc.ram: section \"ram\" instance 0: RAM block listed twice at the RAM section's start: the total is more than the lengths of the blocks listed before it add up to, or the list is damaged; expected 32768 bytes, got 16384 bytes listed before it (at byte 57)"
        )
    }

    /// A stream cut inside a subsection's header, where the section's footer is due, is an early
    /// end there, not a section of another length ("bad footer ... got 0x05").
    @Test func aCutInsideASubsectionHeaderIsAnEarlyEnd() throws {
        let ptr = HxPtrWire(n16: 3, nu32: 2, nstruct: 2, blen: 5, vlen: 10, bits: 70).bytes
        // As Stream.stream and Stream.section write them (a configuration section: footers are
        // due), the section's data whole, then the tail.
        let head = HxWire().be32(0x5145_564D).be32(3).u8(7).be32(4).text("tiny").u8(4).be32(1).u8(6).text("hx-ptr")
            .be32(0).be32(1).raw(ptr).bytes
        let tails: [[UInt8]] = [
            [0x05], [0x05, 20], [0x05, 20] + Array("hx-ptr/sub".utf8), [0x05, 4] + Array("hx-p".utf8) + [0, 0],
        ]
        for tail in tails {
            let e = try Stream.Machine().error(head + tail)
            #expect(e.kind == .shortInput && e.offset == head.count, "\(e)")
            #expect(
                e.description
                    == "stream ended inside a subsection header at the end of section \"hx-ptr\" (0x05, the name's length, the name and a be32 version) (at byte \(head.count))",
                "\(tail)")
        }
    }

    /// A total no entries reach, and entries that add nothing (length 0, named "z00000" on): the entries
    /// are read up to 65,536 and refused there, not to the stream's end (unregistered blocks,
    /// once collected without bound, took 634 MB for a 90 MB stream and then aborted).
    @Test func blockEntriesThatNeverReachTheTotalAreBounded() throws {
        let w = Self.ramStart(total: 5 * 4096)
        for i in 0..<70_000 { w.u8(6).text("z" + String(String(100_000 + i).dropFirst())).be64(0) }
        w.be64(0x10).u8(0x7E).be32(2)
        let e = try Stream.Machine().error(Stream.stream([w.bytes]))
        // Entry 1 (pc.ram) at 42, then 15 bytes an entry from 57: entry 65,537 at 57 + 65,535 x 15.
        #expect(
            e.description
                == "section \"ram\" instance 0: more than 65536 RAM block entries at the RAM section's start, and their lengths do not reach its total; expected 20480 bytes, got 16384 bytes so far (at byte \(57 + 65_535 * 15))"
        )
    }

    /// A stream of 8 KiB pages (sparc64's) read from a GIO stream: its vmdesc, which gives the
    /// page size, comes after the RAM, whose ZERO records then cleared the first 4 KiB of each
    /// page only. The load fails at the vmdesc (before it completes) instead of succeeding with
    /// half of every page as it was; from a buffer it is refused at the RAM section.
    @Test func pagesOfAnotherSizeFailAGIOLoadAtTheVMDesc() throws {
        let w = Self.ramStart(total: 4 * 4096)
        w.be64(0x02).u8(6).text("pc.ram").u8(0)
        w.be64(UInt64(8192) | 0x02 | 0x20).u8(0)
        w.be64(0x10).u8(0x7E).be32(2)
        let vmdesc =
            #"{"page_size": 8192, "devices": [{"name": "ram", "instance_id": 0, "vmsd_name": "ram", "version": 4}]}"#
        let bytes = Stream.stream([w.bytes], vmdesc: vmdesc)
        let machine = try Stream.Machine()
        machine.ram.initializeMemory(as: UInt8.self, repeating: 0xAA, count: 4 * 4096)
        let viaStream = machine.loadFromStream(bytes, chunk: 7)
        #expect(!viaStream.ok)
        #expect(
            viaStream.message
                == "the stream's RAM pages are 8192 bytes (its vmdesc's page_size: a target whose pages are not 4 KiB), which the registry's 4 KiB pages do not load; read from a GIO stream, its vmdesc comes after the RAM, which was loaded as 4 KiB pages and is not as the source had it; expected 4096, got 8192 (at byte \(bytes.count - vmdesc.utf8.count - 5))"
        )
        let e = try Stream.Machine().error(bytes)
        #expect(
            e.kind == .badStream
                && e.description.contains("the stream's RAM pages are 8192 bytes (its vmdesc's page_size"), "\(e)")
        // A vmdesc of 4 KiB pages loads, from a GIO stream as from a buffer.
        let fourK = Stream.stream([w.bytes], vmdesc: vmdesc.replacingOccurrences(of: "8192", with: "4096"))
        #expect(try Stream.Machine().loadFromStream(fourK, chunk: 7).ok)
    }

    /// The same with a page of data (0xAB bytes): the second half of the 8 KiB page is read as the
    /// next record, whose flags QEMU never writes; the error says what that most likely is.
    @Test func pageDataOfALargerPageIsNamedAsSuch() throws {
        let w = Self.ramStart(total: 4 * 4096)
        w.be64(0x08).u8(6).text("pc.ram").raw([UInt8](repeating: 0xAB, count: 8192))
        w.be64(0x10).u8(0x7E).be32(2)
        let at = 17 + w.bytes.count - 8192 - 13 + 4096
        let bytes = Stream.stream([w.bytes], vmdesc: #"{"page_size": 8192, "devices": []}"#)
        let viaStream = try Stream.Machine().loadFromStream(bytes, chunk: 4093)
        #expect(!viaStream.ok)
        #expect(
            viaStream.message
                == "section \"ram\" instance 0: a RAM record the registry does not load: a RAM hook (RDMA migration), a multifd flush (capability multifd, whose pages go on other channels; QEMU 8.1.0-8.1.2 write it without multifd too), unknown flags 0x801 (right after a page of 4096 bytes: if the source's target has pages of another size, as its vmdesc's page_size would say, this is the rest of a larger page (sparc64's 8 KiB) or what follows a smaller one (ARM boards' 1 KiB, AVR's 256 bytes), misread with the registry's 4 KiB pages, which do not load them); expected flags among 0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x20 continue, 0x40 XBZRLE, 0x100 compressed page, got 0x0a81 (of the record's flags 0x0bab) (at byte \(at))"
        )
        // Not for an x86 machine type (its pages are 4 KiB), nor for a record QEMU defines (a
        // multifd flush alone, which QEMU 8.1.0-8.1.2 write after a pass's last page).
        let tiny: [UInt8] = [0x51, 0x45, 0x56, 0x4D, 0, 0, 0, 3, 7, 0, 0, 0, 4] + Array("tiny".utf8)
        #expect(Array(bytes.prefix(tiny.count)) == tiny)
        let pc = Array(tiny.prefix(9)) + [0, 0, 0, 10] + Array("pc-q35-7.2".utf8) + bytes.dropFirst(tiny.count)
        let onPC = try Stream.Machine().loadFromStream(pc, chunk: 4093)
        #expect(!onPC.ok && onPC.message.contains("unknown flags 0x801; expected"), "\(onPC.message)")
        let flush = Self.ramStart(total: 4 * 4096)
        flush.be64(0x08).u8(6).text("pc.ram").raw([UInt8](repeating: 0xAB, count: 4096)).be64(0x200)
        let afterFlush = try Stream.Machine().loadFromStream(Stream.stream([flush.bytes]), chunk: 4093)
        #expect(
            afterFlush.message
                == "section \"ram\" instance 0: a RAM record the registry does not load: a multifd flush (capability multifd, whose pages go on other channels; QEMU 8.1.0-8.1.2 write it without multifd too); expected flags among 0x02 zero, 0x04 size, 0x08 page, 0x10 end, 0x20 continue, 0x40 XBZRLE, 0x100 compressed page, got 0x0200 (at byte \(17 + flush.bytes.count - 8))"
        )
    }

    /// Control characters are written out in one pass, whatever the text's length: C0 and DEL as
    /// `\xNN`, C1 as `\u00NN`, other text (multi-byte included) as it is.
    @Test func controlCharactersAreEscapedThroughALongText() {
        let unit = "a\u{0}é\u{7F}\u{9B}\n€"
        let text = String(repeating: unit, count: 20000)
        let escaped = escapingControlCharacters(text)
        #expect(escaped == String(repeating: "a\\x00é\\x7f\\u009b\\x0a€", count: 20000))
        #expect(escapingControlCharacters(unit, keepingNewlines: true) == "a\\x00é\\x7f\\u009b\n€")
        #expect(escapingControlCharacters("plain ü") == "plain ü")
        // Bidi overrides and isolates (a name shown reversed), not the characters around them.
        #expect(
            escapingControlCharacters("a\u{202E}b\u{202A}\u{2066}\u{2069}\u{2029}\u{2070}€")
                == "a\\u202eb\\u202a\\u2066\\u2069\u{2029}\u{2070}€")
    }

    // MARK: - messages

    /// A transactional load that fails says what it did not restore: devices added without a
    /// size whose section it reached.
    @Test func aRollBackSaysWhatItDidNotRestore() throws {
        let (source, sourceDevices) = try Self.registry(unsized: ["hx-scalars"], sized: ["hx-varray"], sample: true)
        defer { withExtendedLifetime(sourceDevices) {} }
        let stream = try source.save(machineType: "tiny")
        let (target, targetDevices) = try Self.registry(unsized: ["hx-scalars"], sized: ["hx-varray"])
        defer { withExtendedLifetime(targetDevices) {} }
        // Cut inside the last section's footer (the EOF byte comes before the vmdesc's 0x06).
        let cut = Array(stream[..<(stream.lastIndex(of: 0x06)! - 1 - 3)])
        let e = try #require(thrownError(VMStateError.self) { try target.load(cut, options: .transactional) })
        #expect(
            e.reason.hasSuffix(
                "(load rolled back: the devices added with a size are as they were before the call; not restored (added without a size, or RAM): section \"hx-scalars\" instance 0)"
            ), "\(e.description)")
        // All sized: all restored.
        let (sizedSource, sizedDevices) = try Self.registry(sized: ["hx-scalars", "hx-varray"], sample: true)
        defer { withExtendedLifetime(sizedDevices) {} }
        let sizedStream = try sizedSource.save(machineType: "tiny")
        let (sizedTarget, sizedTargetDevices) = try Self.registry(sized: ["hx-scalars", "hx-varray"])
        defer { withExtendedLifetime(sizedTargetDevices) {} }
        let f = try #require(
            thrownError(VMStateError.self) {
                try sizedTarget.load(
                    Array(sizedStream[..<(sizedStream.lastIndex(of: 0x06)! - 1 - 3)]), options: .transactional)
            })
        #expect(f.reason.hasSuffix("(load rolled back: the state is as it was before the call)"), "\(f.description)")
    }

    /// A load that fails at a device section's footer, after the device's fields all loaded: a
    /// device added without a size keeps what it loaded, and the message names it (it said the
    /// state was as it was before the call); one added with its size is put back.
    @Test func aRollBackAtAFooterNamesTheDeviceItLoaded() throws {
        for sized in [false, true] {
            let (source, sourceDevices) = try Self.registry(
                unsized: sized ? [] : ["hx-scalars"], sized: sized ? ["hx-scalars"] : [], sample: true)
            defer { withExtendedLifetime(sourceDevices) {} }
            var stream = try source.save(machineType: "tiny")
            let (target, targetDevices) = try Self.registry(
                unsized: sized ? [] : ["hx-scalars"], sized: sized ? ["hx-scalars"] : [])
            defer { withExtendedLifetime(targetDevices) {} }
            let before = targetDevices[0].digest
            // The section's footer (0x7e, be32 section id) before the EOF byte and the vmdesc
            // (0x06, be32 length, the JSON to the end): another section id in it.
            let eof = try #require(
                stream.indices.dropLast(6).last { i in
                    stream[i] == 0 && stream[i + 1] == 0x06
                        && stream[i + 2..<i + 6].reduce(0) { $0 << 8 | Int($1) } == stream.count - i - 6
                })
            try #require(stream[eof - 5] == 0x7E)
            let id = stream[eof - 1]
            stream[eof - 1] ^= 0x10
            let e = try #require(thrownError(VMStateError.self) { try target.load(stream, options: .transactional) })
            let rolledBack =
                sized
                ? "the state is as it was before the call"
                : "the devices added with a size are as they were before the call; not restored (added without a "
                    + "size, or RAM): section \"hx-scalars\" instance 0"
            #expect(
                e.description
                    == "bad footer after section \"hx-scalars\" (a footer with another section's id) (load rolled back: \(rolledBack)); expected 0x7e and section id \(id), got 0x7e and \(id ^ 0x10) (at byte \(eof - 5))",
                "sized \(sized)")
            #expect((targetDevices[0].digest == before) == sized, "sized \(sized)")
        }
    }

    /// A read that fails inside a RAM page: the stream's error where it failed, and the page it
    /// cut (its data, after the record's 8-byte header).
    @Test func aFailedReadNamesThePageItCut() throws {
        let stream = Stream.stream([Self.ramSection(blockLength: 4 * 4096, pages: 3)])
        let machine = try Stream.Machine()
        let secondPage = 17 + 17 + 23 + 4111
        let cut = secondPage + 100
        let r = machine.loadFromStream(
            stream, chunk: 4096, cut: Int64(cut), failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
        #expect(!r.ok)
        #expect(
            r.message
                == "section \"ram\" instance 0: reading the stream failed: connection reset by test; it cut a RAM page that starts at byte \(secondPage + 8) (at byte \(cut))"
        )
        // Inside a section's header (its instance id, 26-29): the section is named, as where the
        // stream ends there. At a section's start: the load stopped there, the stream did not end.
        for (at, tail) in [
            (28, "; section \"ram\": it cut the instance id that starts at byte 26 (at byte 28)"),
            (17, "; the load stopped at byte 17, before its EOF marker (at byte 17)"),
        ] {
            let m = try Stream.Machine().loadFromStream(
                stream, chunk: 4096, cut: Int64(at), failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
            #expect(m.message == "reading the stream failed: connection reset by test" + tail)
        }
    }

    /// A read that fails inside a device's field: the field it cut, named once with its section
    /// (it said "the load stopped at byte N: PATH: section ...: input ended", the section twice,
    /// though the input had not ended), read a byte at a time or a page at a time.
    @Test func aFailedReadNamesTheFieldItCut() throws {
        // (The machine is kept while it saves: the registry holds only its devices' addresses.)
        let source = try HostileStreamTests.Machine(sample: true)
        let bytes = try withExtendedLifetime(source) { try source.registry.save(machineType: "tiny") }
        for chunk in [1, 4096] {
            let m = try HostileStreamTests.Machine().loadFromStream(
                bytes, chunk: chunk, cut: 400, failCode: Int32(G_IO_ERROR_CONNECTION_CLOSED.rawValue))
            #expect(!m.ok)
            #expect(
                m.message
                    == "section \"hx-varray\" instance 0: reading the stream failed: connection reset by test; it cut field hx-varray/p8[0]/a that starts at byte 399 (at byte 400)",
                "chunk \(chunk)")
        }
    }
}
