import Testing

@testable import VMState
import VMStateAnalysis

/// Inputs whose cost once grew faster than their size (quadratic lookups, copies, rebuilt
/// indexes): what they read must stay exactly what it was. The reproducers of the costly
/// sizes are in the cost audit (fuzz/regressions/stream/ for the loader's).
@Suite struct InputCostTests {
    /// A vmdesc followed by other bytes is searched for candidate by candidate: one whose JSON
    /// would hold a control byte (another candidate's EOF and 0x06) is never parsed, so
    /// thousands of look-alikes reaching the same `}` cost one pass, not one copy each.
    @Test func vmdescLookAlikesBeforeTrailingBytesAreNotParsed() throws {
        var bytes: [UInt8] = Array("QEVM".utf8) + be32(3)
        let count = 1000
        let brace = bytes.count + 7 * count
        for _ in 0..<count {
            let marker = bytes.count + 1
            bytes += [0x00, 0x06] + be32(UInt32(brace - (marker + 4))) + [UInt8(ascii: "{")]
        }
        bytes += Array("}x".utf8)
        // Only the last, whose text is `{}`, holds no control byte: it alone is handed over.
        var calls = 0
        var texts: [[UInt8]] = []
        let found = bytes.withUnsafeBytes { buf in
            VMDescRecord.locateBeforeTrailingBytes(buf) { text in
                calls += 1
                texts.append(Array(text))
                return false
            }
        }
        #expect(found == nil)
        #expect(calls == 1)
        #expect(texts.first == Array("{}".utf8))

        // A real one after them, then trailing bytes: found, parsed once.
        let json = Array(#"{"page_size": 4096, "devices": []}"#.utf8)
        let at = bytes.count
        bytes += [0x00, 0x06] + be32(UInt32(json.count)) + json + [0x00, 0x00]
        calls = 0
        var seen: [UInt8] = []
        let real = bytes.withUnsafeBytes { buf in
            VMDescRecord.locateBeforeTrailingBytes(buf) { text in
                calls += 1
                seen = Array(text)
                return true
            }
        }
        #expect(real == VMDescRecord(markerOffset: at + 1, jsonLength: json.count))
        #expect(calls == 1)
        #expect(seen == json)
    }
}
