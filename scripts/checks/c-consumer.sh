#!/usr/bin/env bash
# Builds a C program with no Swift in it against libswiftvmstate.so, runs it, and checks that
# the library exports QEMU's function names.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product swiftvmstate >/dev/null
bin=$(swift build --show-bin-path)
swiftlib=$(dirname "$(dirname "$(command -v swift)")")/lib/swift/linux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
${CC:-cc} -std=gnu11 -Wall -Werror -I include $(pkg-config --cflags glib-2.0) Tests/CConsumer/consumer.c \
    -L "$bin" -lswiftvmstate $(pkg-config --libs glib-2.0) -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" \
    -o "$out/consumer"
# The same against QEMU 10.0's API (VMSTATE_QEMU_API 1000).
${CC:-cc} -std=gnu11 -Wall -Werror -I include $(pkg-config --cflags glib-2.0) Tests/CConsumer/consumer_v1000.c \
    -L "$bin" -lswiftvmstate $(pkg-config --libs glib-2.0) -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" \
    -o "$out/consumer_v1000"
"$out/consumer_v1000"
"$out/consumer"
# A mostly zero 3 GiB guest saved into a GByteArray under an address-space limit.
${CC:-cc} -std=gnu11 -Wall -Werror -I include $(pkg-config --cflags glib-2.0) Tests/CConsumer/address_space.c \
    -L "$bin" -lswiftvmstate $(pkg-config --libs glib-2.0) -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" \
    -o "$out/address_space"
"$out/address_space"
# examples/qemu-relay (docs/C-API.md, live migration): it builds, and refuses a bad block list.
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -I include $(pkg-config --cflags gio-2.0) \
    examples/qemu-relay/relay.c -L "$bin" -lswiftvmstate $(pkg-config --libs gio-2.0) \
    -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" -o "$out/relay"
if relay_out=$("$out/relay" 4444 127.0.0.1:4445 pc.ram=16M 2>&1) ||
    [ "$relay_out" != "relay: pc.ram=16M is not BLOCK=LENGTH" ]; then
    echo "FAIL - examples/qemu-relay accepted a bad length or said: $relay_out"
    exit 1
fi
echo "ok - examples/qemu-relay builds"
# ... says so, before the source migrates, when no destination listens, and names the destination
# that closed the connection (a refusing QEMU: a fake one here, which resets it).
read -r free_port in_port dst_port < <(python3 -c 'import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
blocks=(pc.ram=0x1000000 /rom@etc/acpi/tables=0x20000 pc.bios=0x40000 pc.rom=0x20000 /rom@etc/table-loader=0x1000
    /rom@etc/acpi/rsdp=0x1000)
if relay_out=$(timeout 20 "$out/relay" "$in_port" "127.0.0.1:$free_port" "${blocks[@]}" 2>&1) ||
    [[ "$relay_out" != "relay: cannot connect to the destination 127.0.0.1:$free_port: "*"Connection refused (start it first, with -incoming tcp:127.0.0.1:$free_port)" ]]; then
    echo "FAIL - examples/qemu-relay without a destination said: $relay_out"
    exit 1
fi
timeout 30 python3 -c 'import socket, struct, sys
l = socket.socket()
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()' "$dst_port" >"$out/refuser.out" &
for _ in $(seq 100); do grep -q listening "$out/refuser.out" && break; sleep 0.1; done
timeout 60 "$out/relay" "$in_port" "127.0.0.1:$dst_port" "${blocks[@]}" >"$out/relay.out" 2>&1 &
relay=$!
for _ in $(seq 100); do grep -q listening "$out/relay.out" && break; sleep 0.1; done
timeout 30 python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
s.close()' "$in_port" Tests/Fixtures/qemu-7.2/pc-bios/stream.bin
relay_rc=0; wait "$relay" || relay_rc=$?
if [ "$relay_rc" != 1 ] || ! grep -q '^loaded a stream of machine type pc-i440fx-7.2$' "$out/relay.out" ||
    ! grep -qF "relay: the destination at 127.0.0.1:$dst_port closed the connection: its QEMU refused the stream" \
        "$out/relay.out"; then
    echo "FAIL - examples/qemu-relay to a destination that resets the connection (status $relay_rc):"
    cat "$out/relay.out"
    exit 1
fi
echo "ok - examples/qemu-relay names a missing destination and one that closes the connection"
# ... and relays a live migration from one QEMU to another (QEMU 7.2, -M pc -m 16).
if command -v qemu-system-x86_64 >/dev/null; then
    read -r in_port out_port < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
    timeout 120 python3 scripts/qemu-incoming.py "tcp:127.0.0.1:$out_port" "info status" -- -M pc -m 16 \
        >"$out/dst.json" 2>&1 &
    dst=$!
    for _ in $(seq 100); do grep -q listening "$out/dst.json" && break; sleep 0.1; done
    timeout 120 "$out/relay" "$in_port" "127.0.0.1:$out_port" "${blocks[@]}" >"$out/relay.out" 2>&1 &
    relay=$!
    for _ in $(seq 100); do grep -q listening "$out/relay.out" && break; sleep 0.1; done
    python3 scripts/qemu/qemu-live-stream.py "tcp:127.0.0.1:$in_port" 1 20000000 -- -M pc -m 16 \
        >"$out/src.json" 2>&1 || true
    relay_rc=0; wait "$relay" || relay_rc=$?
    [ "$relay_rc" = 0 ] || kill "$dst" 2>/dev/null || true  # (its QEMU would wait for the stream)
    dst_rc=0; wait "$dst" || dst_rc=$?
    if [ "$relay_rc" != 0 ] || [ "$dst_rc" != 0 ] || ! grep -q '^loaded a stream of machine type pc-i440fx-7.2$' "$out/relay.out" ||
        ! grep -q '"status": "completed", "error": null, "outputs": \["VM status: running' "$out/dst.json"; then
        echo "FAIL - examples/qemu-relay between two QEMUs (relay $relay_rc, destination $dst_rc):"
        cat "$out/src.json" "$out/relay.out" "$out/dst.json"
        exit 1
    fi
    echo "ok - examples/qemu-relay relays a live migration from QEMU 7.2 to QEMU 7.2"
fi
# The headers in ISO C11 (README: "the headers need C11"): tables using every macro, of both
# APIs, compile under -pedantic without a warning (QEMU's own `{}` for VMSTATE_END_OF_LIST() is
# a GNU and C23 extension).
for tables in Tests/CFixtures/fx_devmacros.c Tests/CFixtures/qemu10/fx_qemu10.c; do
    ${CC:-cc} -std=c11 -pedantic -Wall -Werror -fsyntax-only -I include -I Tests/CFixtures/include \
        $(pkg-config --cflags glib-2.0) "$tables"
done
echo "ok - the headers compile as ISO C11 (-pedantic)"
# A C++ file may include the headers to call the API (their extern "C" blocks): every public
# header, both APIs, with QEMU's timer queries (the tables themselves are C).
for api in 702 1000; do
    printf '%s\n' "#define VMSTATE_QEMU_API $api" '#include "migration/vmstate.h"' \
        '#include "migration/vmstate-registry.h"' '#include "migration/vmstate-schema.h"' \
        '#include "migration/qemu-file-types.h"' '#include "qemu/timer.h"' '#include "qemu/queue.h"' \
        'int main() { QEMUTimer t; vmstate_timer_init(&t, nullptr, nullptr); return timer_pending(&t); }' \
        >"$out/api$api.cpp"
    ${CXX:-clang++} -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I include $(pkg-config --cflags glib-2.0) \
        "$out/api$api.cpp"
done
echo "ok - the headers compile as C++17"

# SIGQUIT keeps its default in a program that links the library (CShim/signals.c): the Swift
# runtime's backtracer takes it as the library loads, and Ctrl-\ would no longer end the
# program; with SWIFT_BACKTRACE set (asking for the backtracer) the runtime keeps it.
printf '%s\n' '#include <signal.h>' '#include <stdio.h>' '#include "migration/vmstate-registry.h"' \
    'int main(void) {' '    vmstate_registry_free(vmstate_registry_new());' \
    '    struct sigaction a;' '    sigaction(SIGQUIT, NULL, &a);' \
    '    puts(a.sa_handler == SIG_DFL ? "default" : a.sa_handler == SIG_IGN ? "ignored" : "handled");' \
    '    return 0;' '}' >"$out/quit.c"
${CC:-cc} -std=gnu11 -Wall -Werror -I include $(pkg-config --cflags glib-2.0) "$out/quit.c" \
    -L "$bin" -lswiftvmstate $(pkg-config --libs glib-2.0) -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib" \
    -o "$out/quit"
quit=$(env -u SWIFT_BACKTRACE --default-signal=QUIT "$out/quit")
asked=$(SWIFT_BACKTRACE=enable=yes env --default-signal=QUIT "$out/quit")
if [ "$quit" != default ] || [ "$asked" != handled ]; then
    echo "FAIL - SIGQUIT in a C program linking the library: $quit (expected default);" \
        "with SWIFT_BACKTRACE=enable=yes: $asked (expected handled)"
    exit 1
fi
echo "ok - SIGQUIT keeps its default action in a C program linking the library"

missing=0
# Listed once: `nm | grep -q` in the loop let grep exit early, nm die of SIGPIPE and pipefail
# report a symbol as missing at random.
exported=$(nm -D --defined-only "$bin/libswiftvmstate.so" | awk '{print $3}')
for sym in vmstate_load_state vmstate_save_state vmstate_save_state_v vmstate_save_needed \
    qemu_put_byte qemu_put_be16 qemu_put_be32 qemu_put_be64 qemu_put_buffer qemu_put_sbe32 \
    qemu_put_be32s qemu_get_byte qemu_get_be16 qemu_get_be32 qemu_get_be64 qemu_get_buffer \
    qemu_get_sbe32 qemu_get_be32s qemu_peek_byte qemu_peek_buffer qemu_file_skip \
    qemu_file_get_error qemu_file_set_error qemu_file_rate_limit migration_rate_exceeded \
    qemu_file_is_seekable qemu_fclose json_writer_new json_writer_get \
    json_writer_free vmstate_file_new_output vmstate_file_new_input vmstate_info_uint32 \
    vmstate_info_timer vmstate_info_gtree vmstate_dump_schema vmstate_dump_schema_named \
    vmstate_load_state_v1000 vmstate_save_state_v1000 vmstate_save_state_v_v1000 \
    vmstate_save_state_with_err vmstate_section_needed vmstate_save_to_bytes_v1000 vmstate_info_fd \
    vmstate_free_after_load vmstate_load_on_rollback \
    error_setg error_setg_errno error_prepend error_propagate error_free error_get_pretty \
    error_report_err error_abort error_fatal; do
    if ! grep -qx "$sym" <<<"$exported"; then
        echo "FAIL - libswiftvmstate.so does not export $sym"
        missing=1
    fi
done
[ "$missing" = 0 ] && echo "ok - libswiftvmstate.so exports QEMU's names"
exit "$missing"
