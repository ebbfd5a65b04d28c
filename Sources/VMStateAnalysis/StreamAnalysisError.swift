import VMState
/// Why a migration stream (or its device description) could not be read: where, and what was
/// expected there.
public struct StreamAnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset in the stream file where the problem is.
    public var offset: Int
    /// The section being read, e.g. `cpu (section 5, instance 0)`; nil outside sections.
    public var section: String?
    /// The field being read, as a path through structs and subsections
    /// (`env.segs[1]/base`, `cpu/async_pf_msr/env.async_pf_en_msr`); nil when not in a field.
    public var field: String?
    /// What went wrong, phrased as what was expected.
    public var message: String
    /// False when the failure is not in the stream but in a temporary file of the analysis
    /// (`$TMPDIR`): `offset` is then 0 and ``description`` gives no location.
    public private(set) var isInStream = true
    /// With `StreamAnalysis.Options.readsQEMU72NullEntries`: the first array whose elements
    /// began with the NULL marker 0x30 when the failing section was read again so, which did
    /// not read to the section's footer either (the NULL entries read up to there).
    package var unreadNullEntries: StreamAnalysis.QEMU72NullEntries? = nil
    /// Whether the stream ended where more bytes were expected (a stream cut short).
    package var isEndOfStream = false
    /// The idstr of the section whose record QEMU's destination refuses whatever its machine
    /// (``HTABLoadState``, ``StorageAttributesRecord/refusal``), when that is the error: the
    /// stream loads nowhere (`vmstate compat` says so of OLD's).
    package var refusedSection: String? = nil

    /// An error at byte `offset`, inside `section` and `field` when given.
    public init(offset: Int, section: String? = nil, field: String? = nil, message: String) {
        self.offset = offset
        self.section = section
        self.field = field
        self.message = message
    }

    /// The failure of a temporary file of the analysis (not of the stream: offset 0, no
    /// location printed), with its message.
    init(temporaryFile error: StreamFileError) {
        self.init(offset: 0, message: error.description)
        isInStream = false
    }

    /// `body`, its temporary-file error given as the analysis's (``init(temporaryFile:)``).
    static func onTemporaryFile<T>(_ body: () throws(StreamFileError) -> T) throws(StreamAnalysisError) -> T {
        do throws(StreamFileError) { return try body() } catch { throw StreamAnalysisError(temporaryFile: error) }
    }

    /// This error, its message followed by why its bytes may not be what they were when the
    /// file was opened (``StreamBytes/changeReason()``), when the file changed while it was read
    /// and the message does not already say so.
    package func noting(changeOf bytes: StreamBytes) -> StreamAnalysisError {
        guard let reason = bytes.changeReason(), !message.contains(reason) else { return self }
        var e = self
        e.message += "; but \(bytes.origin): \(reason), so its bytes may be part old, part new"
        return e
    }

    /// This error, for a stream read with a description given apart from it (--vmdesc), its
    /// message followed by what a description of another QEMU build or machine type does, when
    /// the message does not already speak of that description: QEMU reads a section's data by
    /// its own description only, so with another one an error past the first difference (an
    /// unexpected byte, a section the description lacks) comes of reading by the wrong fields
    /// (machines probe: only some messages said so). Not at the stream's end: reading a stream
    /// cut short is what --vmdesc is for.
    package func notingGivenVMDesc() -> StreamAnalysisError {
        guard isInStream, !isEndOfStream, !message.contains("--vmdesc") else { return self }
        var e = self
        e.message +=
            " (read by the description given with --vmdesc: if that is of another QEMU build or machine type, the stream may differ from it here or before)"
        return e
    }

    /// The message with where it happened: offset, section and field (only the message for a
    /// temporary file's failure).
    public var description: String {
        guard isInStream else { return message }
        var s = "at byte offset \(offset) (0x\(String(offset, radix: 16)))"
        if let section { s += ", section \(section)" }
        if let field, !field.isEmpty { s += ", field \(field)" }
        return s + ": " + message
    }
}
