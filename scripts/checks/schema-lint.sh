#!/usr/bin/env bash
# `vmstate schema` and `vmstate lint` on a shared library of C tables: the pc device fixtures
# (good tables) and the deliberately broken ones, built here as libpcfixtures.so.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build --product swiftvmstate >/dev/null
swift build --product vmstate >/dev/null
bin=$(swift build --show-bin-path)
swiftlib=$(dirname "$(dirname "$(command -v swift)")")/lib/swift/linux
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
${CC:-cc} -shared -fPIC -o "$out/libpcfixtures.so" Tests/CFixtures/pc/*.c -I include \
    -I Tests/CFixtures/include $(pkg-config --cflags --libs glib-2.0) -L "$bin" -lswiftvmstate \
    -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib"
failed=0
fail() { echo "FAIL - $*"; failed=1; }

# schema: valid -dump-vmstate JSON that compat finds compatible with itself, with our devices.
"$bin/vmstate" schema "$out/libpcfixtures.so" pc_device_vmsds >"$out/schema.json"
for device in mc146818rtc i8254 hpet fw_cfg cpu; do
    grep -q "^  \"$device\": {" "$out/schema.json" || fail "schema has no entry for $device"
done
if "$bin/vmstate" compat "$out/schema.json" "$out/schema.json" >/dev/null; then
    echo "ok - schema of the fixture library is compatible with itself"
else
    fail "compat of the fixture schema with itself"
fi
# A table change compat must see: the RTC one version older in NEW.
sed 's/"version_id": 3,/"version_id": 2,/' "$out/schema.json" >"$out/older.json"
if "$bin/vmstate" compat "$out/schema.json" "$out/older.json" >"$out/compat.txt"; then
    fail "compat missed a lowered version_id"
else
    grep -q "mc146818rtc" "$out/compat.txt" && echo "ok - compat reports the lowered RTC version" \
        || fail "compat output does not name mc146818rtc"
fi

# lint: every planted mistake, with its rule id and path; no errors in the good tables.
set +e
"$bin/vmstate" lint "$out/libpcfixtures.so" pc_lint_broken_vmsds >"$out/lint.txt" 2>/dev/null
status=$?
set -e
[ "$status" = 1 ] || fail "lint of the broken tables exited $status, expected 1"
for expected in \
    "error: broken_array_varray/items: .*\[array-varray-exclusive\]" \
    "error: broken_varray_flags/items: .*\[varray-exclusive\]" \
    "error: broken_multiply/items: .*\[multiply-needs-vbuffer\]" \
    "error: broken_alloc/items: .*\[alloc-needs-pointer\]" \
    "error: broken_multiply_elements/x: .*\[multiply-elements-needs-count\]" \
    "error: broken_struct/inner/missing: .*\[struct-needs-vmsd\]" \
    "error: broken_info/x: .*\[needs-info\]" \
    "error: broken_subsection/elsewhere/sub: .*\[subsection-name\]" \
    "warning: broken_duplicate/x: .*\[duplicate-field\]" \
    "warning: broken_duplicate_version/x: .*two without a test save the same bytes.*\[duplicate-field\]" \
    "warning: broken_duplicate_equal/y: .*\[duplicate-field\]" \
    "warning: broken_duplicate_slices/items: .*\[duplicate-field\]" \
    "warning: broken_varray_unvalidated/items16: .*\[varray-unvalidated\]" \
    "warning: broken_unguarded/data: .*\[unguarded\]" \
    "error: broken_bounds/inner/far: .*\[out-of-bounds\]" \
    "error: broken_versions: .*\[version-range\]" \
    "error: broken_recursive/self: .*\[recursive-struct\]"; do
    grep -q "^$expected\$" "$out/lint.txt" || fail "lint did not report: $expected"
done
[ "$(grep -c '^error:' "$out/lint.txt")" = 11 ] || fail "lint reported other errors: $(cat "$out/lint.txt")"
if "$bin/vmstate" lint "$out/libpcfixtures.so" pc_device_vmsds --errors-only >"$out/good.txt" 2>/dev/null \
    && [ ! -s "$out/good.txt" ]; then
    echo "ok - lint finds every planted mistake and no error in the pc device tables"
else
    fail "lint found errors in the good tables: $(cat "$out/good.txt")"
fi
# Bad input: exit 2 with a message.
set +e
"$bin/vmstate" lint "$out/libpcfixtures.so" no_such_symbol 2>"$out/err.txt"
status=$?
set -e
[ "$status" = 2 ] && grep -q "has no symbol no_such_symbol" "$out/err.txt" \
    && echo "ok - an unknown symbol is bad input (exit 2)" || fail "unknown symbol: exit $status"
# A symbol that is one description, not a NULL-terminated array of pointers to them: its name
# pointer would be taken for entry 0. Exit 2 with a message (no crash), for schema and lint.
# A library's tables point to the standard infos of the libswiftvmstate.so it links, not to the
# tool's own copies: lint must still know VMSTATE_FD and the _equal / int32 le infos there.
cat >"$out/fdeq.c" <<'C'
#define VMSTATE_QEMU_API 1000
#include "migration/vmstate.h"
typedef struct E { uint16_t a; } E;
typedef struct S { int32_t fd; uint32_t n; E e[8]; int32_t m; E f[8]; uint16_t r[3]; } S;
static const VMStateDescription vmstate_e = {.name = "e", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_UINT16(a, E), VMSTATE_END_OF_LIST()}};
const VMStateDescription vmstate_s = {.name = "s", .version_id = 1, .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_FD(fd, S),
        VMSTATE_UINT32_EQUAL(n, S, NULL),
        VMSTATE_STRUCT_VARRAY_UINT32(e, S, n, 0, vmstate_e, E),
        VMSTATE_INT32_POSITIVE_LE(m, S),
        VMSTATE_STRUCT_VARRAY_INT32(f, S, m, 0, vmstate_e, E),
        VMSTATE_UINT16_ARRAY(r, S, 3),
        VMSTATE_END_OF_LIST()}};
const VMStateDescription *const fdeq_vmsds[] = {&vmstate_s, NULL};
C
${CC:-cc} -shared -fPIC -o "$out/libfdeq.so" "$out/fdeq.c" -I include $(pkg-config --cflags --libs glib-2.0) \
    -L "$bin" -lswiftvmstate -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib"
set +e
"$bin/vmstate" lint "$out/libfdeq.so" fdeq_vmsds >"$out/fdeq.txt" 2>&1
status=$?
set -e
expected="warning: s/fd: a file descriptor (VMSTATE_FD) cannot be saved into or loaded from a byte stream: saving fails with -1 (file error -EIO), loading with -EIO [file-descriptor]
vmstate lint: 0 error(s), 1 warning(s)"
if [ "$status" = 0 ] && [ "$(cat "$out/fdeq.txt")" = "$expected" ]; then
    echo "ok - lint knows the standard infos of the library's libswiftvmstate.so (VMSTATE_FD, guarded counts)"
else
    fail "lint of a library's VMSTATE_FD and _equal counts: exit $status, $(cat "$out/fdeq.txt")"
fi

# schema of QEMU 10.0 tables (VMSTATE_QEMU_API 1000): QEMU 10.0's format, which gives a fixed
# array's "num"; --qemu 7.2 leaves it out; tables of both APIs in one list need --qemu.
"$bin/vmstate" schema "$out/libfdeq.so" fdeq_vmsds >"$out/fdeq10.json"
"$bin/vmstate" schema --qemu 7.2 "$out/libfdeq.so" fdeq_vmsds >"$out/fdeq72.json"
"$bin/vmstate" schema --qemu 10.0 "$out/libfdeq.so" fdeq_vmsds >"$out/fdeq10b.json"
# The only difference: r's element count, after its "field_exists" (the tables are otherwise alike).
if [ "$(diff "$out/fdeq72.json" "$out/fdeq10.json" | grep '^[<>]')" = '>           "num": 3,' ] \
    && grep -A3 '"field": "r"' "$out/fdeq10.json" | tail -1 | grep -qx '          "num": 3,' \
    && cmp -s "$out/fdeq10.json" "$out/fdeq10b.json"; then
    echo "ok - schema of QEMU 10.0 tables writes 10.0's \"num\" (--qemu 7.2 does not)"
else
    fail "schema of 10.0 tables: $(diff "$out/fdeq72.json" "$out/fdeq10.json")"
fi
cat >"$out/mixed.c" <<'C'
#include "migration/vmstate.h"
typedef struct T { uint8_t a[2]; } T;
static const VMStateDescription vmstate_t = {.name = "t", .version_id = 1, .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT8_ARRAY(a, T, 2), VMSTATE_END_OF_LIST()}};
extern const VMStateDescription vmstate_s;
const VMStateDescription *const mixed_vmsds[] = {&vmstate_t, &vmstate_s, NULL};
C
${CC:-cc} -shared -fPIC -o "$out/libmixed.so" "$out/mixed.c" "$out/fdeq.c" -I include \
    $(pkg-config --cflags --libs glib-2.0) -L "$bin" -lswiftvmstate -Wl,-rpath,"$bin" -Wl,-rpath,"$swiftlib"
set +e
"$bin/vmstate" schema "$out/libmixed.so" mixed_vmsds >/dev/null 2>"$out/err.txt"
status=$?
set -e
if [ "$status" = 2 ] && grep -q "^vmstate schema: error: mixed_vmsds in .*libmixed.so mixes QEMU 7.2's tables (\"t\") and QEMU 10.0's (\"s\", built with VMSTATE_QEMU_API 1000): pass --qemu 7.2 or --qemu 10.0 (or, if \"t\" was built with VMSTATE_QEMU_API 1000 too, end its field list with VMSTATE_END_OF_LIST(), not {}: QEMU 10.0 aborts on it; \`vmstate lint\` names each such list)\$" "$out/err.txt" \
    && "$bin/vmstate" schema --qemu 10.0 "$out/libmixed.so" mixed_vmsds | grep -c '"num"' | grep -qx 2; then
    echo "ok - schema of tables of both APIs asks for --qemu"
else
    fail "schema of mixed tables: exit $status, $(cat "$out/err.txt")"
fi
# lint names the table whose list lacks QEMU 10.0's VMS_END (a warning: a list of both APIs is
# legitimate, and the one missing VMSTATE_END_OF_LIST() in a 10.0 file aborts QEMU 10.0; the
# other warning is s's VMSTATE_FD).
"$bin/vmstate" lint "$out/libmixed.so" mixed_vmsds >"$out/lint-mixed.txt" 2>&1
if grep -q "^warning: t: the field list ends without QEMU 10.0's VMS_END, unlike \"s\"'s: .*\[missing-end\]\$" "$out/lint-mixed.txt" \
    && grep -qx "vmstate lint: 0 error(s), 2 warning(s)" "$out/lint-mixed.txt"; then
    echo "ok - lint names the field list without VMS_END among QEMU 10.0 tables"
else
    fail "lint of mixed tables: $(cat "$out/lint-mixed.txt")"
fi

for command in schema lint; do
    set +e
    "$bin/vmstate" "$command" "$out/libpcfixtures.so" pc_vmstate_rtc >/dev/null 2>"$out/err.txt"
    status=$?
    set -e
    if [ "$status" = 2 ] && grep -q "^vmstate $command: error: pc_vmstate_rtc in .*libpcfixtures.so must be a NULL-terminated array of \`const VMStateDescription \*\`, but the name of the description at entry 0 (0x[0-9a-f]*) cannot be read (is pc_vmstate_rtc something else, such as one VMStateDescription?)\$" "$out/err.txt"; then
        echo "ok - $command of a symbol that is one description is bad input (exit 2)"
    else
        fail "$command of one description: exit $status, $(cat "$out/err.txt")"
    fi
done
exit "$failed"
