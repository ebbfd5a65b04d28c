#!/usr/bin/env python3
"""Run QEMU's analyze-migration.py on a stream it fails on, past the two places it fails at
although the rest of the stream is well formed, and print what it prints.

usage: script-expected.py ANALYZE_MIGRATION_PY STREAM.bin [SCRIPT ARGS...]

1. The script finds the vmdesc as the first '{' after the last zero byte of the file's last
   10 MiB, and checks that byte 0x06 is 5 bytes before it ("No Debug Migration device found"
   otherwise). When the vmdesc's be32 length holds the byte '{' after its last zero byte
   (0x0001ad7b, 0x00007bf4), the script stops there. The copy of the stream given to the
   script has spaces after its JSON (which JSON allows), its length counting them, until the
   length holds no '{' after its last zero byte.
2. QEMU 7.2's configuration section may end with subsections (configuration/uuid with the
   validate-uuid capability, configuration/capabilities with x-ignore-shared,
   configuration/target-page-bits); both versions of the script read the section of a
   vmdesc without "configuration" as the machine type alone and stop at the subsection
   ("Unknown section type: 5"). They are dropped from a copy of the stream here, and with
   x-ignore-shared each RAM block's be64 address (which the script reads only when the
   capability is in the vmdesc's "configuration").

3. Both versions of the script read the length byte of a RAM block's name and of a section's
   idstr as signed, and stop at one of 128 to 255 bytes, which QEMU writes (a memory
   backend's long id, a device behind nested PCI bridges): "read length must be non-negative
   or -1". The script is run from a copy that reads those two bytes unsigned.

None of these changes touches what the script prints for the stream: it prints no configuration,
not where it found the vmdesc, and the vmdesc as JSON it has parsed. `vmstate analyze` prints for such streams what this
prints (Tests/Fixtures/README.md).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

def vmdesc_at_end(data):
    for k in range(len(data) - 5, -1, -1):
        if data[k] == 6 and struct.unpack_from('>I', data, k + 1)[0] == len(data) - k - 5:
            return json.loads(data[k + 5:])
    sys.exit('script-expected.py: no vmdesc at the end of the stream')


def drop_configuration_subsections(data):
    """The stream without QEMU 7.2's configuration subsections (and x-ignore-shared's block
    addresses), when its vmdesc has no "configuration"."""
    if 'configuration' in vmdesc_at_end(data) or data[8:9] != b'\x07':
        return data, False
    (n,) = struct.unpack_from('>I', data, 9)
    pos = 13 + n
    start, caps = pos, []
    while data[pos] == 0x05:
        length = data[pos + 1]
        name = data[pos + 2:pos + 2 + length].decode()
        pos += 2 + length + 4
        if name == 'configuration/target-page-bits':
            pos += 4
        elif name == 'configuration/uuid':
            pos += 16
        elif name == 'configuration/capabilities':
            (count,) = struct.unpack_from('>I', data, pos)
            pos += 4
            for _ in range(count):
                caps.append(data[pos + 1:pos + 1 + data[pos]].decode())
                pos += 1 + data[pos]
        else:
            sys.exit(f'script-expected.py: unknown configuration subsection {name}')
    out = data[:start] + data[pos:]
    if 'x-ignore-shared' in caps:
        out = drop_block_addresses(out, start)
    return out, pos != start


def drop_block_addresses(data, pos):
    """The RAM START's block list without the be64 address after each block's length."""
    # The first section after the configuration is the RAM START (QEMU 7.2: section 2, "ram").
    assert data[pos] == 0x01, 'expected the RAM START after the configuration'
    idlen = data[pos + 5]
    pos += 6 + idlen + 8
    (word,) = struct.unpack_from('>Q', data, pos)
    assert word & 0x04, 'expected MEM_SIZE'
    total = word & ~0xfff
    pos += 8
    while total > 0:
        pos += 1 + data[pos]
        (length,) = struct.unpack_from('>Q', data, pos)
        pos += 8
        data = data[:pos] + data[pos + 8:]
        total -= length
    return data


def pad_vmdesc(data):
    """The stream with spaces after its vmdesc JSON, counted in the vmdesc's be32 length, until
    the length's bytes hold no '{' after their last zero byte (none when they hold none)."""
    for k in range(len(data) - 5, -1, -1):
        if data[k] == 6 and struct.unpack_from('>I', data, k + 1)[0] == len(data) - k - 5:
            break
    else:
        sys.exit('script-expected.py: no vmdesc at the end of the stream')
    length = len(data) - k - 5

    def brace_after_zero(n):
        b = struct.pack('>I', n)
        return b'{' in b[b.rfind(b'\0') + 1:]

    spaces = 0
    while brace_after_zero(length + spaces):
        spaces += 1
    return data[:k + 1] + struct.pack('>I', length + spaces) + data[k + 5:] + b' ' * spaces


def unsigned_lengths(text):
    """The script's text with the length bytes of names (readvar's, a RAM block's) read unsigned."""
    for signed in ('size = self.read8()\n', 'namelen = self.file.read8()\n'):
        if text.count(signed) != 1:
            sys.exit(f'script-expected.py: the script does not read {signed.strip()!r} once')
        text = text.replace(signed, signed[:-1] + ' & 0xff\n')
    return text


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip())
    script, stream = sys.argv[1], sys.argv[2]
    with open(stream, 'rb') as f:
        data, _ = drop_configuration_subsections(f.read())
    data = pad_vmdesc(data)
    with open(script) as f:
        text = unsigned_lengths(f.read())
    with tempfile.TemporaryDirectory() as d:
        rewritten = os.path.join(d, 'stream.bin')
        with open(rewritten, 'wb') as f:
            f.write(data)
        copy = os.path.join(d, 'analyze-migration.py')
        with open(copy, 'w') as f:
            f.write(text)
        sys.exit(subprocess.run([sys.executable, copy] + sys.argv[3:] + ['-f', rewritten]).returncode)


if __name__ == '__main__':
    main()
