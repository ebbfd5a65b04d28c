import Testing
import VMState

/// The `vmstate` command line: output and exit status (skipped when the executable was not
/// built next to the tests).
@Suite(.enabled(if: Tool.path != nil, "the vmstate executable is not built next to the tests"))
struct AnalyzeCLITests {
    @Test func analyzePrintsWhatTheScriptPrints() throws {
        let dir = TestPaths.qemuFixtures + "/pc-reset"
        let r = try Tool.run(["analyze", dir + "/stream.bin"])
        #expect(r.status == 0)
        #expect(r.stdout == (try TestPaths.readText(dir + "/analyze.json")))
        #expect(r.stderr.isEmpty)
    }

    @Test func analyzeDesc() throws {
        let dir = TestPaths.streams + "/audio-hda"
        let r = try Tool.run(["analyze", "--desc", dir + "/stream.bin"])
        #expect(r.status == 0)
        #expect(r.stdout == (try TestPaths.readText(dir + "/desc.json")))
    }

    @Test func analyzeQEMU10Stream() throws {
        let dir = TestPaths.qemu10Fixtures + "/q35-devices"
        let r = try Tool.run(["analyze", dir + "/stream.bin"])
        #expect(r.status == 0)
        #expect(r.stdout == (try TestPaths.readText(dir + "/analyze.json")))
        #expect(r.stderr.isEmpty)
        let d = try Tool.run(["analyze", "--desc", dir + "/stream.bin"])
        #expect(d.status == 0)
        #expect(d.stdout == (try TestPaths.readText(dir + "/desc.json")))
        let t = try Tool.run(["analyze", "--tree", TestPaths.qemu10Fixtures + "/mapped-ram/stream.bin"])
        #expect(t.status == 0)
        #expect(t.stdout.contains("machine type: pc-i440fx-10.0\ncapabilities: mapped-ram\n"))
    }

    @Test func analyzeBadInputExitsWith2() throws {
        let r = try Tool.run(["analyze", TestPaths.qemuFixtures + "/dump-vmstate-pc.json"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.hasPrefix("vmstate analyze: error: at byte offset 0 (0x0): expected the stream magic"))
        let missing = try Tool.run(["analyze", "/nonexistent/stream.bin"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cannot open /nonexistent/stream.bin"))
    }
}
