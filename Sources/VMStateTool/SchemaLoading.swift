// Reading description tables out of a shared library: `vmstate schema` and `vmstate lint`.
import CVMState
import VMState

#if canImport(Glibc)
    import Glibc
#endif

/// A shared library opened for its description tables; stays loaded for the process.
struct TableLibrary {
    let path: String
    let symbol: String
    let descriptions: UnsafePointer<UnsafePointer<VMStateDescription>?>

    /// Opens `path` and finds `symbol`: a NULL-terminated array of `const VMStateDescription *`.
    static func open(_ path: String, symbol: String) throws -> TableLibrary {
        // A name without a slash would make dlopen search the library path instead of the file.
        let file = path.contains("/") ? path : "./" + path
        guard let handle = dlopen(file, RTLD_NOW | RTLD_GLOBAL) else {
            throw ToolInputError("cannot load \(path): \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        guard let address = dlsym(handle, symbol) else {
            throw ToolInputError("\(path) has no symbol \(symbol)")
        }
        // The library's tables point to the standard infos of the libswiftvmstate.so it links,
        // not to this tool's own copies: the engine is told of them.
        StandardInfoCopies.adopt { name in dlsym(handle, name).map { UnsafeRawPointer($0) } }
        let descriptions = address.assumingMemoryBound(to: UnsafePointer<VMStateDescription>?.self)
        try TableProbe(path: path, symbol: symbol).check(descriptions)
        return TableLibrary(path: path, symbol: symbol, descriptions: descriptions)
    }
}

/// Checks, before anything reads them, that the tables behind a symbol can be read: the array,
/// each description, its name, its fields (to the entry with a NULL name), their names, infos,
/// hints and nested descriptions, and its subsections (to NULL). The symbol is the user's
/// word, and the easy mistake of naming one `VMStateDescription` instead of the array would
/// make the tool read the description's name bytes as a pointer and crash. Memory is asked
/// about, not read: writing it into a pipe fails with EFAULT where it cannot be read.
/// Readable garbage is not caught; the tables' own rules are `lint`'s business.
private struct TableProbe {
    let path: String
    let symbol: String
    /// The most entries followed in one NULL-terminated list.
    static let maximumEntries = 1 << 20
    /// The longest C string followed, in bytes.
    static let maximumString = 1 << 16

    func check(_ array: UnsafePointer<UnsafePointer<VMStateDescription>?>) throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw ToolInputError("cannot check \(symbol) of \(path): pipe: \(String(cString: strerror(errno)))")
        }
        defer { fds.forEach { close($0) } }
        var walk = Walk(probe: self, readEnd: fds[0], writeEnd: fds[1])
        var index = 0
        while true {
            guard walk.readable(array + index, MemoryLayout<UnsafeRawPointer?>.size) else {
                throw failure("its entry \(index) cannot be read: it is not a NULL-terminated array")
            }
            guard let description = array[index] else { return }
            do {
                try walk.description(description, at: "entry \(index)")
            } catch let error as ToolInputError where index == 0 {
                // The likely mistake: the symbol is one description, whose name pointer was
                // taken for entry 0.
                throw ToolInputError(
                    error.description + " (is \(symbol) something else, such as one VMStateDescription?)")
            }
            index += 1
            if index == Self.maximumEntries {
                throw failure("it has no NULL among its first \(index) entries: it is not a NULL-terminated array")
            }
        }
    }

    func failure(_ why: String) -> ToolInputError {
        ToolInputError(
            "\(symbol) in \(path) must be a NULL-terminated array of `const VMStateDescription *`, but \(why)")
    }

    private struct Walk {
        let probe: TableProbe
        let readEnd: Int32
        let writeEnd: Int32
        var seen = Set<UnsafeRawPointer>()
        var scratch = [UInt8](repeating: 0, count: 4096)

        /// Whether `count` bytes at `address` can be read: written into the pipe (at most
        /// 4 KiB at a time, which an empty pipe always takes whole) and drained again.
        mutating func readable(_ address: UnsafeRawPointer, _ count: Int) -> Bool {
            var done = 0
            while done < count {
                let written = write(writeEnd, address + done, min(count - done, scratch.count))
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                var drained = 0
                while drained < written {
                    let got = scratch.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, written - drained) }
                    if got < 0 && errno == EINTR { continue }
                    guard got > 0 else { return false }
                    drained += got
                }
                done += written
            }
            return true
        }

        /// Whether a NUL-terminated string at `address` can be read: page by page up to its NUL.
        /// A page is readable or not as a whole, so one byte of it is probed, and the string is
        /// read no further than its NUL (strnlen): AddressSanitizer, in a library built with it,
        /// stops a read past the string's object (sanitize F1: the whole page was probed).
        mutating func readableString(_ address: UnsafePointer<CChar>) -> Bool {
            var at = UnsafeRawPointer(address)
            var length = 0
            while length < TableProbe.maximumString {
                let toPageEnd = 4096 - Int(UInt(bitPattern: at) & 4095)
                guard readable(at, 1) else { return false }
                // SAFETY: the page holding `at..<at + toPageEnd` is mapped (probed above).
                if strnlen(at.assumingMemoryBound(to: CChar.self), toPageEnd) < toPageEnd { return true }
                at += toPageEnd
                length += toPageEnd
            }
            return false
        }

        mutating func description(_ d: UnsafePointer<VMStateDescription>, at place: String) throws {
            guard seen.insert(UnsafeRawPointer(d)).inserted else { return }
            let address = "0x" + String(UInt(bitPattern: d), radix: 16)
            guard readable(d, MemoryLayout<VMStateDescription>.size) else {
                throw probe.failure("\(place) points to memory that cannot be read (\(address))")
            }
            if let name = d.pointee.name, !readableString(name) {
                throw probe.failure("the name of the description at \(place) (\(address)) cannot be read")
            }
            let label = d.pointee.name.map { "\"\(String(cString: $0))\"" } ?? "at \(place)"
            if var field = d.pointee.fields {
                for index in 0..<TableProbe.maximumEntries {
                    guard readable(field, MemoryLayout<VMStateField>.size) else {
                        throw probe.failure("field \(index) of description \(label) cannot be read")
                    }
                    guard let name = field.pointee.name else { break }
                    guard readableString(name) else {
                        throw probe.failure("the name of field \(index) of description \(label) cannot be read")
                    }
                    let fieldLabel = "field \"\(String(cString: name))\" of description \(label)"
                    if let info = field.pointee.info {
                        guard readable(info, MemoryLayout<VMStateInfo>.size),
                            info.pointee.name.map({ readableString($0) }) ?? true
                        else { throw probe.failure("the info of \(fieldLabel) cannot be read") }
                    }
                    if let hint = field.pointee.err_hint, !readableString(hint) {
                        throw probe.failure("the err_hint of \(fieldLabel) cannot be read")
                    }
                    if let nested = field.pointee.vmsd { try description(nested, at: "the vmsd of \(fieldLabel)") }
                    field += 1
                }
            }
            if var slot = d.pointee.subsections {
                for index in 0..<TableProbe.maximumEntries {
                    guard readable(slot, MemoryLayout<UnsafeRawPointer?>.size) else {
                        throw probe.failure("subsection \(index) of description \(label) cannot be read")
                    }
                    guard let sub = slot.pointee else { break }
                    try description(sub, at: "subsection \(index) of description \(label)")
                    slot += 1
                }
            }
        }
    }
}

struct ToolInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
