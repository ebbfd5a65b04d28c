import CGLib
import VMState

#if canImport(Glibc)
    import Glibc
#endif

/// A RAM block name that `StreamAnalysis.extractRAM` will not turn into a file, or a file it
/// cannot write. Exit status 2 in the `vmstate` tool, like the other ``AnalysisInputError``s.
public struct RAMExtractionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message: the file or block concerned and why.
    public var description: String

    /// An error with this message.
    public init(_ description: String) { self.description = description }
}

extension RAMExtractionError: AnalysisInputError {}

/// Creates `path` and its missing parents (GLib's g_mkdir_with_parents).
private func makeDirectory(_ path: String) throws(RAMExtractionError) {
    if g_mkdir_with_parents(path, 0o755) != 0 {
        let code = errno
        throw RAMExtractionError(
            "cannot create directory \(path): \(String(cString: g_strerror(code)))\(tooLongHint(code, path))")
    }
}

/// What to do about ENAMETOOLONG for `path`: the kernel takes names of at most NAME_MAX bytes,
/// and GIO and the kernel paths of at most PATH_MAX.
private func tooLongHint(_ code: Int32, _ path: String) -> String {
    guard code == ENAMETOOLONG else { return "" }
    if let long = path.split(separator: "/").first(where: { $0.utf8.count > Int(NAME_MAX) }) {
        return " (a name in it is \(long.utf8.count) bytes, longer than NAME_MAX, \(NAME_MAX) bytes: "
            + "extract into a directory with shorter names, --directory)"
    }
    return " (its absolute path is longer than PATH_MAX, \(PATH_MAX) bytes: extract into a directory with a "
        + "shorter one, --directory)"
}

/// `directory`, created when missing, as the absolute path the kernel resolves it to (no
/// symbolic link, `.` or `..` left): every file of an extraction is written under it, so that
/// GIO, which makes a relative path absolute with the current directory's name (`/` when that
/// directory was removed) and drops `..` components by their text, writes where `mkdir` made
/// the directory. `files` are the paths, relative to it, that will be written there (each
/// written first as the hidden `.NAME.PID.N.partial` beside it: ``writeReplacing``): a
/// directory whose absolute path leaves no room for the longest within PATH_MAX is refused
/// before any of its missing parents is made.
///
/// - Throws: ``RAMExtractionError`` when the directory cannot be created or resolved (a
///   current directory that was removed, a path longer than PATH_MAX with its files, a name
///   longer than NAME_MAX).
func resolvedExtractionDirectory(_ directory: String, files: [String]) throws(RAMExtractionError) -> String {
    func failure(_ what: String, _ code: Int32) -> RAMExtractionError {
        RAMExtractionError(
            "cannot \(what) directory \(directory): \(String(cString: g_strerror(code)))\(tooLongHint(code, directory))"
        )
    }
    var absoluteLength = directory.utf8.count
    if !directory.hasPrefix("/") {
        // (A removed current directory: mkdir of a relative path would still work in it.)
        guard let cwd = getcwd(nil, 0) else {
            let code = errno
            throw RAMExtractionError(
                "cannot write into \(directory): the current directory cannot be found (\(String(cString: g_strerror(code))))"
                    + (code == ENOENT ? ": it was removed" : ""))
        }
        absoluteLength += strlen(cwd) + 1
        free(cwd)
    }
    // Refused before its missing parents are made (mkdir makes them one at a time, each shorter).
    if absoluteLength >= Int(PATH_MAX) { throw failure("create", ENAMETOOLONG) }
    // The longest path written under it: desc.json and state.json are first written as
    // `.NAME.PID.N.partial` beside themselves (``writeReplacing``), a block file in place
    // (g_file_replace, which writes over an existing file through `.goutputstream-XXXXXX`).
    let written = files.map { file -> (String, Int) in
        let name = file.split(separator: "/").last.map(String.init) ?? file
        let at = file.utf8.count - name.utf8.count
        let temporary =
            file == "desc.json" || file == "state.json"
            ? ".\(name).\(getpid()).99.partial".utf8.count : max(name.utf8.count, ".goutputstream-XXXXXX".utf8.count)
        return (file, at + temporary)
    }
    let longest = written.max { $0.1 < $1.1 } ?? ("", 0)
    func noRoom(_ length: Int, _ what: String) -> RAMExtractionError? {
        length + 1 + longest.1 < Int(PATH_MAX)
            ? nil
            : RAMExtractionError(
                "cannot create directory \(directory): \(what), \(length) bytes, leaves no room within PATH_MAX, "
                    + "\(PATH_MAX) bytes, for the files written in it (the longest, \(longest.0), as it is written: "
                    + "\(longest.1) bytes): extract into a directory with a shorter one, --directory")
    }
    if let e = noRoom(absoluteLength, "its absolute path") { throw e }
    // Through a symbolic link the path the kernel resolves is longer than the one given: its
    // deepest part that exists, resolved, and the rest, before anything is made (recheck55b E3).
    var existing = directory
    var rest = ""
    while access(existing, F_OK) != 0 {
        guard let last = existing.lastIndex(of: "/") else {
            (rest, existing) = ("/" + existing + rest, ".")  // (relative: under the current directory)
            break
        }
        rest = String(existing[last...]) + rest
        existing = String(existing[..<last])
        if existing.isEmpty {
            existing = "/"
            break
        }
    }
    if let base = realpath(existing, nil) {
        let length = strlen(base) + rest.utf8.count
        let shown = String(cString: base) + rest
        free(base)
        if let e = noRoom(length, "the path it resolves to (\(shown))") { throw e }
    }
    try makeDirectory(directory)
    guard let resolved = realpath(directory, nil) else { throw failure("resolve", errno) }
    defer { free(resolved) }
    // (Through a symbolic link, the path the kernel resolves is longer than the one given.)
    if let e = noRoom(strlen(resolved), "the path it resolves to (\(String(cString: resolved)))") { throw e }
    return String(cString: resolved)
}

/// The error for writing `path` that failed with `error` (GLib's message), which is freed.
private func writeFailure(_ path: String, _ error: UnsafeMutablePointer<GError>?) -> RAMExtractionError {
    let message = error.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "unknown error"
    if let error { g_error_free(error) }
    return RAMExtractionError("cannot write \(path): \(message)")
}

/// Writes the file `name` in `directory` (which exists: ``resolvedExtractionDirectory(_:files:)``'s)
/// from the chunks `produce` hands
/// to its argument, replacing what was there, a symbolic link included, only once the file is
/// whole: the text goes to a new hidden file `.NAME.N.partial` beside it (GIO's `g_file_create`,
/// which refuses a name that exists, so a fresh N is tried), which `g_file_move` renames over
/// `name` once closed, so a large text is never held whole in memory and `name` never holds a
/// partial text, whether it existed before or not. (`g_file_replace` writes a new file under the
/// final name itself when none exists.) When a write fails or `produce` throws, the new file is
/// deleted and what was there stays; a process killed meanwhile leaves only the hidden file.
///
/// - Throws: ``RAMExtractionError`` when the file cannot be created, written or renamed (GLib's
///   message); what `produce` throws.
private func writeReplacing(
    _ directory: String, _ name: String,
    _ produce: (_ write: @escaping (UnsafeRawBufferPointer) -> Void) throws -> Void
) throws {
    let path = directory + "/" + name
    var error: UnsafeMutablePointer<GError>?
    var partial: OpaquePointer?
    var created: UnsafeMutablePointer<GFileOutputStream>?
    for attempt in 0..<100 {
        let candidate = g_file_new_for_path("\(directory)/.\(name).\(getpid()).\(attempt).partial")
        if let stream = g_file_create(candidate, G_FILE_CREATE_NONE, nil, &error) {
            (partial, created) = (candidate, stream)
            break
        }
        g_object_unref(UnsafeMutableRawPointer(candidate))
        guard let failed = error, failed.pointee.domain == g_io_error_quark(),
            failed.pointee.code == G_IO_ERROR_EXISTS.rawValue, attempt < 99
        else { throw writeFailure(path, error) }
        g_error_free(failed)
        error = nil
    }
    guard let partial, let created else { throw RAMExtractionError("cannot write \(path)") }
    defer { g_object_unref(UnsafeMutableRawPointer(partial)) }
    // SAFETY: a GFileOutputStream is a GOutputStream (its first member), the same object.
    let out = UnsafeMutableRawPointer(created).assumingMemoryBound(to: GOutputStream.self)
    // (Every way out below closes the stream first.)
    defer { g_object_unref(created) }
    /// Closes the stream and deletes the new file: what was at `name` stays.
    func discard() {
        g_output_stream_close(out, nil, nil)
        g_file_delete(partial, nil, nil)
    }
    var failure: UnsafeMutablePointer<GError>?
    do {
        try produce { chunk in
            guard failure == nil, let base = chunk.baseAddress, !chunk.isEmpty else { return }
            var written: gsize = 0
            _ = g_output_stream_write_all(out, base, gsize(chunk.count), &written, nil, &failure)
        }
    } catch {
        if let failure { g_error_free(failure) }
        discard()
        throw error
    }
    if let failure {
        discard()
        throw writeFailure(path, failure)
    }
    guard g_output_stream_close(out, nil, &error) != 0 else {
        g_file_delete(partial, nil, nil)
        throw writeFailure(path, error)
    }
    let target = g_file_new_for_path(path)
    defer { g_object_unref(UnsafeMutableRawPointer(target)) }
    let flags = GFileCopyFlags(G_FILE_COPY_OVERWRITE.rawValue | G_FILE_COPY_NOFOLLOW_SYMLINKS.rawValue)
    guard g_file_move(partial, target, flags, nil, nil, nil, &error) != 0 else {
        g_file_delete(partial, nil, nil)
        throw writeFailure(path, error)
    }
}

extension StreamAnalysis {
    /// The file, relative to the extraction directory, that holds RAM block `name`: QEMU's
    /// `analyze-migration.py -x` writes block NAME to `./NAME`, so leading slashes drop off and
    /// the other components are subdirectories (`/rom@etc/acpi/tables` is
    /// `rom@etc/acpi/tables`; empty and `.` components vanish). Nil for a name that would leave
    /// the directory (a `..` component), holds a NUL byte, or names nothing.
    public static func extractionPath(forRAMBlock name: String) -> String? {
        guard !name.utf8.contains(0) else { return nil }
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { return nil }
            parts.append(part)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// The RAM blocks the stream announces (the RAM_SAVE_FLAG_MEM_SIZE lists of its RAM
    /// sections), in order, each once with its last announced length in bytes.
    public var announcedRAMBlocks: [RAMBlock] {
        var blocks: [RAMBlock] = []
        var position: [String: Int] = [:]
        for section in sections {
            guard case .ram(let ram) = section.content else { continue }
            for block in ram.blocks {
                if let i = position[block.name] {
                    blocks[i].length = block.length
                    blocks[i].offset = block.offset
                } else {
                    position[block.name] = blocks.count
                    blocks.append(block)
                }
            }
        }
        return blocks
    }

    /// The file of each of ``announcedRAMBlocks``, relative to the extraction directory, in
    /// the same order (see ``extractionPath(forRAMBlock:)``).
    ///
    /// - Throws: ``RAMExtractionError`` for a block name that is unsafe as a path, two blocks
    ///   with one path, a block whose path is `desc.json` or `state.json` (where `vmstate
    ///   analyze --extract` puts the descriptions), or one whose path is a directory of
    ///   another's; its message starts with the byte offset of the block's announcement.
    public func ramExtractionPaths() throws(RAMExtractionError) -> [String] {
        let blocks = announcedRAMBlocks
        func refused(_ block: RAMBlock, _ reason: String) -> RAMExtractionError {
            RAMExtractionError(
                "at byte offset \(block.offset) (0x\(String(block.offset, radix: 16))): RAM block \"\(escapingControlCharacters(block.name))\" cannot be extracted: \(reason)"
            )
        }
        var paths: [String] = []
        var taken: [String: String] = ["desc.json": "the description file", "state.json": "the state file"]
        for block in blocks {
            guard let path = Self.extractionPath(forRAMBlock: block.name) else {
                throw refused(block, "its name is not a safe relative file name")
            }
            if let other = taken[path] {
                throw refused(block, "its file \(escapingControlCharacters(path)) is also \(other)")
            }
            taken[path] = "that of RAM block \"\(escapingControlCharacters(block.name))\""
            paths.append(path)
        }
        for (i, path) in paths.enumerated() {
            var prefix = ""
            for component in path.split(separator: "/").dropLast() {
                prefix += prefix.isEmpty ? String(component) : "/" + component
                if taken[prefix] != nil {
                    throw refused(blocks[i], "\(escapingControlCharacters(prefix)) would be a directory and a file")
                }
            }
        }
        return paths
    }

    /// Writes what QEMU's `analyze-migration.py -x` writes into `directory` (created when
    /// missing), in its order: `desc.json` (the description, as `-d desc` prints it), the RAM
    /// block files (``extractRAM(into:progress:announce:)``) and `state.json` (the state, as
    /// `-f` prints it, without the RAM pages), each JSON without a final newline. `announce`
    /// receives "desc.json", each block's name and "state.json" as each is written.
    ///
    /// - Throws: as ``extractRAM(into:progress:announce:)``; a refused block name or page before
    ///   anything is written.
    public func extract(
        into directory: String, progress: ((Int) -> Void)? = nil, announce: (String) -> Void = { _ in }
    ) throws {
        let plan = try RAMExtractionPlan(self)
        try plan.check(progress: progress.map { p in { p($0 / 2) } })
        let directory = try resolvedExtractionDirectory(
            directory, files: ["desc.json", "state.json"] + plan.paths)
        // Both written as they are made, 64 KiB at a time: the description's text is hundreds
        // of MB for a machine of thousands of CPUs (whose descriptions share their storage in
        // memory), and the state's hex text can be three times the 32 MiB of field values an
        // analysis holds.
        try writeReplacing(directory, "desc.json") { write in
            var writer = JSONTextWriter(format: .python, sink: write)
            writer.value(descriptionJSON)
            writer.flush()
        }
        announce("desc.json")
        try plan.write(
            into: directory, progress: progress.map { p in { p(bytes.count / 2 + $0 / 2) } }, announce: announce)
        try writeReplacing(directory, "state.json") { write in
            var writer = JSONTextWriter(format: .python, sink: write)
            try writeState(to: &writer, memory: false)
            writer.flush()
        }
        announce("state.json")
    }

    /// Writes the guest RAM the stream carries to one file per RAM block under `directory`
    /// (created when missing), as QEMU's `analyze-migration.py -x` does: each announced block
    /// becomes the file ``ramExtractionPaths()`` names, of the block's used length, and each
    /// page record is written at its address, later records over earlier ones (a live
    /// migration's later passes; an XBZRLE page's delta applied to what the file holds there,
    /// as QEMU's destination applies it). A fill page writes its byte over the page; a zero page only
    /// over a page written with other bytes before (the stream may send a page twice:
    /// `RAMSection.mayRepeatPages`; QEMU's script then leaves the page's older contents), so
    /// that the file's other pages stay unwritten, sparse, reading as zeros. Blocks whose pages
    /// the stream does not carry (x-ignore-shared) are all zeros. The pages of a RAM section
    /// that a later section of its id replaced (a RAM START record again: QEMU never writes
    /// one) are not written, as `--memory` does not print them and QEMU's script truncates its
    /// files when the blocks are announced again. `announce` receives each block's name (as
    /// the stream spells it) when its file has been created, in the stream's order. Memory
    /// stays bounded (contiguous pages are written in runs of at most 1 MiB; one file is open
    /// at a time); the stream is read twice more: once to check every page, once to write.
    ///
    /// - Throws: before any file is written, ``RAMExtractionError`` when
    ///   ``ramExtractionPaths()`` refuses a block, and `StreamAnalysisError` (with the record's
    ///   offset) for a page that names a block the stream did not announce or lies past its
    ///   block's length (both of which QEMU's destination refuses). While writing,
    ///   ``RAMExtractionError`` for a directory or file that cannot be created or written
    ///   (GLib's message), and `StreamAnalysisError` when the stream no longer reads as it did.
    public func extractRAM(
        into directory: String, progress: ((Int) -> Void)? = nil, announce: (String) -> Void = { _ in }
    ) throws {
        let plan = try RAMExtractionPlan(self)
        try plan.check(progress: progress.map { p in { p($0 / 2) } })
        try plan.write(
            into: try resolvedExtractionDirectory(directory, files: plan.paths),
            progress: progress.map { p in { p(bytes.count / 2 + $0 / 2) } },
            announce: announce)
    }
}

/// The RAM blocks a stream announced (the last length given for each name), against which a
/// page record is checked as QEMU's destination checks it: a page of a block the stream did not
/// announce ("Unknown ramblock") or past its block's length ("Illegal RAM offset") is refused.
/// Shared by `analyze -x` and `diff`, which read the pages; plain analysis and `--memory` print
/// such a page as the stream has it.
struct AnnouncedRAMBlocks {
    let blocks: [RAMBlock]
    let lengths: [String: UInt64]
    let pageSize: Int

    init(_ analysis: StreamAnalysis) {
        blocks = analysis.announcedRAMBlocks
        lengths = Dictionary(blocks.map { ($0.name, $0.length) }, uniquingKeysWith: { $1 })
        pageSize = analysis.pageSize
    }

    /// Whether a page at `address` lies inside a block of `length` bytes (nil: not announced).
    func fits(_ address: UInt64, _ length: UInt64?) -> Bool {
        guard let length else { return false }
        return address <= length && length - address >= UInt64(pageSize)
    }

    /// Checks the page of `record`, whose block is `name`.
    ///
    /// - Throws: `StreamAnalysisError` at the record for a page of a block the stream did not
    ///   announce or past its block's length.
    func check(_ record: RAMPageRecord, block name: String) throws(StreamAnalysisError) {
        let page = record.page
        func refused(_ message: String) -> StreamAnalysisError {
            StreamAnalysisError(
                offset: record.offset, section: analysisSectionLabel("ram", record.sectionID, 0),
                message: "the RAM page at 0x\(analysisHex(page.address, width: 16)) \(message)")
        }
        guard let length = lengths[name] else {
            // QEMU's destination refuses such a page ("Unknown ramblock"); its script's -x
            // fails on it too unless the page is a zero page (which it never writes).
            let announced = abbreviatedList(blocks.map { "\"\(escapingControlCharacters($0.name))\"" }, first: 8)
            throw refused(
                "names RAM block \"\(escapingControlCharacters(name))\", which the stream did not announce (announced: \(announced))"
            )
        }
        guard fits(page.address, length) else {
            throw refused(
                "lies past the length 0x\(analysisHex(length, width: 16)) of RAM block \"\(escapingControlCharacters(name))\""
            )
        }
    }
}

/// What `analyze -x` writes: the announced blocks, their files, and which page records go
/// where (``StreamAnalysis/extractRAM(into:progress:announce:)``).
private struct RAMExtractionPlan {
    let analysis: StreamAnalysis
    let announced: AnnouncedRAMBlocks
    var blocks: [RAMBlock] { announced.blocks }
    var lengths: [String: UInt64] { announced.lengths }
    let paths: [String]
    /// The page block names of each RAM section still in the analysis; page records name
    /// their block by index into their own section's list.
    let names: [SectionKey: [String]]
    let mayRepeat: Bool
    let pageSize: Int

    struct SectionKey: Hashable {
        var id: UInt32
        var generation: Int
    }

    /// - Throws: ``RAMExtractionError`` when ``StreamAnalysis/ramExtractionPaths()`` refuses a block.
    init(_ analysis: StreamAnalysis) throws(RAMExtractionError) {
        self.analysis = analysis
        announced = AnnouncedRAMBlocks(analysis)
        paths = try analysis.ramExtractionPaths()
        var names: [SectionKey: [String]] = [:]
        var mayRepeat = false
        for section in analysis.sections {
            guard case .ram(let ram) = section.content else { continue }
            names[SectionKey(id: section.sectionID, generation: ram.generation)] = ram.pageBlockNames
            mayRepeat = mayRepeat || ram.mayRepeatPages
        }
        self.names = names
        self.mayRepeat = mayRepeat
        pageSize = analysis.pageSize
    }

    /// The block that `record` is written into, nil for a page of a RAM section that a later
    /// section of its id replaced (not written).
    ///
    /// - Throws: `StreamAnalysisError` at the record for a page of a block the stream did not
    ///   announce or past its block's length.
    func target(_ record: RAMPageRecord) throws(StreamAnalysisError) -> String? {
        guard let pageBlockNames = names[SectionKey(id: record.sectionID, generation: record.generation)] else {
            return nil
        }
        let name = pageBlockNames[Int(record.page.block)]
        try announced.check(record, block: name)
        return name
    }

    /// Reads every page record, refusing the first one ``target(_:)`` refuses.
    func check(progress: ((Int) -> Void)?) throws(StreamAnalysisError) {
        var failure: StreamAnalysisError?
        try analysis.scanPages(progress: progress) { record, _ in
            guard failure == nil else { return }
            do throws(StreamAnalysisError) { _ = try target(record) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Creates the block files in `directory` (which exists: ``resolvedExtractionDirectory(_:files:)``'s)
    /// and writes the pages (after ``check(progress:)``).
    func write(into directory: String, progress: ((Int) -> Void)?, announce: (String) -> Void) throws {
        var files: [String: RAMBlockFile] = [:]
        for (block, path) in zip(blocks, paths) {
            let file = RAMBlockFile(path: directory + "/" + path, length: block.length)
            try file.create()
            files[block.name] = file
            announce(block.name)
        }
        let pageSize = self.pageSize
        let bytes = analysis.bytes
        let run = PageRun(limit: max(1 << 20, pageSize))
        // When a page may come twice, each file remembers the pages it has written with other
        // than zeros: a zero page writes its zeros only over such a page (else it stays sparse).
        if mayRepeat {
            for file in files.values { file.written = NonZeroPages(length: file.length, pageSize: pageSize) }
        }
        var failure: (any Error)?
        try analysis.scanPages(progress: progress) { record, data in
            guard failure == nil else { return }
            do {
                guard let name = try target(record), let file = files[name] else { return }
                let page = record.page
                let index = Int(page.address / UInt64(pageSize))
                if case .fill(0) = page.content, !(mayRepeat && (file.written?.contains(index) ?? true)) {
                    // The file's unwritten pages read as zeros: left sparse.
                    try run.flush()
                    return
                }
                // (An XBZRLE page counts as written with other than zeros.)
                file.written?.set(index, page.content != .fill(0))
                switch page.content {
                case .fill(let byte):
                    try run.append(file, page.address, pageSize) {
                        $0.initializeMemory(as: UInt8.self, repeating: byte)
                    }
                case .data(let offset):
                    if let data {
                        try run.append(file, page.address, pageSize) { $0.copyMemory(from: data) }
                    } else {
                        let copy = bytes.copyBytes(at: offset, count: pageSize)
                        guard copy.count == pageSize else {
                            throw RAMExtractionError(
                                bytes.mapFailure(
                                    "RAM block \"\(escapingControlCharacters(name))\": the page at 0x\(analysisHex(page.address, width: 16)) could not be read"
                                ))
                        }
                        try run.append(file, page.address, pageSize) { out in
                            copy.withUnsafeBytes { out.copyMemory(from: $0) }
                        }
                    }
                case .compressed(let offset):
                    // (The reader hands every compressed page inflated.)
                    guard let data else {
                        throw StreamAnalysisError(offset: offset, message: "the compressed page was not inflated")
                    }
                    try run.append(file, page.address, pageSize) { $0.copyMemory(from: data) }
                case .xbzrle(let offset):
                    // A delta over what the file holds at the page (its earlier records, or
                    // zeros), as QEMU's destination applies it.
                    guard let data else {
                        throw StreamAnalysisError(offset: offset, message: "the XBZRLE page's delta was not read")
                    }
                    try run.update(file, page.address, pageSize) { out throws(StreamAnalysisError) in
                        guard XBZRLEDelta.apply(data, to: out) else {
                            throw StreamAnalysisError.xbzrlePageChanged(at: offset, of: bytes)
                        }
                    }
                case .decoded:
                    // (Only readings that fold pages make these; a scan never does.)
                    throw StreamAnalysisError(
                        offset: record.offset, message: "a decoded page among the stream's page records")
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        try run.finish()
    }
}

/// One bit per page of a RAM block: whether `analyze -x` has written the page with other than
/// zeros.
private struct NonZeroPages {
    private var words: [UInt64]

    /// A bitmap for a block of `length` bytes; nil above 2^26 pages (a bitmap over 8 MiB: 256
    /// GiB of 4 KiB pages), whose every page then counts as written (its zero pages written out).
    init?(length: UInt64, pageSize: Int) {
        let pages = (length + UInt64(pageSize) - 1) / UInt64(pageSize)
        guard pages <= 1 << 26 else { return nil }
        words = [UInt64](repeating: 0, count: Int((pages + 63) / 64))
    }

    /// Whether page `index` holds other than zeros.
    func contains(_ index: Int) -> Bool {
        index / 64 < words.count && words[index / 64] & (1 << UInt64(index % 64)) != 0
    }

    mutating func set(_ index: Int, _ nonZero: Bool) {
        guard index / 64 < words.count else { return }
        if nonZero {
            words[index / 64] |= 1 << UInt64(index % 64)
        } else {
            words[index / 64] &= ~(1 << UInt64(index % 64))
        }
    }
}

/// One RAM block's file, written through GIO: created at the block's length (sparse), then
/// opened for writing pages at their offsets.
private final class RAMBlockFile {
    let path: String
    let length: UInt64
    /// The pages written with other than zeros, when kept (a stream that may resend pages).
    var written: NonZeroPages?
    private var stream: UnsafeMutablePointer<GFileIOStream>?  // while open

    init(path: String, length: UInt64) {
        self.path = path
        self.length = length
    }

    deinit {
        if let stream { g_object_unref(UnsafeMutableRawPointer(stream)) }
    }

    private func failed(_ error: UnsafeMutablePointer<GError>?) -> RAMExtractionError { writeFailure(path, error) }

    /// Creates the file (and its directories), replacing one that exists, at `length` bytes.
    func create() throws(RAMExtractionError) {
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !parent.isEmpty { try makeDirectory(parent) }
        let file = g_file_new_for_path(path)
        defer { g_object_unref(UnsafeMutableRawPointer(file)) }
        var error: UnsafeMutablePointer<GError>?
        guard let replaced = g_file_replace(file, nil, 0, G_FILE_CREATE_NONE, nil, &error) else { throw failed(error) }
        defer { g_object_unref(replaced) }
        // SAFETY: a GFileOutputStream is a GSeekable and starts with its GOutputStream parent
        // (GObject casts of the same instance pointer).
        let out = UnsafeMutableRawPointer(replaced).assumingMemoryBound(to: GOutputStream.self)
        if g_seekable_truncate(OpaquePointer(replaced), goffset(truncatingIfNeeded: length), nil, &error) == 0 {
            _ = g_output_stream_close(out, nil, nil)
            throw failed(error)
        }
        if g_output_stream_close(out, nil, &error) == 0 { throw failed(error) }
    }

    /// The file opened for reading and writing (opened at the first call).
    private func opened() throws(RAMExtractionError) -> UnsafeMutablePointer<GFileIOStream> {
        if let stream { return stream }
        var error: UnsafeMutablePointer<GError>?
        let file = g_file_new_for_path(path)
        defer { g_object_unref(UnsafeMutableRawPointer(file)) }
        guard let io = g_file_open_readwrite(file, nil, &error) else { throw failed(error) }
        stream = io
        return io
    }

    /// Writes `buffer` at byte `offset` of the file.
    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(RAMExtractionError) {
        var error: UnsafeMutablePointer<GError>?
        let io = try opened()
        // SAFETY: a GFileIOStream is a GSeekable and starts with its GIOStream parent (GObject
        // casts of the same instance pointer); its output stream belongs to it.
        if g_seekable_seek(OpaquePointer(io), goffset(offset), G_SEEK_SET, nil, &error) == 0 { throw failed(error) }
        let out = g_io_stream_get_output_stream(UnsafeMutableRawPointer(io).assumingMemoryBound(to: GIOStream.self))
        if g_output_stream_write_all(out, buffer.baseAddress, gsize(buffer.count), nil, nil, &error) == 0 {
            throw failed(error)
        }
    }

    /// Reads `buffer.count` bytes at byte `offset` of the file (within its length).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(RAMExtractionError) {
        var error: UnsafeMutablePointer<GError>?
        let io = try opened()
        // SAFETY: as in `write`; the input stream belongs to the GFileIOStream.
        if g_seekable_seek(OpaquePointer(io), goffset(offset), G_SEEK_SET, nil, &error) == 0 { throw failed(error) }
        let input = g_io_stream_get_input_stream(UnsafeMutableRawPointer(io).assumingMemoryBound(to: GIOStream.self))
        var got: gsize = 0
        if g_input_stream_read_all(input, buffer.baseAddress, gsize(buffer.count), &got, nil, &error) == 0 {
            throw failed(error)
        }
        guard Int(got) == buffer.count else {
            throw RAMExtractionError("cannot read \(path) back: it ends before byte \(offset + UInt64(buffer.count))")
        }
    }

    /// Closes the file if it is open.
    func close() throws(RAMExtractionError) {
        guard let io = stream else { return }
        stream = nil
        defer { g_object_unref(UnsafeMutableRawPointer(io)) }
        var error: UnsafeMutablePointer<GError>?
        // SAFETY: as in `write`.
        let base = UnsafeMutableRawPointer(io).assumingMemoryBound(to: GIOStream.self)
        if g_io_stream_close(base, nil, &error) == 0 { throw failed(error) }
    }
}

/// Contiguous pages of one block, gathered to be written with one call.
private final class PageRun {
    /// At most this many bytes are gathered.
    let limit: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var used = 0
    private var file: RAMBlockFile?
    private var start: UInt64 = 0
    /// The file written last: it stays open until a run goes to another file.
    private var open: RAMBlockFile?

    init(limit: Int) {
        self.limit = limit
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: limit, alignment: 4096)
    }

    deinit { storage.deallocate() }

    /// Adds the `count` bytes (at most `limit`) that `fill` writes (all of them) for the page at `address`
    /// of `file`, writing out what was gathered first when the page does not continue it.
    func append(
        _ file: RAMBlockFile, _ address: UInt64, _ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) throws(RAMExtractionError) {
        if self.file !== file || start + UInt64(used) != address || used + count > limit {
            try flush()
            self.file = file
            start = address
        }
        // SAFETY: used + count <= limit, the storage's size (checked above; count <= limit).
        fill(UnsafeMutableRawBufferPointer(rebasing: storage[used..<used + count]))
        used += count
    }

    /// Lets `change` rewrite the `count` bytes (at most `limit`) of the page at `address` of
    /// `file` in place: the bytes gathered for it, or else those the file holds (zeros where
    /// never written), read back after what was gathered is written out, and gathered again.
    func update<E: Error>(
        _ file: RAMBlockFile, _ address: UInt64, _ count: Int,
        _ change: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws {
        if self.file === file, address >= start, address - start + UInt64(count) <= UInt64(used) {
            let at = Int(address - start)
            // SAFETY: at + count <= used, within the storage (checked above).
            try change(UnsafeMutableRawBufferPointer(rebasing: storage[at..<at + count]))
            return
        }
        try flush()
        if let open, open !== file { try open.close() }
        open = file
        self.file = file
        start = address
        // SAFETY: count <= limit, the storage's size.
        let page = UnsafeMutableRawBufferPointer(rebasing: storage[0..<count])
        try file.read(into: page, at: address)
        try change(page)
        used = count
    }

    /// Writes what was gathered.
    func flush() throws(RAMExtractionError) {
        defer {
            used = 0
            file = nil
        }
        guard let file, used > 0 else { return }
        if let open, open !== file { try open.close() }
        open = file
        try file.write(UnsafeRawBufferPointer(rebasing: storage[0..<used]), at: start)
    }

    /// Writes what was gathered and closes the file written last.
    func finish() throws(RAMExtractionError) {
        try flush()
        try open?.close()
        open = nil
    }
}
