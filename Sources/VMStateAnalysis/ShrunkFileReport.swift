import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns the SIGBUS that a read of a mapped file page past the file's end raises into a one-line
/// error and exit status 2, when a stream or JSON file the tool reads (``StreamBytes``) became
/// shorter than it was when opened: another program truncated or rewrote it (QEMU's `file:`
/// migration, `migrate "exec:cat > FILE"` and `cp` all truncate a file they write again). The
/// analysis maps such files (bounded windows; JSON whole); it cannot tell ahead of each read
/// that the file is still as long. A SIGBUS with no watched file shorter than it was is not
/// handled: the handler puts back the default action and the fault ends the process as before.
///
/// ``StreamBytes/init(contentsOfFile:)`` registers each file it opens (its descriptor, its size
/// then, its path) in one of ``capacity`` slots, and its `deinit` frees the slot; with all slots
/// taken a file is not watched. The handler, installed once by ``install(command:)``, only reads
/// the slots and calls `fstat(2)`, `write(2)` and `_exit(2)` (async-signal-safe).
package enum ShrunkFileReport {
    /// How many files can be watched at once (the tool opens at most a few).
    static let capacity = 32

    /// A slot: the descriptor (-1 when free), the size when opened, the path (a C string owned
    /// by the slot).
    private struct Slot {
        var fd: Int32
        var size: Int
        var path: UnsafeMutablePointer<CChar>?
    }

    /// The slots, read by the handler without a lock (it reads whole words; a slot is freed by
    /// setting `fd` to -1 before its path is freed).
    // SAFETY: allocated once and never freed; written only under `lock`.
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<Slot> = {
        let p = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        p.initialize(repeating: Slot(fd: -1, size: 0, path: nil), count: capacity)
        return p
    }()

    /// Guards the writing of `slots`.
    private static let lock = Mutex(())

    /// The command's name for the message (`vmstate analyze`), a C string; nil until installed.
    nonisolated(unsafe) private static var command: UnsafeMutablePointer<CChar>?

    /// Whether stderr was a terminal at install (a progress bar's line is cleared first).
    nonisolated(unsafe) private static var clearLine = false

    /// Watches `fd`, opened at `size` bytes from `path`: the slot to give ``unwatch(_:)``, or -1
    /// when all slots are taken.
    static func watch(fd: Int32, size: Int, path: String) -> Int {
        lock.withLock { _ in
            for i in 0..<capacity where slots[i].fd < 0 {
                slots[i].path = strdup(path)
                slots[i].size = size
                slots[i].fd = fd
                return i
            }
            return -1
        }
    }

    /// Stops watching the file of `slot` (from ``watch(fd:size:path:)``; -1 is ignored).
    static func unwatch(_ slot: Int) {
        guard slot >= 0 else { return }
        lock.withLock { _ in
            slots[slot].fd = -1
            free(slots[slot].path)
            slots[slot].path = nil
        }
    }

    /// Installs the SIGBUS handler for this process; `command` (`vmstate analyze`) starts the
    /// message: `COMMAND: error: PATH: the file became shorter while it was read (N bytes when
    /// opened, M now): another program truncated or rewrote it`, then exit status 2. Call once,
    /// at start-up, before any file is opened.
    package static func install(command: String) {
        _ = slots
        Self.command = strdup(command)
        clearLine = isatty(2) != 0
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { number, _, _ in ShrunkFileReport.handle(number) }
        action.sa_flags = SA_SIGINFO
        sigemptyset(&action.sa_mask)
        sigaction(SIGBUS, &action, nil)
    }

    /// The handler: reports the first watched file that is now shorter and exits 2; else puts
    /// back the default action, so that the fault, raised again on return, ends the process.
    private static func handle(_ number: Int32) {
        for i in 0..<capacity {
            let slot = slots[i]
            guard slot.fd >= 0, let path = slot.path else { continue }
            var st = stat()
            guard fstat(slot.fd, &st) == 0, Int(st.st_size) < slot.size else { continue }
            if clearLine { put("\r\u{1B}[K") }
            if let command { putC(command) }
            put(": error: ")
            putC(path)
            put(": the file became shorter while it was read (")
            putNumber(slot.size)
            put(" bytes when opened, ")
            putNumber(Int(st.st_size))
            put(" now): another program truncated or rewrote it\n")
            _exit(2)
        }
        signal(number, SIG_DFL)
    }

    /// Writes a static string to stderr (no allocation).
    private static func put(_ text: StaticString) {
        text.withUTF8Buffer { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// Writes a C string to stderr.
    private static func putC(_ text: UnsafePointer<CChar>) {
        _ = write(2, text, strlen(text))
    }

    /// Writes a non-negative number in decimal to stderr, from a buffer on the stack.
    private static func putNumber(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: 20 digits at most
        withUnsafeMutableBytes(of: &digits) { buffer in
            var n = UInt(max(value, 0))
            var at = buffer.count
            repeat {
                at -= 1
                buffer[at] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0
            _ = write(2, buffer.baseAddress! + at, buffer.count - at)
        }
    }
}
