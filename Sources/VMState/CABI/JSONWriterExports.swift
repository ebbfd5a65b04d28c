import CVMState

// QEMU's JSONWriter C API (qapi/qmp/json-writer.h) over VMDescWriter.

// SAFETY (every function below): `w` is NULL or a live `JSONWriter *` borrowed through CEdge's
// `borrow`; names and strings are NULL or NUL-terminated C strings (the C contract), read during
// the call only.
@inline(__always) private func writer(_ w: OpaquePointer?) -> VMDescWriter? { VMDescWriter.borrow(w) }

/// Calls `body` on `w`'s writer (nothing when `w` is NULL) with member name `n`, quoted from its
/// bytes as QEMU's `quoted_str` does (ill-formed UTF-8 included).
@inline(__always) private func named(
    _ w: OpaquePointer?, _ n: UnsafePointer<CChar>?, _ body: (VMDescWriter) -> Void
) {
    writer(w)?.withCName(n, body)
}

/// C's `json_writer_new`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_new(_ pretty: Bool) -> OpaquePointer? {
    VMDescWriter(pretty: pretty).retainedHandle()
}

// SAFETY: the text is owned by the writer, valid until the next call on it (the header's contract).
/// C's `json_writer_get`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_get(_ w: OpaquePointer?) -> UnsafePointer<CChar>? { writer(w)?.cText() }

/// C's `json_writer_free`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_free(_ w: OpaquePointer?) {
    VMDescWriter.release(w)
}

/// C's `json_writer_start_object`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_start_object(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?) {
    named(w, n) { $0.startObject(nil) }
}
/// Whether `w`'s innermost open container is of the kind `function` closes (an array when
/// `array`); else a GLib critical naming the misuse, and the call does nothing (QEMU asserts).
private func closes(_ w: VMDescWriter, array: Bool, _ function: String) -> Bool {
    switch w.innermostIsArray {
    case array?: return true
    case nil: vmstate_log_critical("\(function): no \(array ? "array" : "object") is open (call ignored)")
    case _?:
        vmstate_log_critical(
            "\(function): the innermost open container is \(array ? "an object" : "an array") (call ignored)")
    }
    return false
}

/// C's `json_writer_end_object`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_end_object(_ w: OpaquePointer?) {
    guard let w = writer(w), closes(w, array: false, "json_writer_end_object") else { return }
    w.endObject()
}
/// C's `json_writer_start_array`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_start_array(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?) {
    named(w, n) { $0.startArray(nil) }
}
/// C's `json_writer_end_array`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_end_array(_ w: OpaquePointer?) {
    guard let w = writer(w), closes(w, array: true, "json_writer_end_array") else { return }
    w.endArray()
}
/// C's `json_writer_bool`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_bool(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?, _ v: Bool) {
    named(w, n) { $0.bool(nil, v) }
}
/// C's `json_writer_null`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_null(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?) {
    named(w, n) { $0.null(nil) }
}
/// C's `json_writer_int64`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_int64(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?, _ v: Int64) {
    named(w, n) { $0.int(nil, v) }
}
/// C's `json_writer_uint64`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_uint64(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?, _ v: UInt64) {
    named(w, n) { $0.uint(nil, v) }
}
/// C's `json_writer_double`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_double(_ w: OpaquePointer?, _ n: UnsafePointer<CChar>?, _ v: Double) {
    named(w, n) { $0.double(nil, v) }
}
/// C's `json_writer_str`, declared and documented in `qapi/qmp/json-writer.h`.
@c @implementation public func json_writer_str(
    _ w: OpaquePointer?, _ n: UnsafePointer<CChar>?, _ s: UnsafePointer<CChar>?
) {
    named(w, n) { w in
        if let s { w.string(nil, cString: s) } else { w.string(nil, "") }
    }
}
