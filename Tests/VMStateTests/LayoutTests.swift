import CVMState
import Testing

@Suite struct LayoutTests {
    @Test func structSizesMatchQEMU() {
        #expect(MemoryLayout<VMStateInfo>.size == 24)
        #expect(MemoryLayout<VMStateField>.size == 104)
        #expect(MemoryLayout<VMStateDescription>.size == 88)
    }
}
