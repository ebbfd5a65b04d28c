import CGLib
import CVMState

extension MigrationFile {
    /// Decodes one record at the cursor with `decoder`, reading more input as it asks (a
    /// socket's bytes as they come), and consumes it. When the input ends inside the record,
    /// the cursor moves to the end and the file records -EIO (as a failed read of the cut field
    /// does), and the shortfall is returned.
    func decode<D: StreamRecordDecoder>(_ decoder: D) -> Result<D.Record, FormatShortfall> {
        while true {
            let available = buffered
            let view = bufferedView(available)
            switch decoder.decode(view) {
            case .record(let record, let length):
                skip(length)
                return .success(record)
            case .needMoreData(let shortfall):
                if shortfall.required > available && ensure(shortfall.required) { continue }
                // The failed read of the cut field: cursor to the end, -EIO.
                _ = take(shortfall.required) { _ in () }
                return .failure(shortfall)
            }
        }
    }

    /// The `available` bytes already read at the cursor (none: an empty view).
    /// SAFETY: `peek(available)` views window bytes already read (no refill); the caller uses
    /// the view at once, before the next read.
    private func bufferedView(_ available: Int) -> UnsafeRawBufferPointer {
        available > 0
            ? peek(available) ?? UnsafeRawBufferPointer(start: nil, count: 0)
            : UnsafeRawBufferPointer(start: nil, count: 0)
    }

    /// Decodes one record at the cursor without consuming it: the record and its length, or
    /// nil when the input ends inside it (a failed peek, as ``peek(_:at:)`` records it).
    func peekDecode<D: StreamRecordDecoder>(_ decoder: D) -> (D.Record, length: Int)? {
        while true {
            let available = buffered
            let view = bufferedView(available)
            switch decoder.decode(view) {
            case .record(let record, let length): return (record, length)
            case .needMoreData(let shortfall):
                guard shortfall.required > available, peek(shortfall.required) != nil else { return nil }
            }
        }
    }
}
