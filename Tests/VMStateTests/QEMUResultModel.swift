// A model of QEMU 7.2's load rules, written from its source (migration/vmstate.c,
// migration/vmstate-types.c, migration/qemu-file.c), independent of the engine: it walks a layout
// written out by hand for a fixture device, over the bytes of a (possibly cut) stream, and gives
// what QEMU's vmstate_load_state returns and what qemu_file_get_error says afterwards.
//
// The QEMUFile rules it follows, for an input that is all in memory:
// - qemu_fill_buffer records -EIO (first error wins) when it finds the end: so every read or peek
//   of a byte past the end records -EIO; qemu_peek_byte and qemu_get_byte then give 0.
// - qemu_get_be16/32/64 read byte by byte: a value cut short is its bytes followed by zeros.
// - qemu_peek_buffer short of `size` records -EIO and returns what there is.
// - qemu_file_skip moves only when the bytes are there.
// vmstate_load_state: version checks (-EINVAL, not recorded), then for each element of each
// field: ret = get/nested load; if ret >= 0, ret = qemu_file_get_error(f); if ret < 0 the error
// is recorded on the file and returned. Then vmstate_subsection_load: peek byte 0 (0x05?), peek
// byte 1 (length; shorter than the parent's name + 1: no subsection), peek the name (short: no
// subsection), prefix check, lookup (-ENOENT), skip, version = low byte of qemu_get_be32, load.

/// One element of a field, as QEMU's get for it reads.
indirect enum QItem {
    /// A get that reads `n` bytes and returns 0 (the scalars, buffers, timers, bitmaps, unused).
    case bytes(Int)
    /// An `_EQUAL` get of `width` bytes against the local `value` (-EINVAL when they differ).
    case equal(Int, UInt64)
    /// `get_int32_le`: -EINVAL unless 0 <= loaded <= local.
    case le(Int32)
    /// `get_nullptr`: -EINVAL unless the byte is 0x30.
    case nullMarker
    /// A nested `vmstate_load_state` (STRUCT, VSTRUCT, WITH_TMP) at `version`.
    case nested(QDesc, version: Int)
    /// `get_qtailq` / `get_qlist` of elements described by the description, at `version`.
    case list(QDesc, version: Int)
    /// `get_gtree`: `key` nil for direct (be64) keys.
    case tree(key: QDesc?, value: QDesc, version: Int)
    /// A custom get, modelled by hand.
    case custom((QEMUModel) -> Int32)
}

/// A description as QEMU walks it at the version the stream was saved at: its fields (each a
/// list of elements; an empty list is a field with no elements, such as VMSTATE_VALIDATE that
/// passes) and the subsections it knows.
final class QDesc: @unchecked Sendable {  // immutable after init
    let name: String
    let version: Int
    let minimumVersion: Int
    let fields: [[QItem]]
    let subsections: [QDesc]

    init(_ name: String, version: Int = 1, minimum: Int = 1, _ fields: [[QItem]], subsections: [QDesc] = []) {
        self.name = name
        self.version = version
        self.minimumVersion = minimum
        self.fields = fields
        self.subsections = subsections
    }
}

/// `n` elements of the same kind (an array field).
func each(_ item: QItem, _ n: Int) -> [QItem] { Array(repeating: item, count: n) }

final class QEMUModel {
    let input: [UInt8]
    var position = 0
    var error: Int32 = 0

    init(_ input: [UInt8]) { self.input = input }

    func setError(_ code: Int32) {
        if error == 0 && code != 0 { error = code }
    }

    func peekByte(_ offset: Int) -> UInt8 {
        if position + offset < input.count { return input[position + offset] }
        setError(-5)
        return 0
    }

    func skip(_ n: Int) {
        if position + n <= input.count { position += n }
    }

    func getByte() -> UInt8 {
        let v = peekByte(0)
        skip(1)
        return v
    }

    func getBE(_ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<width { v = v << 8 | UInt64(getByte()) }
        return v
    }

    func peekBuffer(_ size: Int, at offset: Int) -> Int {
        let available = max(0, input.count - position - offset)
        if available < size { setError(-5) }
        return min(size, available)
    }

    /// QEMU's vmstate_load_state.
    func load(_ d: QDesc, version: Int) -> Int32 {
        if version > d.version || version < d.minimumVersion { return -22 }
        for field in d.fields {
            for item in field {
                var ret = get(item)
                if ret >= 0 { ret = error }
                if ret < 0 {
                    setError(ret)
                    return ret
                }
            }
        }
        return subsections(d)
    }

    /// QEMU's vmstate_subsection_load.
    func subsections(_ d: QDesc) -> Int32 {
        let parent = Array(d.name.utf8)
        while peekByte(0) == 5 {
            let len = Int(peekByte(1))
            if len < parent.count + 1 { return 0 }
            if peekBuffer(len, at: 2) != len { return 0 }
            let name = Array(input[(position + 2)..<(position + 2 + len)])
            if !name.starts(with: parent) { return 0 }
            guard let sub = d.subsections.first(where: { Array($0.name.utf8) == name }) else { return -2 }
            skip(1)
            skip(1)
            skip(len)
            let version = Int(UInt8(truncatingIfNeeded: getBE(4)))
            let ret = load(sub, version: version)
            if ret != 0 { return ret }
        }
        return 0
    }

    func get(_ item: QItem) -> Int32 {
        switch item {
        case .bytes(let n):
            for _ in 0..<n { _ = getByte() }
            return 0
        case .equal(let width, let local):
            return getBE(width) == local ? 0 : -22
        case .le(let local):
            let loaded = Int32(truncatingIfNeeded: getBE(4))
            return loaded >= 0 && loaded <= local ? 0 : -22
        case .nullMarker:
            return getByte() == 0x30 ? 0 : -22
        case .nested(let d, let version):
            return load(d, version: version)
        case .list(let d, let version):
            while getByte() != 0 {
                let ret = load(d, version: version)
                if ret != 0 { return ret }
            }
            return 0
        case .tree(let key, let value, let version):
            let nodes = Int32(truncatingIfNeeded: getBE(4))
            var count: Int32 = 0
            var ret: Int32 = 0
            while getByte() != 0 {
                count += 1
                if count > nodes {
                    ret = -22
                    break
                }
                if let key {
                    ret = load(key, version: version)
                    if ret != 0 { return ret }
                } else {
                    _ = getBE(8)
                }
                ret = load(value, version: version)
                if ret != 0 { return ret }
            }
            if count != nodes { return -22 }
            return ret
        case .custom(let body):
            return body(self)
        }
    }

    /// What QEMU's vmstate_load_state(f, d, ..., version) returns over `input`, and the file's
    /// error after it.
    static func result(_ d: QDesc, version: Int, _ input: [UInt8]) -> (ret: Int32, fileError: Int32) {
        let model = QEMUModel(input)
        let ret = model.load(d, version: version)
        return (ret, model.error)
    }
}
