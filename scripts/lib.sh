# Shared by the scripts: install what a fresh Debian machine lacks, find the Swift toolchain.
# shellcheck shell=bash

vmstate_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# apt_need PACKAGE CHECK-COMMAND...: installs PACKAGE when CHECK-COMMAND fails.
apt_need() {
    local pkg=$1
    shift
    if ! "$@" >/dev/null 2>&1; then
        echo "==> installing $pkg" >&2
        if [ -z "${VMSTATE_APT_UPDATED:-}" ]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || true
            export VMSTATE_APT_UPDATED=1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2
    fi
}

ensure_build_deps() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH=/opt/swift/usr/bin:$PATH
    fi
    command -v swift >/dev/null 2>&1 || { echo "error: the Swift 6.3 toolchain is required" >&2; exit 1; }
    apt_need pkg-config command -v pkg-config
    apt_need libglib2.0-dev pkg-config --exists glib-2.0
    apt_need clang command -v clang
}

# What the tests need beyond the build: QEMU 7.2 (a real peer for streams), python3 (its QMP
# driver), valgrind (leak checks).
ensure_test_deps() {
    ensure_build_deps
    apt_need qemu-system-x86 command -v qemu-system-x86_64
    apt_need python3 command -v python3
    apt_need valgrind command -v valgrind
}

# QEMU 10.0 for the tests that use it as a peer (Tests/VMStateTests/QEMU10ClientTests.swift):
# scripts/qemu/qemu10 setup when its chroot is missing (as root, a minute or two, once per
# machine). When it cannot be set up (not root, no network) those tests skip, saying why.
ensure_qemu10() {
    local qemu10
    qemu10="$(vmstate_root)/scripts/qemu/qemu10"
    # (Set up means its chroot and QEMU 10.0's scripts/ unpacked, which a setup can fail to
    # do after making the chroot: a second run then tries again.)
    if "$qemu10" version >/dev/null 2>&1 && [ -f "$("$qemu10" scripts)/analyze-migration.py" ]; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "==> QEMU 10.0 is not set up and needs root (scripts/qemu/qemu10 setup): its tests will skip" >&2
        return 0
    fi
    echo "==> setting up QEMU 10.0 (scripts/qemu/qemu10 setup)" >&2
    "$qemu10" setup >&2 \
        || echo "==> QEMU 10.0 could not be set up: the tests that need it or its scripts will skip" >&2
}

# Builds the `vmstate` tool as scripts/install ships it and prints its path: release mode, the
# Swift runtime linked into it (--static-swift-stdlib; GLib stays a shared library). It then
# needs no Swift toolchain at run time, and starts 3-6 ms sooner than with the ten shared Swift
# libraries, which ld.so would resolve at every start (docs/PERFORMANCE.md, "The analyzer").
# Built in .build like the rest, with the C flags of release_library_build: a `swift build -c
# release -Xcc -gdwarf-4 --product vmstate` without --static-swift-stdlib afterwards recompiles
# the tool's own module and links it again (about a minute), nothing else.
release_tool_build() {
    swift build -c release -Xcc -gdwarf-4 --static-swift-stdlib --product vmstate >&2
    echo "$(swift build -c release -Xcc -gdwarf-4 --static-swift-stdlib --show-bin-path)/vmstate"
}

# The version of swift-vmstate (`vmstate --version`, vmstate.pc, the library's file name).
vmstate_version() {
    local version
    version=$(sed -n 's/^ *static let version = "\(.*\)"$/\1/p' \
        "$(vmstate_root)/Sources/VMStateTool/VMStateCommand.swift")
    if [ -z "$version" ]; then
        echo "error: no version in Sources/VMStateTool/VMStateCommand.swift" >&2
        return 1
    fi
    echo "$version"
}

# The library's SONAME, which a program linking it records (its DT_NEEDED): libswiftvmstate.so.MAJOR
# from 1.0 on; libswiftvmstate.so.0.MINOR before, as any 0.x minor release may change the ABI
# (a patch release keeps it).
vmstate_soname() {
    local version major minor
    version=$(vmstate_version) || return 1
    major=${version%%.*}
    minor=${version#*.}
    minor=${minor%%.*}
    if [ "$major" = 0 ]; then echo "libswiftvmstate.so.0.$minor"; else echo "libswiftvmstate.so.$major"; fi
}

# Builds libswiftvmstate.so as scripts/install ships it (release mode, in .build, its SONAME
# set) and prints the directory that holds it. Its C parts carry DWARF 4 debug information, as
# in valgrind_library_build below, so that a C emulator linking the installed library can run
# under Debian 12's valgrind. Every release build here passes the same -Xcc flags (the tool's
# too): one built without them would recompile the C parts and all that depends on them (the
# linker's flags only link again). A program linked against it there records the SONAME: a link
# of that name next to the library lets it load from the build directory too (scripts/bench*).
# It is linked with `-z nodelete` (DF_1_NODELETE): dlclose leaves it loaded, as the Swift runtime
# inside keeps records of every image it has seen and crashes on an unloaded one mapped again
# elsewhere (docs/C-API.md, "Loading the library with dlopen").
release_library_build() {
    local soname bin
    soname=$(vmstate_soname) || return 1
    swift build -c release -Xcc -gdwarf-4 -Xlinker -soname="$soname" -Xlinker -z -Xlinker nodelete \
        --product swiftvmstate >&2
    bin=$(swift build -c release -Xcc -gdwarf-4 --show-bin-path)
    ln -sfn libswiftvmstate.so "$bin/$soname"
    echo "$bin"
}

# Builds libswiftvmstate.so for the valgrind checks (debug, in .build/valgrind) and prints the
# directory that holds it. Its C parts carry DWARF 4 debug information: Debian 12's valgrind
# (3.19) cannot read clang's default DWARF 5 forms (DW_FORM_strx1, DW_FORM_addrx) and gives up
# on the library ("debuginfo reader: Possibly corrupted debuginfo file") once it has several C
# files.
valgrind_library_build() {
    swift build --product swiftvmstate --scratch-path .build/valgrind -Xcc -gdwarf-4 >&2
    swift build --scratch-path .build/valgrind -Xcc -gdwarf-4 --show-bin-path
}

# Runs a program under valgrind for a check: `valgrind_check LOG PROGRAM ARGUMENTS...`; fails on
# a memory error or a definite leak (exit status 99), the program's own failure, or a run past
# VALGRIND_SECONDS (default 1800: a hang fails cleanly); valgrind's report and the program's
# output go to LOG. Reports inside the Swift runtime that scripts/checks/valgrind-swift-runtime.supp
# lists (none in this library's code) are suppressed.
valgrind_check() {
    local log=$1
    shift
    SWIFT_BACKTRACE=enable=no timeout "${VALGRIND_SECONDS:-1800}" valgrind -q --leak-check=full \
        --suppressions="$(vmstate_root)/scripts/checks/valgrind-swift-runtime.supp" \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite --error-exitcode=99 "$@" >"$log" 2>&1
}

# Compiles a C program for a valgrind check: `valgrind_c_program OUT CC-ARGUMENTS...` (the
# sources and any -I) against the library of valgrind_library_build, with GLib and GIO, -g -O1
# and warnings as errors. Installs valgrind when missing.
valgrind_c_program() {
    local out=$1 bin swiftlib
    shift
    apt_need valgrind command -v valgrind
    bin=$(valgrind_library_build)
    swiftlib=$(dirname "$(dirname "$(command -v swift)")")/lib/swift/linux
    # shellcheck disable=SC2046 # pkg-config's flags are words
    ${CC:-cc} -std=gnu11 -g -O1 -Wall -Werror -I include $(pkg-config --cflags gio-2.0 gio-unix-2.0) "$@" \
        -L "$bin" -lswiftvmstate $(pkg-config --libs gio-2.0 gio-unix-2.0) -Wl,-rpath,"$bin" \
        -Wl,-rpath,"$swiftlib" -o "$out"
}
