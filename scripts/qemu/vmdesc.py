#!/usr/bin/env python3
"""Print the device description (vmdesc) JSON that ends a QEMU migration stream.

usage: vmdesc.py STREAM.bin
QEMU ends a stream written to a file with QEMU_VM_VMDESCRIPTION (0x06), a big-endian u32
length N and N bytes of JSON, which run to the end of the file (also for mapped-ram files,
whose device state follows the RAM regions). Prints that JSON re-indented by 2 spaces
(json.dumps(..., indent=2), keys in the stream's order) and a newline; exits 1 when the
stream has no vmdesc at its end.
"""
import json
import struct
import sys


def vmdesc(data):
    # The JSON is at least "{}"; try every 0x06 whose length reaches exactly the end.
    pos = len(data) - 5 - 2
    while pos >= 0:
        pos = data.rfind(b'\x06', 0, pos + 1)
        if pos < 0:
            break
        (n,) = struct.unpack_from('>I', data, pos + 1)
        if pos + 5 + n == len(data):
            try:
                return json.loads(data[pos + 5:])
            except ValueError:
                pass
        pos -= 1
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    try:
        with open(sys.argv[1], 'rb') as f:
            desc = vmdesc(f.read())
    except OSError as e:
        sys.exit(f'{sys.argv[1]}: {e.strerror}')
    if desc is None:
        sys.exit(f'{sys.argv[1]}: no vmdesc at the end of the stream')
    print(json.dumps(desc, indent=2))


if __name__ == '__main__':
    main()
