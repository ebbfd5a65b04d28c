import CGLib

/// Accepts and closes every connection that reaches a migration destination's listener while
/// the source's one connection loads (``vmstate_registry_load_from_listener``), on a thread of
/// its own, and counts those that are QEMU multifd channels: QEMU 7.2 and 10.0 open one per
/// multifd channel (capability multifd) and start each with the be32 ``StreamFormat/multifdMagic``
/// (MULTIFD_MAGIC of the channel's initial packet, migration/multifd.c). Closing them makes QEMU
/// fail its migration (a multifd channel that cannot be written fails it), where a listener that
/// nobody accepts on would let QEMU's channels connect and queue their pages unread: a QEMU 7.2
/// source then completes with only the zero pages in the main stream (its non-zero pages travel
/// on the multifd channels), or stalls once the socket buffers fill.
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
                // SAFETY: a GSocketConnection is a GIOStream (GObject subclass).
                let stream = UnsafeMutableRawPointer(connection).assumingMemoryBound(to: GIOStream.self)
                var magic = [UInt8](repeating: 0, count: 4)
                var read = 0
                // Until 4 bytes, the peer's end, or the cancellation at the end of the load.
                g_input_stream_read_all(g_io_stream_get_input_stream(stream), &magic, 4, &read, cancellable, nil)
                let word = magic.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                if read == 4 && word == StreamFormat.multifdMagic {
                    multifd += 1
                    // A blocked read of the main stream returns at once (its end), and the load
                    // fails, naming multifd (shutdown(2) from another thread wakes recv(2)).
                    if let main { g_socket_shutdown(main, 1, 0, nil) }
                } else {
                    others += 1
                }
                g_io_stream_close(stream, nil, nil)
                g_object_unref(connection)
            }
        }
    }

    private let worker: Worker
    private let thread: UnsafeMutablePointer<GThread>?

    /// Starts accepting on `listener` (referenced until ``stop()``); `main` is the socket of
    /// the source's stream (referenced too). Where no thread can be made, nothing is accepted
    /// (as before this existed).
    init(_ listener: UnsafeMutablePointer<GSocketListener>, main: UnsafeMutablePointer<GSocket>?) {
        worker = Worker(listener, main: main)
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

    /// Stops accepting and waits for the thread: (multifd channels, other connections) seen.
    func stop() -> (multifd: Int, others: Int) {
        g_cancellable_cancel(worker.cancellable)
        if let thread { g_thread_join(thread) }
        return (worker.multifd, worker.others)
    }
}
