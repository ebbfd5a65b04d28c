import Foundation
import VMStateAnalysis

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a generated migration stream of one RAM block "pc.ram" straight to a file (tests of
/// streams too large to hold in memory): the header, the RAM section start (section id 2,
/// "ram", instance 0, version 4, MEM_SIZE, EOS), a section part the caller fills with page
/// records, then ``finish()``: EOS, the section end, EOF and a vmdesc with no devices.
final class GeneratedStreamWriter {
    let path: String
    private let fd: Int32
    /// Bytes written so far.
    private(set) var written = 0
    /// The block's name as a RAM record writes it: length byte, "pc.ram".
    let blockName: [UInt8] = [6] + Array("pc.ram".utf8)

    /// Creates (truncates) `path` and writes everything up to the section part's header.
    init(path: String, blockLength: UInt64) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StreamFileError(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        try put(Array("QEVM".utf8) + Self.be32(3))
        try put([0x01] + Self.be32(2) + [3] + Array("ram".utf8) + Self.be32(0) + Self.be32(4))
        try put(Self.be64(blockLength | 0x04) + blockName + Self.be64(blockLength) + Self.be64(0x10))
        try put([0x02] + Self.be32(2))
    }

    deinit { close(fd) }

    func put(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                guard n > 0 else {
                    throw StreamFileError(path: path, operation: "write", reason: String(cString: strerror(errno)))
                }
                done += n
            }
        }
        written += bytes.count
    }

    /// Ends the section part, writes the section end, EOF and the vmdesc; returns the size.
    func finish() throws -> Int {
        try put(Self.be64(0x10))
        try put([0x03] + Self.be32(2) + Self.be64(0x10))
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        try put([0x00, 0x06] + Self.be32(UInt32(json.count)) + json)
        return written
    }

    static func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
    static func be64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
}
