import CGLib
import CVMState

/// Big-endian runs of scalars between the device struct and the file, in bulk: one bounds
/// check and one byte-swapping copy per run.
enum Codec {
    /// Appends `count` scalars of `width` bytes found every `stride` bytes from `source`.
    static func putScalars(_ file: MigrationFile, _ source: UnsafeRawPointer, count: Int, width: Int, stride: Int) {
        file.append(count * width) { dest in
            switch width {
            case 1:
                if stride == 1 {
                    dest.copyMemory(from: source, byteCount: count)
                } else {
                    for i in 0..<count { dest.storeBytes(of: source.load(fromByteOffset: i * stride, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
                }
            case 2:
                for i in 0..<count {
                    let v = source.loadUnaligned(fromByteOffset: i * stride, as: UInt16.self)
                    dest.storeBytes(of: v.bigEndian, toByteOffset: i * 2, as: UInt16.self)
                }
            case 4:
                for i in 0..<count {
                    let v = source.loadUnaligned(fromByteOffset: i * stride, as: UInt32.self)
                    dest.storeBytes(of: v.bigEndian, toByteOffset: i * 4, as: UInt32.self)
                }
            default:
                for i in 0..<count {
                    let v = source.loadUnaligned(fromByteOffset: i * stride, as: UInt64.self)
                    dest.storeBytes(of: v.bigEndian, toByteOffset: i * 8, as: UInt64.self)
                }
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
            switch width {
            case 1:
                if isBool {
                    for i in 0..<count { dest.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0, toByteOffset: i * stride, as: UInt8.self) }
                } else if stride == 1 {
                    dest.copyMemory(from: source, byteCount: count)
                } else {
                    for i in 0..<count { dest.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i * stride, as: UInt8.self) }
                }
            case 2:
                for i in 0..<count {
                    let v = UInt16(bigEndian: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                    dest.storeBytes(of: v, toByteOffset: i * stride, as: UInt16.self)
                }
            case 4:
                for i in 0..<count {
                    let v = UInt32(bigEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                    dest.storeBytes(of: v, toByteOffset: i * stride, as: UInt32.self)
                }
            default:
                for i in 0..<count {
                    let v = UInt64(bigEndian: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                    dest.storeBytes(of: v, toByteOffset: i * stride, as: UInt64.self)
                }
            }
            return true
        } ?? false
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
    static func loadInteger(_ p: UnsafeRawPointer, width: Int) -> UInt64 {
        switch width {
        case 1: return UInt64(p.load(as: UInt8.self))
        case 2: return UInt64(p.loadUnaligned(as: UInt16.self))
        case 4: return UInt64(p.loadUnaligned(as: UInt32.self))
        default: return p.loadUnaligned(as: UInt64.self)
        }
    }
}

/// QEMU's raw QTAILQ / QLIST insertion on elements whose link lives `entry` bytes in.
enum IntrusiveList {
    /// QTAILQ_INSERT_TAIL. A zeroed (never initialised) head is treated as empty.
    static func tailqAppend(head: UnsafeMutableRawPointer, element: UnsafeMutableRawPointer, entry: Int) {
        let link = element + entry
        var last = (head + 8).load(as: UnsafeMutableRawPointer?.self)
        if last == nil {
            head.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
            last = head
        }
        link.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        (link + 8).storeBytes(of: last, as: UnsafeMutableRawPointer?.self)
        last!.storeBytes(of: element, as: UnsafeMutableRawPointer?.self)
        (head + 8).storeBytes(of: link, as: UnsafeMutableRawPointer?.self)
    }

    /// QLIST_INSERT_HEAD when `previous` is nil, else QLIST_INSERT_AFTER(previous).
    static func qlistInsert(
        head: UnsafeMutableRawPointer, after previous: UnsafeMutableRawPointer?, element: UnsafeMutableRawPointer,
        entry: Int
    ) {
        let link = element + entry
        let slot = previous.map { $0 + entry } ?? head  // the "next" pointer to splice after
        let next = slot.load(as: UnsafeMutableRawPointer?.self)
        link.storeBytes(of: next, as: UnsafeMutableRawPointer?.self)
        if let next { (next + entry + 8).storeBytes(of: link, as: UnsafeMutableRawPointer?.self) }
        slot.storeBytes(of: element, as: UnsafeMutableRawPointer?.self)
        (link + 8).storeBytes(of: slot, as: UnsafeMutableRawPointer?.self)
    }
}

/// The nodes of a GTree in key order.
enum GTreeNodes {
    private final class Box { var nodes: [(UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)] = [] }

    static func collect(_ tree: OpaquePointer) -> [(UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)] {
        let box = Box()
        withExtendedLifetime(box) {
            g_tree_foreach(tree, { key, value, data in
                let box = Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue()
                box.nodes.append((key, value))
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        return box.nodes
    }
}
