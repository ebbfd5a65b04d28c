#!/usr/bin/env bash
# The example C emulator, built the way a user builds it: scripts/install into a temporary
# prefix, a copy of examples/tiny-emulator in another directory built with pkg-config alone,
# then save in one process and restore in another. Also checks that restore fails (exit 1) on a
# difference and on a damaged stream, that check passes, and that a save and a restore run
# under valgrind with the installed library as it is, and that --uninstall removes every file.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/scripts/lib.sh"
apt_need make command -v make
work=$(mktemp -d "${TMPDIR:-/tmp}/vmstate-example.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL - $*"
    exit 1
}
# expect_status WANT LOG COMMAND...: runs COMMAND with output into LOG, fails unless it exits WANT.
expect_status() {
    local want=$1 log=$2 status=0
    shift 2
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" != "$want" ]; then
        cat "$log"
        fail "'${*##*/}' exited $status, expected $want"
    fi
}

prefix=$work/prefix
expect_status 0 "$work/install.log" "$root/scripts/install" "$prefix"
for internal in vmstate-internal.h module.modulemap; do
    [ -z "$(find "$prefix" -name "$internal")" ] || fail "scripts/install installed $internal"
done

# Only the example's own files, and only pkg-config to find the library.
mkdir "$work/src"
cp "$root"/examples/tiny-emulator/Makefile "$root"/examples/tiny-emulator/*.[ch] "$work/src/"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
unset CPATH C_INCLUDE_PATH LIBRARY_PATH LD_LIBRARY_PATH
cc=${CC:-$(command -v cc || command -v clang || command -v gcc)}
expect_status 0 "$work/build.log" make -C "$work/src" CC="$cc" CFLAGS="-O2 -g -Werror"
emu=$work/src/tiny-emulator
# (ldd's output held first: `ldd | grep -q` let grep exit at its match, ldd die of SIGPIPE and
# pipefail fail the check now and then.)
# It records the library's SONAME (not the file name -l found) and loads it from the prefix.
soname=$(vmstate_soname)
libs=$(ldd "$emu")
grep -q "$soname => $prefix/lib/$soname" <<<"$libs" ||
    fail "tiny-emulator does not load the installed $soname: $(grep vmstate <<<"$libs")"
[ "$(readlink "$prefix/lib/libswiftvmstate.so")" = "$soname" ] &&
    [ "$(readlink "$prefix/lib/$soname")" = "libswiftvmstate.so.$(vmstate_version)" ] ||
    fail "the installed library's links are not libswiftvmstate.so -> $soname -> libswiftvmstate.so.$(vmstate_version)"

cd "$work"
expect_status 0 save.log "$emu" save stream.bin
expect_status 0 restore.log "$emu" restore stream.bin
grep -q "^restore: OK" restore.log || fail "restore printed no OK line"
grep -q "irq_reinject subsection: sent" save.log || fail "the default run should send the RTC subsection"

# A run short enough that the RTC subsection is not needed.
expect_status 0 save-short.log "$emu" --steps 1000 save short.bin
grep -q "irq_reinject subsection: not needed" save-short.log || fail "the 1000-step run should not need the subsection"
expect_status 0 restore-short.log "$emu" --steps 1000 restore short.bin

# Every difference fails the restore.
expect_status 1 differ.log "$emu" --steps 4999 restore stream.bin
grep -q "DIFFERENT" differ.log || fail "a different run was not reported per field"

# A damaged stream fails with the library's GError message.
head -c 100000 stream.bin >cut.bin
expect_status 1 cut.log "$emu" restore cut.bin
grep -q "cannot load cut.bin: section \"ram\" instance 0: stream ended inside a RAM page (at byte " cut.log ||
    fail "no GError message for a truncated stream: $(cat cut.log)"

# The installed tool reads the emulator's stream, and says where the cut one ends.
expect_status 0 tool.json "$prefix/bin/vmstate" analyze stream.bin
grep -q '^    "ram (' tool.json || fail "the installed vmstate tool printed no RAM section: $(head -c 300 tool.json)"
expect_status 2 tool.log "$prefix/bin/vmstate" analyze cut.bin
grep -q "^vmstate analyze: error: at byte offset" tool.log || fail "the installed vmstate tool gave no offset: $(cat tool.log)"

# The installed library under Debian 12's valgrind as it is (its C parts carry DWARF 4 debug
# information, which valgrind 3.19 reads; on DWARF 5 it gives up): a save and a restore.
apt_need valgrind command -v valgrind
for step in "save vg.bin" "restore vg.bin"; do
    # shellcheck disable=SC2086 # the step's words
    expect_status 0 valgrind.log valgrind -q --error-exitcode=99 \
        --suppressions="$root/scripts/checks/valgrind-swift-runtime.supp" "$emu" --steps 1000 $step
done

expect_status 0 check.log "$emu" check
grep -q "version 1: .* ok" check.log || fail "the RTC's version 1 stream did not load"

# Live migration between two processes over TCP on 127.0.0.1 (port from python, free a moment ago).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$emu" --incoming "tcp:127.0.0.1:$port" >incoming.log 2>&1 &
incoming=$!
for _ in $(seq 100); do grep -q "waiting for a migration" incoming.log && break; sleep 0.1; done
expect_status 0 migrate.log "$emu" --migrate "tcp:127.0.0.1:$port"
wait "$incoming" || { cat incoming.log; fail "the incoming side of the live migration failed"; }
grep -q "^incoming: OK" incoming.log || fail "the live migration's destination printed no OK line"
grep -q "^migrated: 4 passes" migrate.log || fail "the live migration did not make 4 passes: $(cat migrate.log)"

# A registry load on a 64 KiB thread (the least docs/C-API.md allows) parses real QEMU vmdescs.
# shellcheck disable=SC2046 # pkg-config's words
"$cc" -std=gnu11 -Wall -Werror "$root/Tests/CConsumer/small_stack.c" $(pkg-config --cflags --libs vmstate) -pthread \
    -o small_stack
expect_status 0 small_stack.log ./small_stack "$root/Tests/Fixtures/qemu-7.2/pc-bios/stream.bin" \
    "$root/Tests/Fixtures/qemu-10.0/q35-devices/stream.bin" "$root/Tests/Fixtures/qemu-10.0/pc-7.2/stream.bin"

# A host that loads a device plugin linking the library, unloads it, loads another plugin whose
# table lands where the first's was, then the first again: the library is linked `-z nodelete`
# (the Swift runtime inside cannot forget an unloaded image), so dlclose leaves it mapped, and it
# drops its plans of tables on an unload, so each plugin saves by its own table (docs/C-API.md,
# "Loading the library with dlopen").
readelf -d "$prefix/lib/libswiftvmstate.so.$(vmstate_version)" | grep -q "Flags: .*NODELETE" ||
    fail "the installed library is not marked NODELETE"
for variant in first other; do
    define=$([ "$variant" = other ] && echo -DPLUGIN_OTHER || true)
    # shellcheck disable=SC2046,SC2086 # pkg-config's words; no define for the first
    "$cc" -std=gnu11 -Wall -Werror $define -fPIC -shared "$root/Tests/CConsumer/dlopen_plugin.c" \
        $(pkg-config --cflags --libs vmstate) -o "dlopen_$variant.so"
done
"$cc" -std=gnu11 -Wall -Werror "$root/Tests/CConsumer/dlopen_host.c" -ldl -o dlopen_host
expect_status 0 dlopen.log env SWIFT_BACKTRACE=enable=no ./dlopen_host ./dlopen_first.so ./dlopen_other.so
[ "$(cat dlopen.log)" = "run 1: ok
after dlclose: libswiftvmstate still mapped
run 2: ok
the other plugin's table where the first's was: yes
run 3: ok" ] || fail "dlopen, dlclose and dlopen of plugins: $(cat dlopen.log)"

# Uninstalling leaves nothing of swift-vmstate in the prefix.
expect_status 0 uninstall.log "$root/scripts/install" --uninstall "$prefix"
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || fail "scripts/install --uninstall left: $left"

echo "ok - the installed library builds and runs examples/tiny-emulator: save, restore (also under valgrind), check, live migration; the installed tool runs; a load on a 64 KiB thread; plugins load, unload and load again; it uninstalls"
