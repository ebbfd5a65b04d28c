import CVMState

// Placeholder entry points behind the standard VMStateInfo trampolines; the engine replaces them.
@c @implementation
public func vmstate_std_get(
    _ kind: Int32, _ f: OpaquePointer?, _ pv: UnsafeMutableRawPointer?, _ size: Int,
    _ field: UnsafePointer<VMStateField>?
) -> Int32 {
    return -38
}

@c @implementation
public func vmstate_std_put(
    _ kind: Int32, _ f: OpaquePointer?, _ pv: UnsafeMutableRawPointer?, _ size: Int,
    _ field: UnsafePointer<VMStateField>?, _ vmdesc: OpaquePointer?
) -> Int32 {
    return -38
}
