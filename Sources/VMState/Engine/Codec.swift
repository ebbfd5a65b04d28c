import CGLib
import CVMState
#if canImport(Glibc)
    import Glibc
#endif

/// Big-endian runs of scalars between the device struct and the file, in bulk: one bounds
/// check and one byte-swapping copy per run.
///
/// SAFETY (the whole enum): these are the hot loops, on raw pointers with no check of their
/// own. What keeps them valid is the caller's:
/// - struct side: the offsets, strides and counts are the C table's (decoded once into a
///   `FieldPlan` or a `RunItem`, whose numbers fit 32 bits and whose products were checked for
///   overflow when the plan was built); the struct is the caller's `opaque`, valid for the call
///   as QEMU's API requires, and in a checked load its bytes were checked against the load
///   guard (per field, or per step with `StepExtra.lower/upper`) before anything is written
///   (an unchecked load or a save trusts the table, as QEMU does: nothing else bounds it);
/// - file side: the input or output bytes were reserved first (`MigrationFile.append` /
///   `consume` / `take` hand over exactly the step's `wireBytes`, computed from the same
///   items, or `count * width` checked against `remaining`), so the loops never pass `end`;
/// - loads and stores are unaligned where a C struct may be packed; 1-byte ones are plain.
enum Codec {
    /// Appends `count` scalars of `width` bytes found every `stride` bytes from `source`.
    static func putScalars(_ file: MigrationFile, _ source: UnsafeRawPointer, count: Int, width: Int, stride: Int) {
        file.append(count * width) { dest in
            storeBigEndian(dest, source, count: count, width: width, stride: stride)
        }
    }

    /// Writes `count` scalars of `width` bytes found every `stride` bytes from `source` to
    /// `dest` as consecutive big-endian values.
    @inline(__always)
    static func storeBigEndian(
        _ dest: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, count: Int, width: Int, stride: Int
    ) {
        switch width {
        case 1:
            if stride == 1 {
                dest.copyMemory(from: source, byteCount: count)
            } else {
                for i in 0..<count {
                    dest.storeBytes(
                        of: source.load(fromByteOffset: i * stride, as: UInt8.self), toByteOffset: i, as: UInt8.self)
                }
            }
        case 2:
            if stride == 2 { return swapCopy(dest, source, count: count, as: UInt16.self) }
            for i in 0..<count {
                let v = source.loadUnaligned(fromByteOffset: i * stride, as: UInt16.self)
                dest.storeBytes(of: v.bigEndian, toByteOffset: i * 2, as: UInt16.self)
            }
        case 4:
            if stride == 4 { return swapCopy(dest, source, count: count, as: UInt32.self) }
            for i in 0..<count {
                let v = source.loadUnaligned(fromByteOffset: i * stride, as: UInt32.self)
                dest.storeBytes(of: v.bigEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        default:
            if stride == 8 { return swapCopy(dest, source, count: count, as: UInt64.self) }
            for i in 0..<count {
                let v = source.loadUnaligned(fromByteOffset: i * stride, as: UInt64.self)
                dest.storeBytes(of: v.bigEndian, toByteOffset: i * 8, as: UInt64.self)
            }
        }
    }

    /// Copies `count` consecutive integers from `source` to `dest`, byte-swapping each (either
    /// direction between host and big-endian order). Written so that it vectorises.
    @inline(never)
    static func swapCopy<T: FixedWidthInteger>(
        _ dest: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, count: Int, as: T.Type
    ) {
        let width = MemoryLayout<T>.size
        var i = 0
        while i < count {
            let v = source.loadUnaligned(fromByteOffset: i &* width, as: T.self)
            dest.storeBytes(of: v.byteSwapped, toByteOffset: i &* width, as: T.self)
            i &+= 1
        }
    }

    /// Reads `count` consecutive big-endian scalars of `width` bytes from `source` into `dest`
    /// every `stride` bytes. Bools store 1 for any non-zero byte.
    @inline(__always)
    static func loadBigEndian(
        _ dest: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, count: Int, width: Int, stride: Int, isBool: Bool
    ) {
        switch width {
        case 1:
            if isBool {
                for i in 0..<count {
                    dest.storeBytes(
                        of: source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0, toByteOffset: i * stride,
                        as: UInt8.self)
                }
            } else if stride == 1 {
                dest.copyMemory(from: source, byteCount: count)
            } else {
                for i in 0..<count {
                    dest.storeBytes(
                        of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i * stride, as: UInt8.self)
                }
            }
        case 2:
            if stride == 2 { return swapCopy(dest, source, count: count, as: UInt16.self) }
            for i in 0..<count {
                let v = UInt16(bigEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                dest.storeBytes(of: v, toByteOffset: i * stride, as: UInt16.self)
            }
        case 4:
            if stride == 4 { return swapCopy(dest, source, count: count, as: UInt32.self) }
            for i in 0..<count {
                let v = UInt32(bigEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                dest.storeBytes(of: v, toByteOffset: i * stride, as: UInt32.self)
            }
        default:
            if stride == 8 { return swapCopy(dest, source, count: count, as: UInt64.self) }
            for i in 0..<count {
                let v = UInt64(bigEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                dest.storeBytes(of: v, toByteOffset: i * stride, as: UInt64.self)
            }
        }
    }

    /// Reads `count` scalars into `dest` every `stride` bytes; false (nothing written, the file's
    /// error set to -EIO as QEMU's reads past the end do) when the input is too short. Bools
    /// store 1 for any non-zero byte.
    static func getScalars(
        _ file: MigrationFile, _ dest: UnsafeMutableRawPointer, count: Int, width: Int, stride: Int, isBool: Bool
    ) -> Bool {
        let total = count.multipliedReportingOverflow(by: width)
        guard !total.overflow, total.partialValue <= file.remaining else {
            file.setError(-5)
            return false
        }
        return file.take(total.partialValue) { source in
            loadBigEndian(dest, source, count: count, width: width, stride: stride, isBool: isBool)
            return true
        } ?? false
    }

    // MARK: runs (Program)

    /// Writes the run items `range` for the struct at `base` into `dest`; returns the bytes
    /// written (the run's `wireBytes`).
    ///
    /// SAFETY: `range` lies in `items` (a program's steps only name their own items; a
    /// repeatStruct's `body` follows it), and `dest` holds the run's `wireBytes`.
    static func putRun(
        _ items: UnsafeBufferPointer<RunItem>, _ range: Range<Int>, base: UnsafeRawPointer,
        into dest: UnsafeMutableRawPointer
    ) -> Int {
        var out = dest
        var item = items.baseAddress! + range.lowerBound
        let last = items.baseAddress! + range.upperBound
        while item < last {
            let source = base + Int(item.pointee.offset)
            switch item.pointee.kind {
            case .u8, .bool:
                out.storeBytes(of: source.load(as: UInt8.self), as: UInt8.self)
                out += 1
            case .u16:
                out.storeBytes(of: source.loadUnaligned(as: UInt16.self).bigEndian, as: UInt16.self)
                out += 2
            case .u32:
                out.storeBytes(of: source.loadUnaligned(as: UInt32.self).bigEndian, as: UInt32.self)
                out += 4
            case .u64:
                out.storeBytes(of: source.loadUnaligned(as: UInt64.self).bigEndian, as: UInt64.self)
                out += 8
            case .array:
                let width = Int(item.pointee.width), count = Int(item.pointee.count)
                storeBigEndian(out, source, count: count, width: width, stride: Int(item.pointee.stride))
                out += count &* width
            case .repeatStruct:
                let first = item - items.baseAddress! + 1
                let body = first..<(first + Int(item.pointee.body))
                let stride = Int(item.pointee.stride)
                for r in 0..<Int(item.pointee.count) {
                    out += putRun(items, body, base: source + r &* stride, into: out)
                }
                item += Int(item.pointee.body)
            }
            item += 1
        }
        return out - dest
    }

    /// Reads the run items `range` for the struct at `base` from `source`, where the input
    /// ends at `end`; returns the bytes read, or nil as soon as the bytes after a struct element
    /// begin a subsection of that struct's description (the per-field path then reports it).
    ///
    /// SAFETY: as `putRun`; `source` holds at least the run's `wireBytes` before `end`
    /// (`MigrationFile.consume` checked it), so only the subsection check looks further, and
    /// it compares with `end` first.
    static func getRun(
        _ items: UnsafeBufferPointer<RunItem>, _ range: Range<Int>, base: UnsafeMutableRawPointer,
        from source: UnsafeRawPointer, end: UnsafeRawPointer
    ) -> Int? {
        var input = source
        var item = items.baseAddress! + range.lowerBound
        let last = items.baseAddress! + range.upperBound
        while item < last {
            let dest = base + Int(item.pointee.offset)
            switch item.pointee.kind {
            case .u8:
                dest.storeBytes(of: input.load(as: UInt8.self), as: UInt8.self)
                input += 1
            case .bool:
                dest.storeBytes(of: input.load(as: UInt8.self) != 0 ? 1 : 0, as: UInt8.self)
                input += 1
            case .u16:
                dest.storeBytes(of: UInt16(bigEndian: input.loadUnaligned(as: UInt16.self)), as: UInt16.self)
                input += 2
            case .u32:
                dest.storeBytes(of: UInt32(bigEndian: input.loadUnaligned(as: UInt32.self)), as: UInt32.self)
                input += 4
            case .u64:
                dest.storeBytes(of: UInt64(bigEndian: input.loadUnaligned(as: UInt64.self)), as: UInt64.self)
                input += 8
            case .array:
                let width = Int(item.pointee.width), count = Int(item.pointee.count)
                loadBigEndian(
                    dest, input, count: count, width: width, stride: Int(item.pointee.stride),
                    isBool: item.pointee.isBool)
                input += count &* width
            case .repeatStruct:
                let first = item - items.baseAddress! + 1
                let body = first..<(first + Int(item.pointee.body))
                let stride = Int(item.pointee.stride)
                // SAFETY: the name bytes are owned by the program's storage, which lives as long
                // as the plan (plans are cached for the life of the process).
                let name = UnsafeBufferPointer(start: item.pointee.name, count: Int(item.pointee.nameCount))
                for r in 0..<Int(item.pointee.count) {
                    guard let n = getRun(items, body, base: dest + r &* stride, from: input, end: end) else {
                        return nil
                    }
                    input += n
                    // After each element the per-field path looks for that element's subsections.
                    if input < end && input.load(as: UInt8.self) == 5 && startsSubsection(input, end: end, of: name) {
                        return nil
                    }
                }
                item += Int(item.pointee.body)
            }
            item += 1
        }
        return input - source
    }

    /// Reads one flat struct (`items` are all of its run, `bytes` its wire size) from `source`;
    /// false when the bytes after it begin one of its subsections (see `getRun`).
    static func getStruct(
        _ items: UnsafeBufferPointer<RunItem>, bytes: Int, name: UnsafeBufferPointer<UInt8>,
        base: UnsafeMutableRawPointer, from source: UnsafeRawPointer, end: UnsafeRawPointer
    ) -> Bool {
        guard getRun(items, 0..<items.count, base: base, from: source, end: end) != nil else { return false }
        let after = source + bytes
        return !(after < end && after.load(as: UInt8.self) == 5 && startsSubsection(after, end: end, of: name))
    }

    /// Whether the bytes at `p` (a 0x05 marker) may be a subsection header of `parent`, so that
    /// the fast paths leave them to the per-field load's subsection check: a header whose name
    /// starts with `parent`'s name, or one cut short by the end where QEMU's check would look
    /// (its length byte, or a name at least as long as `parent`'s plus one): QEMU's peek past
    /// the end records -EIO there (see `MigrationFile.peekSubsection`).
    ///
    /// SAFETY: every read is after a check against `end` (the length byte needs 2 bytes, the
    /// name compared needs `len` >= parent.count + 1 bytes after the 2).
    static func startsSubsection(_ p: UnsafeRawPointer, end: UnsafeRawPointer, of parent: UnsafeBufferPointer<UInt8>)
        -> Bool
    {
        guard end - p >= 2 else { return true }
        let len = Int(p.load(fromByteOffset: 1, as: UInt8.self))
        guard len >= parent.count + 1 else { return false }
        guard end - p - 2 >= len else { return true }
        return parent.count == 0 || memcmp(p + 2, parent.baseAddress!, parent.count) == 0
    }

    /// The bytes of `name` before its first NUL (all of them when it has none): the name QEMU
    /// compares after copying a wire name into a C string.
    static func cStringPrefix(_ name: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard let nul = name.firstIndex(of: 0) else { return name }
        return UnsafeRawBufferPointer(rebasing: name[..<nul])
    }

    /// Writes a subsection header: 0x05, the name's length, the name, be32 `version`.
    /// SAFETY: `dest` holds `name.count + 6` bytes (the callers reserve exactly that).
    static func putSubsectionHeader(_ dest: UnsafeMutableRawPointer, name: UnsafeBufferPointer<UInt8>, version: Int32) {
        dest.storeBytes(of: 5, as: UInt8.self)
        dest.storeBytes(of: UInt8(truncatingIfNeeded: name.count), toByteOffset: 1, as: UInt8.self)
        if name.count > 0 { (dest + 2).copyMemory(from: name.baseAddress!, byteCount: name.count) }
        dest.storeBytes(of: UInt32(bitPattern: version).bigEndian, toByteOffset: 2 + name.count, as: UInt32.self)
    }

    /// Reads one big-endian unsigned integer of `width` bytes.
    static func getInteger(_ file: MigrationFile, width: Int) -> UInt64? {
        switch width {
        case 1: return file.getByte().map(UInt64.init)
        case 2: return file.getBE16().map(UInt64.init)
        case 4: return file.getBE32().map(UInt64.init)
        default: return file.getBE64()
        }
    }

    /// The unsigned integer of `width` bytes at `p` (host order).
    /// SAFETY: `p` is a field's element of `width` bytes (VMSTATE_*_EQUAL), in its struct.
    static func loadInteger(_ p: UnsafeRawPointer, width: Int) -> UInt64 {
        switch width {
        case 1: return UInt64(p.load(as: UInt8.self))
        case 2: return UInt64(p.loadUnaligned(as: UInt16.self))
        case 4: return UInt64(p.loadUnaligned(as: UInt32.self))
        default: return p.loadUnaligned(as: UInt64.self)
        }
    }
}

/// QEMU's raw QTAILQ / QLIST insertion on elements whose link lives `entry` bytes in (the
/// offsets of `QueueLayout`).
///
/// SAFETY: `head` is the list head inside the device struct (its bytes checked by the caller:
/// the field's footprint, `QueueLayout.tailqHeadSize` / `qlistHeadSize`, against the load
/// guard in a checked load); `element` is engine memory of the element's size, allocated for
/// this insertion, and `entry` its link field's offset, taken from the C table as QEMU takes
/// it: nothing checks that `entry` plus the two link pointers lies within the element's
/// `size` (a table that says otherwise makes this write past the element, as QEMU would; see
/// `Engine.loadList`). The other links written (`last`, `next`, `slot`) are read
/// from the list itself: they point into the head or into elements of the same list, as the C
/// macros leave them, so the list must be well formed (the device's own, or one this engine
/// built).
enum IntrusiveList {
    /// QTAILQ_INSERT_TAIL. A zeroed (never initialised) head is treated as empty.
    static func tailqAppend(head: UnsafeMutableRawPointer, element: UnsafeMutableRawPointer, entry: Int) {
        let head = StructMemory(head, count: QueueLayout.tailqHeadSize)
        let link = StructMemory(element + entry, count: 2 * QueueLayout.pointer)
        // The link of the last element (a QTailQLink), or the head's own tqh_circ when empty.
        var last = head.loadPointer(at: QueueLayout.tailqHeadLast)
        if last == nil {
            head.store(UnsafeMutableRawPointer?.none, at: QueueLayout.tailqHeadFirst)
            last = head.base
        }
        link.store(UnsafeMutableRawPointer?.none, at: QueueLayout.tailqNext)
        link.store(last, at: QueueLayout.tailqPrev)
        StructMemory(last!, count: 2 * QueueLayout.pointer).store(element, at: QueueLayout.tailqLinkNext)
        head.store(link.base, at: QueueLayout.tailqHeadLast)
    }

    /// QLIST_INSERT_HEAD when `previous` is nil, else QLIST_INSERT_AFTER(previous).
    static func qlistInsert(
        head: UnsafeMutableRawPointer, after previous: UnsafeMutableRawPointer?, element: UnsafeMutableRawPointer,
        entry: Int
    ) {
        let link = StructMemory(element + entry, count: 2 * QueueLayout.pointer)
        // The "next" pointer to splice after: the previous element's le_next, or lh_first.
        let slotAddress = previous.map { $0 + entry + QueueLayout.qlistNext } ?? head + QueueLayout.qlistHeadFirst
        let slot = StructMemory(slotAddress, count: QueueLayout.pointer)
        let next = slot.loadPointer()
        link.store(next, at: QueueLayout.qlistNext)
        if let next {
            StructMemory(next + entry, count: 2 * QueueLayout.pointer).store(link.base, at: QueueLayout.qlistPrev)
        }
        slot.store(element)
        link.store(slot.base, at: QueueLayout.qlistPrev)
    }
}

/// The nodes of a GTree in key order.
enum GTreeNodes {
    private typealias Node = (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
    private struct Collector {
        var next: UnsafeMutablePointer<Node>
        var left: Int
    }

    /// The nodes in key order, collected in one allocation.
    ///
    /// SAFETY: the collector writes at most `n` nodes (`left` counts down; a tree that grew
    /// during the walk stops there) into the array's uninitialized storage, and `initialized`
    /// says how many were written; `context` points to the stack collector, which outlives
    /// g_tree_foreach. `tree` is a live GTree of the device's.
    static func collect(_ tree: OpaquePointer) -> [(UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)] {
        let n = Int(g_tree_nnodes(tree))
        guard n > 0 else { return [] }
        return [Node](unsafeUninitializedCapacity: n) { buffer, initialized in
            var collector = Collector(next: buffer.baseAddress!, left: n)
            withUnsafeMutablePointer(to: &collector) { context in
                g_tree_foreach(
                    tree,
                    { key, value, data in
                        let c = data!.assumingMemoryBound(to: Collector.self)
                        guard c.pointee.left > 0 else { return 1 }
                        c.pointee.next.initialize(to: (key, value))
                        c.pointee.next += 1
                        c.pointee.left -= 1
                        return 0
                    }, context)
            }
            initialized = n - collector.left
        }
    }
}
