import CGLib
import CVMState
import Testing

@testable import VMState

// QEMU's QEMUFile checks for code that writes in passes: qemu_file_rate_limit (QEMU 7.2's
// migration/qemu-file-types.h), migration_rate_exceeded and qemu_file_is_seekable (QEMU 10.0's).
// The files here have no bandwidth limit and no positioned I/O, so only the file's error counts.

@Suite("QEMUFile rate and seek checks")
struct QEMUFileChecksTests {
    @Test("an output file without an error is not rate limited; with one it is, as in QEMU")
    func output() {
        let out = g_byte_array_new()!
        defer { g_byte_array_unref(out) }
        let f = vmstate_file_new_output(out)
        #expect(qemu_file_rate_limit(f) == 0)
        #expect(migration_rate_exceeded(f) == false)
        #expect(qemu_file_is_seekable(f) == false)
        qemu_put_be32(f, 0x0102_0304)
        #expect(qemu_file_rate_limit(f) == 0)
        qemu_file_set_error(f, -5)
        #expect(qemu_file_rate_limit(f) == 1)
        #expect(migration_rate_exceeded(f) == true)
        #expect(qemu_file_is_seekable(f) == false)
        #expect(qemu_fclose(f) == -5)
        #expect(bytes(of: out) == [1, 2, 3, 4])
    }

    @Test("an input file read past its end (-EIO) is rate limited; a NULL file is not")
    func inputAndNull() {
        let input = gbytes([0xaa])
        defer { g_bytes_unref(input) }
        let f = vmstate_file_new_input(input)
        #expect(qemu_get_byte(f) == 0xaa)
        #expect(qemu_file_rate_limit(f) == 0)
        _ = qemu_get_byte(f)
        #expect(qemu_file_get_error(f) == -5)
        #expect(qemu_file_rate_limit(f) == 1)
        #expect(migration_rate_exceeded(f) == true)
        #expect(qemu_fclose(f) == -5)

        #expect(qemu_file_rate_limit(nil) == 0)
        #expect(migration_rate_exceeded(nil) == false)
        #expect(qemu_file_is_seekable(nil) == false)
    }

    @Test("the *s reads take their bytes also when the pointer is NULL, as every width does")
    func readsIntoANullPointer() {
        let input = gbytes([1, 2, 0, 3, 4])
        defer { g_bytes_unref(input) }
        let f = vmstate_file_new_input(input)
        qemu_get_8s(f, nil)
        qemu_get_s8s(f, nil)
        qemu_get_be16s(f, nil)
        #expect(qemu_get_byte(f) == 4)
        #expect(qemu_file_get_error(f) == 0)
        #expect(qemu_fclose(f) == 0)
    }
}
