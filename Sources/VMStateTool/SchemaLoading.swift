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
        return TableLibrary(
            path: path, symbol: symbol,
            descriptions: address.assumingMemoryBound(to: UnsafePointer<VMStateDescription>?.self))
    }
}

struct ToolInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
