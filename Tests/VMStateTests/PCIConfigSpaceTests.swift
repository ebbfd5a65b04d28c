import Testing
import VMStateAnalysis

/// Which bits of a PCI configuration space `compat` compares between two streams, as QEMU's
/// load does (hw/pci/pci.c `get_pci_config_device`: cmask, less wmask and w1cmask), on a
/// hand-made space with the capabilities whose read-only registers are known.
@Suite struct PCIConfigSpaceTests {
    /// A virtio device's space: capabilities MSI-X at 0x40, virtio's PCI configuration access
    /// (type 5) at 0x50, virtio's notify (type 2) at 0x60, MSI at 0x74 and PCI Express at 0x80,
    /// whose next pointer leads back to 0x40 (a loop, walked once).
    static func space() -> PCIConfigSpace {
        var c = [UInt8](repeating: 0, count: 256)
        c[0] = 0xf4; c[1] = 0x1a; c[2] = 0x00; c[3] = 0x10  // vendor 0x1af4, device 0x1000
        c[4] = 0x07  // command
        c[6] = 0x10  // status: capability list
        c[0x10] = 0x01  // BAR 0
        c[0x34] = 0x40
        c[0x40] = 0x11; c[0x41] = 0x50; c[0x42] = 0x02; c[0x44] = 0x01; c[0x48] = 0x01; c[0x49] = 0x08
        c[0x50] = 0x09; c[0x51] = 0x60; c[0x52] = 20; c[0x53] = 5
        c[0x60] = 0x09; c[0x61] = 0x74; c[0x62] = 20; c[0x63] = 2; c[0x64] = 4; c[0x70] = 4
        c[0x74] = 0x05; c[0x75] = 0x80; c[0x76] = 0x80
        c[0x80] = 0x10; c[0x81] = 0x40; c[0x82] = 0x02
        return PCIConfigSpace(section: "0000:00:02.0/virtio-net", instanceID: 0, field: "virtio", bytes: c)
    }

    @Test func checkedBitsFollowQEMUsMasks() {
        let (masks, names) = Self.space().checkedBits()
        let expected: [Int: UInt8] = [
            0x00: 0xff, 0x03: 0xff, 0x04: 0, 0x05: 0, 0x06: 0x10, 0x07: 0, 0x08: 0xff, 0x0b: 0xff, 0x0c: 0,
            // BAR 0, an I/O BAR: its type bits (pci_register_bar's cmask less its wmask); the
            // address is the guest's. BARs 1 to 5 read 0: not known whether registered.
            0x10: 0x03, 0x11: 0, 0x14: 0, 0x18: 0, 0x0e: 0xff, 0x2c: 0, 0x34: 0xff, 0x3c: 0, 0x3d: 0,
            // MSI-X: ID, next, table size (enable and mask-all writable), table and PBA offsets
            0x40: 0xff, 0x41: 0xff, 0x42: 0xff, 0x43: 0x3f, 0x44: 0xff, 0x4b: 0xff, 0x4c: 0,
            // virtio's PCI configuration access: bar, offset and length are the guest's window
            0x50: 0xff, 0x52: 0xff, 0x53: 0xff, 0x54: 0, 0x58: 0, 0x5c: 0,
            // virtio's notify capability: all of it, with the offset multiplier
            0x63: 0xff, 0x64: 0xff, 0x68: 0xff, 0x6f: 0xff, 0x70: 0xff, 0x73: 0xff,
            // MSI: enable and multiple message enable writable; address and data writable
            0x76: 0x8e, 0x77: 0xff, 0x78: 0,
            // PCI Express: capabilities register, device capabilities, link capabilities
            0x82: 0xff, 0x83: 0xff, 0x84: 0xff, 0x87: 0xff, 0x88: 0, 0x8b: 0, 0x8c: 0xff, 0x8f: 0xff, 0x90: 0,
        ]
        for (offset, mask) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(masks[offset] == mask, "byte 0x\(String(offset, radix: 16))")
        }
        #expect(names[0x02] == "device ID" && names[0x10] == "BAR 0: I/O space")
        #expect(names[0x43] == "MSI-X message control: table size")
        #expect(names[0x80] == "capability 0x10 at 0x80: ID, next pointer")
        #expect(names[0x70] == "virtio notify offset multiplier")
    }

    @Test func firstDifferenceIgnoresWhatTheGuestWrites() {
        let device = Self.space()
        var saved = device
        saved.bytes[0x04] = 0x00  // command
        saved.bytes[0x06] = 0x90  // status: other bits
        saved.bytes[0x10] = 0xc1  // BAR 0 programmed
        saved.bytes[0x43] = 0xc0  // MSI-X enabled, all masked
        saved.bytes[0x54] = 3  // the configuration window's bar
        saved.bytes[0x76] = 0xf1  // MSI enabled, multiple message enable
        saved.bytes[0x88] = 0x1f  // PCI Express device control
        #expect(device.firstDifference(saved: saved) == nil)

        saved.bytes[0x42] = 0x05  // vectors=6 where the device has 3
        #expect(
            device.firstDifference(saved: saved)
                == .init(offset: 0x42, old: 5, new: 2, mask: 0xff, register: "MSI-X message control: table size"))
        saved.bytes[0x06] = 0x80  // no capability list: the first difference
        #expect(
            device.firstDifference(saved: saved)
                == .init(offset: 0x06, old: 0x80, new: 0x10, mask: 0x10, register: "status: capability list"))
    }

    @Test func capabilitiesAreWalkedOnlyWhereTheyCanBe() {
        var c = Self.space()
        c.bytes[6] = 0  // no capability list: only the header
        #expect(c.checkedBits().masks[0x40...].allSatisfy { $0 == 0 })
        c.bytes[6] = 0x10
        c.bytes[0x34] = 0x20  // a pointer into the header: no capability
        #expect(c.checkedBits().masks[0x40...].allSatisfy { $0 == 0 })
        c.bytes[0x34] = 0xfe  // the last dword: its ID and next pointer, nothing past the space
        c.bytes[0xfc] = 0x11
        #expect(c.checkedBits().masks[0xfc...] == [0xff, 0xff, 0xff, 0x3f])
        let short = PCIConfigSpace(section: "s", instanceID: 0, field: "f", bytes: [0x86, 0x80])
        #expect(short.checkedBits().masks.allSatisfy { $0 == 0 })
    }

    @Test func pciPaths() {
        #expect(PCIConfigSpace.isPCIPath("0000:00:02.0/virtio-net"))
        #expect(PCIConfigSpace.isPCIPath("0000:00:1f.2/ich9_ahci"))
        #expect(PCIConfigSpace.isPCIPath("0000:00:03.0:01.0/e1000"))
        #expect(!PCIConfigSpace.isPCIPath("virtio-mmio@00000000feb00e00/virtio-net"))
        #expect(!PCIConfigSpace.isPCIPath("ram"))
        #expect(!PCIConfigSpace.isPCIPath("0000:00/x"))
        #expect(!PCIConfigSpace.isPCIPath("/"))
    }
}
