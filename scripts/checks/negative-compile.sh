#!/usr/bin/env bash
# Wrong field types must not compile, as in QEMU 7.2: each case below uses a VMSTATE_* macro on
# a member of the wrong type and must fail with our own type-check message (an unrelated error
# does not count). Every case also has a correct twin that differs only in that line and must
# compile, and a control file with all the correct uses together must compile cleanly.
#
# Compiler: $CC (default cc). When CC is not set and clang is installed, the cases run with
# clang too, since GCC and Clang word static-assertion failures differently.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1

if ! glib_cflags=$(pkg-config --cflags glib-2.0); then
    echo "FAIL - pkg-config --cflags glib-2.0 (install libglib2.0-dev)"
    exit 1
fi
read -ra glib_flags <<<"$glib_cflags"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/prelude.h" <<'C'
#include "migration/vmstate.h"

typedef struct Inner {
    uint32_t a;
} Inner;

typedef struct Other {
    uint64_t b;
} Other;

typedef struct Dev {
    uint16_t u16;
    uint32_t u32;
    uint16_t arr16_4[4];
    uint16_t arr16_5[5];
    uint32_t arr32_4[4];
    uint8_t buf[8];
    uint16_t buf16[4];
    int32_t n_i32;
    uint32_t n_u32;
    uint16_t n_u16;
    uint32_t *p32;
    uint16_t *p16;
    uint8_t *vbuf;
    uint32_t fifo[8];
    Inner inner;
    Inner *inner_ptr;
    Other *other_ptr;
    Inner inners[3];
    QEMUTimer timer;
    QEMUTimer *timer_ptr;
    __u64 k64;
    uint64_t u64;
} Dev;

typedef struct TmpGood {
    Dev *parent;
    uint32_t x;
} TmpGood;

typedef struct TmpNotFirst {
    uint32_t x;
    Dev *parent;
} TmpNotFirst;

typedef struct TmpWrongParent {
    Other *parent;
    uint32_t x;
} TmpWrongParent;

extern const VMStateDescription vmstate_inner;
extern const VMStateDescription vmstate_tmp;
C

# name | correct line | wrong line | message the wrong line must produce
cases=(
    "VMSTATE_UINT32 on a uint16_t member|VMSTATE_UINT32(u32, Dev)|VMSTATE_UINT32(u16, Dev)|VMSTATE: Dev.u16 does not have type uint32_t"
    "VMSTATE_UINT16_ARRAY on uint32_t[4]|VMSTATE_UINT16_ARRAY(arr16_4, Dev, 4)|VMSTATE_UINT16_ARRAY(arr32_4, Dev, 4)|VMSTATE: Dev.arr32_4 does not have type uint16_t[4]"
    "VMSTATE_UINT16_ARRAY with n=4 on uint16_t[5]|VMSTATE_UINT16_ARRAY(arr16_5, Dev, 5)|VMSTATE_UINT16_ARRAY(arr16_5, Dev, 4)|VMSTATE: Dev.arr16_5 does not have type uint16_t[4]"
    "VMSTATE_VARRAY_INT32 with a uint32_t counter|VMSTATE_VARRAY_INT32(p32, Dev, n_i32, 0, vmstate_info_uint32, uint32_t)|VMSTATE_VARRAY_INT32(p32, Dev, n_u32, 0, vmstate_info_uint32, uint32_t)|VMSTATE: Dev.n_u32 does not have type int32_t"
    "VMSTATE_VARRAY_INT32 on a pointer of the wrong type|VMSTATE_VARRAY_INT32(p32, Dev, n_i32, 0, vmstate_info_uint32, uint32_t)|VMSTATE_VARRAY_INT32(p16, Dev, n_i32, 0, vmstate_info_uint32, uint32_t)|VMSTATE: Dev.p16 does not have type uint32_t *"
    "VMSTATE_STRUCT_POINTER on a non-pointer member|VMSTATE_STRUCT_POINTER(inner_ptr, Dev, vmstate_inner, Inner)|VMSTATE_STRUCT_POINTER(inner, Dev, vmstate_inner, Inner)|VMSTATE: Dev.inner does not have type Inner *"
    "VMSTATE_STRUCT_POINTER on a pointer of the wrong type|VMSTATE_STRUCT_POINTER(inner_ptr, Dev, vmstate_inner, Inner)|VMSTATE_STRUCT_POINTER(other_ptr, Dev, vmstate_inner, Inner)|VMSTATE: Dev.other_ptr does not have type Inner *"
    "VMSTATE_BUFFER on a uint16_t array|VMSTATE_BUFFER(buf, Dev)|VMSTATE_BUFFER(buf16, Dev)|VMSTATE: Dev.buf16 does not have type uint8_t["
    "VMSTATE_WITH_TMP with parent not the first member|VMSTATE_WITH_TMP(Dev, TmpGood, vmstate_tmp)|VMSTATE_WITH_TMP(Dev, TmpNotFirst, vmstate_tmp)|VMSTATE_WITH_TMP: parent must be the first member"
    "VMSTATE_WITH_TMP with parent pointing at another type|VMSTATE_WITH_TMP(Dev, TmpGood, vmstate_tmp)|VMSTATE_WITH_TMP(Dev, TmpWrongParent, vmstate_tmp)|VMSTATE: TmpWrongParent.parent does not have type Dev *"
    "VMSTATE_VARRAY_UINT16_UNSAFE on a pointer, not an array|VMSTATE_VARRAY_UINT16_UNSAFE(fifo, Dev, n_u16, 0, vmstate_info_uint32, uint32_t)|VMSTATE_VARRAY_UINT16_UNSAFE(p32, Dev, n_u16, 0, vmstate_info_uint32, uint32_t)|VMSTATE: Dev.p32 is not an array"
    "VMSTATE_TIMER_PTR on an embedded QEMUTimer|VMSTATE_TIMER_PTR(timer_ptr, Dev)|VMSTATE_TIMER_PTR(timer, Dev)|VMSTATE: Dev.timer does not have type QEMUTimer *"
    "VMSTATE_TIMER on a QEMUTimer pointer|VMSTATE_TIMER(timer, Dev)|VMSTATE_TIMER(timer_ptr, Dev)|VMSTATE: Dev.timer_ptr does not have type QEMUTimer"
    "VMSTATE_VBUFFER_UINT32 with an int32_t size|VMSTATE_VBUFFER_UINT32(vbuf, Dev, 0, NULL, n_u32)|VMSTATE_VBUFFER_UINT32(vbuf, Dev, 0, NULL, n_i32)|VMSTATE: Dev.n_i32 does not have type uint32_t"
    "VMSTATE_STRUCT_ARRAY with the wrong count|VMSTATE_STRUCT_ARRAY(inners, Dev, 3, 0, vmstate_inner, Inner)|VMSTATE_STRUCT_ARRAY(inners, Dev, 2, 0, vmstate_inner, Inner)|VMSTATE: Dev.inners does not have type Inner[2]"
    # QEMU's helper names, as device-level macros (VMSTATE_FIFO8, VMSTATE_SEGMENT, ...) use them
    "vmstate_offset_value on a uint16_t member|{.name = \"u32\", .size = 4, .info = &vmstate_info_uint32, .flags = VMS_SINGLE, .offset = vmstate_offset_value(Dev, u32, uint32_t)}|{.name = \"u16\", .size = 4, .info = &vmstate_info_uint32, .flags = VMS_SINGLE, .offset = vmstate_offset_value(Dev, u16, uint32_t)}|VMSTATE: Dev.u16 does not have type uint32_t"
    "vmstate_offset_pointer on a non-pointer member|{.name = \"p32\", .size = 4, .info = &vmstate_info_uint32, .flags = VMS_POINTER, .offset = vmstate_offset_pointer(Dev, p32, uint32_t)}|{.name = \"u32\", .size = 4, .info = &vmstate_info_uint32, .flags = VMS_POINTER, .offset = vmstate_offset_pointer(Dev, u32, uint32_t)}|VMSTATE: Dev.u32 does not have type uint32_t *"
    "vmstate_offset_array with n=4 on uint16_t[5]|{.name = \"a\", .num = 5, .size = 2, .info = &vmstate_info_uint16, .flags = VMS_ARRAY, .offset = vmstate_offset_array(Dev, arr16_5, uint16_t, 5)}|{.name = \"a\", .num = 4, .size = 2, .info = &vmstate_info_uint16, .flags = VMS_ARRAY, .offset = vmstate_offset_array(Dev, arr16_5, uint16_t, 4)}|VMSTATE: Dev.arr16_5 does not have type uint16_t[4]"
    "vmstate_offset_varray on a pointer|{.name = \"f\", .size = 4, .info = &vmstate_info_uint32, .flags = VMS_VARRAY_UINT16, .num_offset = offsetof(Dev, n_u16), .offset = vmstate_offset_varray(Dev, fifo, uint32_t)}|{.name = \"f\", .size = 4, .info = &vmstate_info_uint32, .flags = VMS_VARRAY_UINT16, .num_offset = offsetof(Dev, n_u16), .offset = vmstate_offset_varray(Dev, p32, uint32_t)}|VMSTATE: Dev.p32 is not an array"
    "type_check of typeof_field against another struct|{.name = \"inner\", .size = sizeof(Inner), .vmsd = &vmstate_inner, .flags = VMS_STRUCT, .offset = offsetof(Dev, inner) + type_check(Inner, typeof_field(Dev, inner))}|{.name = \"inner\", .size = sizeof(Inner), .vmsd = &vmstate_inner, .flags = VMS_STRUCT, .offset = offsetof(Dev, inner) + type_check(Other, typeof_field(Dev, inner))}|type_check: typeof_field(Dev, inner) is not Other"
    "type_check_array with the wrong count|{.name = \"inners\", .num = 3, .size = sizeof(Inner), .vmsd = &vmstate_inner, .flags = VMS_STRUCT, .offset = offsetof(Dev, inners) + type_check_array(Inner, typeof_field(Dev, inners), 3)}|{.name = \"inners\", .num = 2, .size = sizeof(Inner), .vmsd = &vmstate_inner, .flags = VMS_STRUCT, .offset = offsetof(Dev, inners) + type_check_array(Inner, typeof_field(Dev, inners), 2)}|type_check_array: typeof_field(Dev, inners) is not Inner[2]"
    "ARRAY_SIZE of a pointer|{.name = \"f\", .num = ARRAY_SIZE(((Dev *)0)->fifo), .size = 4, .info = &vmstate_info_uint32, .flags = VMS_ARRAY, .offset = offsetof(Dev, fifo)}|{.name = \"f\", .num = ARRAY_SIZE(((Dev *)0)->p32), .size = 4, .info = &vmstate_info_uint32, .flags = VMS_ARRAY, .offset = offsetof(Dev, fifo)}|ARRAY_SIZE: not an array"
    "type_check_pointer on an embedded struct|{.name = \"ip\", .size = sizeof(Inner), .vmsd = &vmstate_inner, .flags = VMS_STRUCT, .offset = offsetof(Dev, inner_ptr) + type_check_pointer(Inner, typeof_field(Dev, inner_ptr))}|{.name = \"ip\", .size = sizeof(Inner), .vmsd = &vmstate_inner, .flags = VMS_STRUCT, .offset = offsetof(Dev, inner) + type_check_pointer(Inner, typeof_field(Dev, inner))}|type_check_pointer: typeof_field(Dev, inner) is not Inner *"
)

# the correct uses not covered by a case's twin
extra_good=(
    "VMSTATE_U64(k64, Dev)"
)

# QEMU 10.0's API (VMSTATE_QEMU_API 1000): its new macros keep the type checks.
printf '#define VMSTATE_QEMU_API 1000\n#include "prelude.h"\n' >"$tmp/prelude10.h"
cases10=(
    "VMSTATE_FD on a uint32_t member|VMSTATE_FD(n_i32, Dev)|VMSTATE_FD(u32, Dev)|VMSTATE: Dev.u32 does not have type int32_t"
    "VMSTATE_FD_TEST on a uint32_t member|VMSTATE_FD_TEST(n_i32, Dev, NULL)|VMSTATE_FD_TEST(n_u32, Dev, NULL)|VMSTATE: Dev.n_u32 does not have type int32_t"
    "VMSTATE_BITMAP_TEST with a uint32_t size|VMSTATE_BITMAP_TEST(vbuf, Dev, NULL, 0, n_i32)|VMSTATE_BITMAP_TEST(vbuf, Dev, NULL, 0, n_u32)|VMSTATE: Dev.n_u32 does not have type int32_t"
    "VMSTATE_WITH_TMP_TEST with parent not the first member|VMSTATE_WITH_TMP_TEST(Dev, NULL, TmpGood, vmstate_tmp)|VMSTATE_WITH_TMP_TEST(Dev, NULL, TmpNotFirst, vmstate_tmp)|VMSTATE_WITH_TMP: parent must be the first member"
)

# migration/cpu.h for a 64-bit and a 32-bit target (bits | name | correct | wrong | message).
printf '#define TARGET_LONG_BITS 64\n#include "migration/cpu.h"\n#include "prelude.h"\n' >"$tmp/prelude_tl64.h"
printf '#define TARGET_LONG_BITS 32\n#include "migration/cpu.h"\n#include "prelude.h"\n' >"$tmp/prelude_tl32.h"
cases_tl=(
    "64|VMSTATE_UINTTL on a uint32_t member (64-bit target)|VMSTATE_UINTTL(u64, Dev)|VMSTATE_UINTTL(u32, Dev)|VMSTATE: Dev.u32 does not have type uint64_t"
    "32|VMSTATE_UINTTL on a uint64_t member (32-bit target)|VMSTATE_UINTTL(u32, Dev)|VMSTATE_UINTTL(u64, Dev)|VMSTATE: Dev.u64 does not have type uint32_t"
    "32|VMSTATE_UINTTL_ARRAY on uint16_t[4] (32-bit target)|VMSTATE_UINTTL_ARRAY(arr32_4, Dev, 4)|VMSTATE_UINTTL_ARRAY(arr16_4, Dev, 4)|VMSTATE: Dev.arr16_4 does not have type uint32_t[4]"
)
# TARGET_LONG_BITS definitions migration/cpu.h must refuse, and the message it must give.
widths_tl=(
    "|define TARGET_LONG_BITS (32 or 64) before including it"
    "#define TARGET_LONG_BITS 16|TARGET_LONG_BITS must be 32 or 64"
)
# write_table FILE LINE...: the prelude and a field table holding the given entries.
write_table() {
    local file=$1
    shift
    {
        echo "#include \"${PRELUDE:-prelude.h}\""
        echo 'const VMStateField fields[] = {'
        local line
        for line in "$@"; do
            echo "    $line,"
        done
        echo '    VMSTATE_END_OF_LIST()'
        echo '};'
    } >"$file"
}

compilers=("${CC:-cc}")
if [ -z "${CC:-}" ] && command -v clang >/dev/null 2>&1; then
    compilers+=(clang)
fi

failures=0
report() { # report ok|FAIL description [log]
    echo "$1 - $2"
    if [ "$1" != ok ]; then
        failures=$((failures + 1))
        [ -n "${3:-}" ] && sed 's/^/    | /' "$3" | head -20
    fi
}

n=0
for compiler in "${compilers[@]}"; do
    read -ra cc <<<"$compiler"
    label="[${cc[*]}]"
    compile() { # compile FILE LOG -> compiler status
        "${cc[@]}" "${glib_flags[@]}" -I include -I "$tmp" -fsyntax-only "$1" >"$2" 2>&1
    }

    goods=()
    for entry in "${cases[@]}"; do
        IFS='|' read -r _ good _ _ <<<"$entry"
        goods+=("$good")
    done
    write_table "$tmp/control.c" "${goods[@]}" "${extra_good[@]}"
    if compile "$tmp/control.c" "$tmp/control.log" && ! grep -q 'error' "$tmp/control.log"; then
        report ok "$label control: every correct use compiles"
    else
        report FAIL "$label control: the correct uses do not compile" "$tmp/control.log"
    fi

    # check_twin PRELUDE TAG NAME GOOD BAD MESSAGE: a table with the GOOD line compiles, and one
    # with the BAD line fails with MESSAGE in a static assertion (an unrelated error does not
    # count).
    check_twin() {
        local prelude=$1 tag=$2 name=$3 good=$4 bad=$5 message=$6
        n=$((n + 1))
        PRELUDE=$prelude write_table "$tmp/good$n.c" "$good"
        PRELUDE=$prelude write_table "$tmp/bad$n.c" "$bad"
        if ! compile "$tmp/good$n.c" "$tmp/good$n.log"; then
            report FAIL "$label$tag $name: the correct twin does not compile" "$tmp/good$n.log"
        elif compile "$tmp/bad$n.c" "$tmp/bad$n.log"; then
            report FAIL "$label$tag $name: compiles, but must not" "$tmp/bad$n.log"
        elif ! grep -i 'assert' "$tmp/bad$n.log" | grep -F "$message" >/dev/null; then
            report FAIL "$label$tag $name: fails without our message \"$message\"" "$tmp/bad$n.log"
        else
            report ok "$label$tag $name"
        fi
    }

    for entry in "${cases[@]}"; do
        IFS='|' read -r name good bad message <<<"$entry"
        check_twin prelude.h "" "$name" "$good" "$bad" "$message"
    done

    # QEMU 10.0's API: the same checks for its new macros, and VMSTATE_ARRAY_TEST is gone.
    goods=()
    for entry in "${cases10[@]}"; do
        IFS='|' read -r _ good _ _ <<<"$entry"
        goods+=("$good")
    done
    PRELUDE=prelude10.h write_table "$tmp/control10.c" "${goods[@]}" "VMSTATE_WITH_TMP(Dev, TmpGood, vmstate_tmp)"
    if compile "$tmp/control10.c" "$tmp/control10.log" && ! grep -q 'error' "$tmp/control10.log"; then
        report ok "$label QEMU 10.0 control: every correct use compiles"
    else
        report FAIL "$label QEMU 10.0 control: the correct uses do not compile" "$tmp/control10.log"
    fi
    for entry in "${cases10[@]}"; do
        IFS='|' read -r name good bad message <<<"$entry"
        check_twin prelude10.h " [10.0]" "$name" "$good" "$bad" "$message"
    done
    # migration/cpu.h: VMSTATE_UINTTL* keep the type check of the fixed-width macro they stand
    # for, and the header refuses to guess the target's width.
    for entry in "${cases_tl[@]}"; do
        IFS='|' read -r bits name good bad message <<<"$entry"
        check_twin "prelude_tl$bits.h" " [cpu.h]" "$name" "$good" "$bad" "$message"
    done
    for entry in "${widths_tl[@]}"; do
        IFS='|' read -r define message <<<"$entry"
        n=$((n + 1))
        printf '%s\n#include "migration/cpu.h"\n' "$define" >"$tmp/width$n.c"
        if compile "$tmp/width$n.c" "$tmp/width$n.log"; then
            report FAIL "$label [cpu.h] \"${define:-no TARGET_LONG_BITS}\" compiles, but must not" "$tmp/width$n.log"
        elif ! grep -qF "$message" "$tmp/width$n.log"; then
            report FAIL "$label [cpu.h] \"${define:-no TARGET_LONG_BITS}\" fails without \"$message\"" "$tmp/width$n.log"
        else
            report ok "$label [cpu.h] ${define:-no TARGET_LONG_BITS}: refused"
        fi
    done
    n=$((n + 1))
    PRELUDE=prelude10.h write_table "$tmp/gone$n.c" "VMSTATE_ARRAY_TEST(arr32_4, Dev, 4, NULL, vmstate_info_uint32, uint32_t)"
    if compile "$tmp/gone$n.c" "$tmp/gone$n.log"; then
        report FAIL "$label [10.0] VMSTATE_ARRAY_TEST compiles, but QEMU 10.0 removed it" "$tmp/gone$n.log"
    else
        report ok "$label [10.0] VMSTATE_ARRAY_TEST is gone"
    fi
done

if [ "$failures" -ne 0 ]; then
    echo "negative-compile: $failures check(s) failed"
    exit 1
fi
echo "negative-compile: all checks passed"
