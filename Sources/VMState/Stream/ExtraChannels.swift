import CGLib
import Synchronization

/// Accepts and closes every connection that reaches a migration destination's listener while
/// the source's one connection loads (``vmstate_registry_load_from_listener``), on a thread of
/// its own, and counts those that are QEMU multifd channels: QEMU 7.2 and 10.0 open one per
/// multifd channel (capability multifd) and start each with the be32 ``StreamFormat/multifdMagic``
/// (MULTIFD_MAGIC of the channel's initial packet, migration/multifd.c). Closing them makes QEMU
/// fail its migration (a multifd channel that cannot be written fails it), where a listener that
/// nobody accepts on would let QEMU's channels connect and queue their pages unread: a QEMU 7.2
/// source then completes with only the zero pages in the main stream (its non-zero pages travel
/// on the multifd channels), or stalls once the socket buffers fill.
///
/// QEMU has every multifd channel connected, and writing its magic, before the main stream
/// goes past the RAM section's setup: QEMU 7.2's `ram_save_setup` waits in
/// `multifd_send_sync_main` for each channel's sync packet, and QEMU 10.0 connects them before
/// its main stream begins. So a
/// load that gets that far, and fails or ends before the thread has accepted them (a thread not
/// yet run, under load), finds them queued on the listener: ``stop()`` accepts those too.
final class ExtraChannels {
    /// The thread's state: the thread holds one reference; the counts are read after the join.
    final class Worker {
        let listener: UnsafeMutablePointer<GSocketListener>
        let cancellable: UnsafeMutablePointer<GCancellable>
        /// The source's migration stream, whose reading is shut down once a multifd channel
        /// shows up: QEMU, whose channel was closed, fails its migration but may keep that
        /// connection open without sending more, and the load would wait on it for as long.
        let main: UnsafeMutablePointer<GSocket>?
        /// Connections that started with MULTIFD_MAGIC, and the others.
        var multifd = 0
        var others = 0
        /// Whether `main`'s reading was shut down here (read after the join).
        var shutMain = false
        /// Whether `main` is still open: the loading thread closes it under this lock
        /// (``ExtraChannels/closeMain(_:)``), so the thread never shuts down a closed socket
        /// (whose number may be another file's by then).
        let mainOpen = Mutex(true)

        init(_ listener: UnsafeMutablePointer<GSocketListener>, main: UnsafeMutablePointer<GSocket>?) {
            self.listener = listener
            self.main = main
            cancellable = g_cancellable_new()
            g_object_ref(listener)
            if let main { g_object_ref(main) }
        }

        deinit {
            g_object_unref(cancellable)
            g_object_unref(listener)
            if let main { g_object_unref(main) }
        }

        func run() {
            while true {
                var error: UnsafeMutablePointer<GError>?
                guard let connection = g_socket_listener_accept(listener, nil, cancellable, &error) else {
                    // Cancelled at the end of the load, or a listener that can accept no more.
                    g_clear_error(&error)
                    return
                }
                if startsMultifdChannel(connection) {
                    // A blocked read of the main stream returns at once (its end), and the load
                    // fails, naming multifd (shutdown(2) from another thread wakes recv(2)).
                    if let main, mainOpen.withLock({ $0 && g_socket_shutdown(main, 1, 0, nil) != 0 }) {
                        shutMain = true
                    }
                }
            }
        }

        /// Reads `connection`'s first 4 bytes (waiting up to ``magicTimeout`` seconds: QEMU
        /// writes a channel's magic as its thread starts), counts it, closes and releases it:
        /// whether it was a multifd channel.
        @discardableResult
        func startsMultifdChannel(_ connection: UnsafeMutablePointer<GSocketConnection>) -> Bool {
            defer { g_object_unref(connection) }
            // SAFETY: a GSocketConnection is a GIOStream (GObject subclass); the socket is the
            // connection's, valid while the connection is.
            let stream = UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self)
            g_socket_set_timeout(g_socket_connection_get_socket(connection), ExtraChannels.magicTimeout)
            var magic = [UInt8](repeating: 0, count: 4)
            var read = 0
            // Until 4 bytes, the peer's end, or the timeout.
            g_input_stream_read_all(g_io_stream_get_input_stream(stream), &magic, 4, &read, nil, nil)
            g_io_stream_close(stream, nil, nil)
            let word = magic.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard read == 4 && word == StreamFormat.multifdMagic else {
                others += 1
                return false
            }
            multifd += 1
            return true
        }

        /// Accepts and counts the connections queued on the listener now, without waiting for
        /// more, for up to ``drainSeconds`` (a peer that keeps connecting is cut off there).
        func acceptQueued() {
            // The accept's GSocketSource is polled on a main context of this call's own, without
            // blocking: a connection queued is dispatched, an empty queue dispatches nothing.
            let context = g_main_context_new()
            g_main_context_push_thread_default(context)
            defer {
                g_main_context_pop_thread_default(context)
                g_main_context_unref(context)
            }
            let deadline = g_get_monotonic_time() + gint64(ExtraChannels.drainSeconds) * 1_000_000
            while g_get_monotonic_time() < deadline, let connection = Self.acceptIfQueued(listener, context) {
                startsMultifdChannel(connection)
            }
        }

        /// The result of one `g_socket_listener_accept_async`.
        private final class Accepted {
            var done = false
            var connection: UnsafeMutablePointer<GSocketConnection>?
        }

        /// A connection queued on `listener`, accepted, or nil when none is (or the accept fails).
        /// `context` is the thread-default main context, iterated here without blocking.
        private static func acceptIfQueued(
            _ listener: UnsafeMutablePointer<GSocketListener>, _ context: OpaquePointer?
        ) -> UnsafeMutablePointer<GSocketConnection>? {
            let accepted = Accepted()
            let cancellable = g_cancellable_new()
            defer { g_object_unref(cancellable) }
            // SAFETY: the callback owns one reference to `accepted` (passRetained), released
            // when it runs; it runs on this thread, in an iteration of `context` below, exactly
            // once (with the connection, or with an error after the cancellation).
            g_socket_listener_accept_async(
                listener, cancellable,
                { source, result, data in
                    let accepted = Unmanaged<Accepted>.fromOpaque(data!).takeRetainedValue()
                    // SAFETY: the source object of a g_socket_listener_accept_async is the listener.
                    let listener = UnsafeMutableRawPointer(source).map {
                        $0.assumingMemoryBound(to: GSocketListener.self)
                    }
                    accepted.connection = g_socket_listener_accept_finish(listener, result, nil, nil)
                    accepted.done = true
                }, Unmanaged.passRetained(accepted).toOpaque())
            // A readable listening socket is dispatched by the first iteration; GTask may hand
            // the result on through an idle source, dispatched by the next.
            while !accepted.done && g_main_context_iteration(context, 0) != 0 {}
            if !accepted.done {
                g_cancellable_cancel(cancellable)
                while !accepted.done { g_main_context_iteration(context, 1) }
            }
            return accepted.connection
        }
    }

    /// Seconds a connection's first 4 bytes are waited for.
    static let magicTimeout: guint = 1
    /// Seconds ``stop()`` goes on accepting the connections queued at the end of the load (each
    /// one's read adds up to ``magicTimeout``).
    static let drainSeconds = 2

    private let worker: Worker
    private let thread: UnsafeMutablePointer<GThread>?

    /// Starts accepting on `listener` (referenced until ``stop()``); `main` is the socket of
    /// the source's stream (referenced too). Where no thread can be made, or `onThread` is
    /// false (tests: a thread that has not run yet), connections are accepted by ``stop()`` only.
    init(_ listener: UnsafeMutablePointer<GSocketListener>, main: UnsafeMutablePointer<GSocket>?, onThread: Bool = true)
    {
        worker = Worker(listener, main: main)
        guard onThread else {
            thread = nil
            return
        }
        // SAFETY: the thread owns one reference to the worker (released when it returns); when no
        // thread could be made, that reference is dropped here.
        let reference = Unmanaged.passRetained(worker)
        thread = g_thread_try_new(
            "vmstate-channels",
            { data in
                Unmanaged<Worker>.fromOpaque(data!).takeRetainedValue().run()
                return nil
            }, reference.toOpaque(), nil)
        if thread == nil { reference.release() }
    }

    /// Stops accepting, waits for the thread (up to ``magicTimeout`` for a connection it is
    /// reading), then accepts the connections still queued on the listener, without waiting for
    /// more: (multifd channels, other connections) seen. Call it on the thread that loaded (it
    /// iterates a main context of its own, pushed as that thread's default while it runs).
    func stop() -> (multifd: Int, others: Int) {
        g_cancellable_cancel(worker.cancellable)
        if let thread { g_thread_join(thread) }
        worker.acceptQueued()
        return (worker.multifd, worker.others)
    }

    /// Runs `close` (which closes the main stream) so that the thread never shuts the main
    /// socket down during or after it.
    func closeMain(_ close: () -> Void) {
        worker.mainOpen.withLock { open in
            close()
            open = false
        }
    }

    /// Whether the thread shut down the reading of the source's stream (a multifd channel came):
    /// a load that then found the stream's end ended there, not where the source stopped
    /// writing. Read after ``stop()``.
    var shutStream: Bool { worker.shutMain }
}
