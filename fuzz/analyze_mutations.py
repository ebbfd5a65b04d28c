#!/usr/bin/env python3
"""Feeds `vmstate analyze` mutations of the real QEMU streams in Tests/Fixtures/.

usage: analyze_mutations.py VMSTATE COUNT [SEED] [OUT_DIR]

Makes COUNT mutants, deterministic for a SEED (default 1), each from one fixture stream by
one of the mutations below, and runs `VMSTATE analyze MUTANT` in one of six modes (plain,
--desc, --memory, --tree, --vmdesc with the unmutated stream, or --extract into a scratch
directory), or `VMSTATE diff ORIGINAL MUTANT` (text or --json), with 256 MiB of address space
(RLIMIT_AS) and 60 s. Properties checked, for every mutant:
  - exit status 0 or 2, or 1 for diff (never a signal, a usage error or a time-out);
  - status 2: stderr is one line, "vmstate COMMAND: error: ", then a message; for analyze,
    one giving the byte offset ("at byte offset N"), or with --extract one naming the RAM
    block it refuses;
  - --extract writes nothing outside its directory;
  - no control character on stdout or stderr but the newlines;
  - status 0 (or 1) in the JSON modes: stdout is one JSON object.
A mutant that breaks one is kept in OUT_DIR (default: a new directory under $TMPDIR or /tmp)
with a .txt beside it (fixture, mutation, mode, status, stderr), and the exit status is 1.
Prints one summary line: mutants run, by exit status, by mutation.
"""
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile

FIXTURES = "Tests/Fixtures"
ADDRESS_SPACE = 256 << 20
TIME_LIMIT = 60
# Device sections and the vmdesc are in a stream's last bytes (after the RAM).
TAIL = 200_000


def fixtures():
    paths = []
    for dirpath, _, names in os.walk(FIXTURES):
        for name in names:
            path = os.path.join(dirpath, name)
            # (The mapped-ram stream, 23 MB, is left out: a mutant of it takes seconds.)
            if name == "stream.bin" and os.path.getsize(path) < 4_000_000:
                paths.append(path)
    return sorted(paths)


def tail_offset(rng, data):
    return len(data) - 1 - rng.randrange(min(len(data), TAIL))


def truncate(rng, data):
    return data[: rng.randrange(len(data))]


def set_bytes(rng, data):
    """Up to 8 bytes set at random, in the first 4 KiB (header, configuration, RAM block list)
    or in the tail."""
    b = bytearray(data)
    for _ in range(rng.randrange(1, 9)):
        i = rng.randrange(min(len(b), 4096)) if rng.random() < 0.5 else tail_offset(rng, b)
        b[i] = rng.randrange(256)
    return bytes(b)


def flip_bits(rng, data):
    """Up to 16 bit flips anywhere (RAM page headers included)."""
    b = bytearray(data)
    for _ in range(rng.randrange(1, 17)):
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    return bytes(b)


def splice(rng, data):
    """1 to 64 bytes deleted from, or random bytes inserted into, the tail."""
    b = bytearray(data)
    i = tail_offset(rng, b)
    if rng.random() < 0.5:
        del b[i : i + rng.randrange(1, 65)]
    else:
        b[i:i] = rng.randbytes(rng.randrange(1, 65))
    return bytes(b)


def boundary_value(rng, data):
    """A boundary integer (0, -1, INT32_MAX, INT32_MIN, 256, 0xff) over tail bytes: lengths,
    counts and ids."""
    b = bytearray(data)
    i = tail_offset(rng, b)
    v = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00",
                    b"\x00\x00\x01\x00", b"\xff"])
    b[i : i + len(v)] = v
    return bytes(b[: len(data)])


def duplicate(rng, data):
    """A chunk of up to 300 tail bytes copied elsewhere in the tail."""
    b = bytearray(data)
    i = tail_offset(rng, b)
    chunk = b[i : i + rng.randrange(1, 301)]
    j = tail_offset(rng, b)
    b[j:j] = chunk
    return bytes(b)


# Edits of the vmdesc JSON that keep it JSON, with its be32 length fixed: the description
# then disagrees with the stream, or describes impossible fields.
VMDESC_EDITS = [
    (b'"size": ', b'"size": 9999999'),
    (b'"size": ', b'"size": 0'),
    (b'"size": ', b'"size": -'),
    (b'"array_len": ', b'"array_len": 1'),
    (b'"array_len": ', b'"array_len": 4294967'),
    (b'"Subsections"', b'"Subsectionz"'),
    (b'"type": "struct"', b'"type": "buffer"'),
    (b'"type": "buffer"', b'"type": "struct"'),
    (b'"type": "', b'"type": "x'),
    (b'"fields": [', b'"fields": [{}, '),
    (b'"fields": [', b'"fields": [{"name": "x", "type": "struct", "size": 1}, '),
    (b'"version": ', b'"version": 99'),
    (b'"instance_id": ', b'"instance_id": -'),
    (b'"name": "', b'"name": "x'),
    (b'"struct": {', b'"struct": {"fields": 1, '),
]


def vmdesc_edit(rng, data):
    start = data.rfind(b'{"page_size"')
    if start < 5 or data[start - 5] != 0x06:
        return None
    json_text = data[start:]
    old, new = rng.choice(VMDESC_EDITS)
    hits = []
    i = json_text.find(old)
    while i >= 0:
        hits.append(i)
        i = json_text.find(old, i + 1)
    if not hits:
        return None
    i = rng.choice(hits)
    edited = json_text[:i] + new + json_text[i + len(old) :]
    return data[: start - 4] + len(edited).to_bytes(4, "big") + edited


MUTATIONS = [truncate, set_bytes, flip_bits, splice, boundary_value, duplicate, vmdesc_edit]
JSON_MODES = {"plain", "--desc", "--memory", "--vmdesc", "diff --json"}


def limit_resources():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def check(vmstate, mutant_path, original, mode):
    """Runs the tool on one mutant; returns (status, problem or None, stderr)."""
    command = "diff" if mode.startswith("diff") else "analyze"
    if command == "diff":
        args = [vmstate, "diff", original, mutant_path] + (["--json"] if mode == "diff --json" else [])
    else:
        args = [vmstate, "analyze", mutant_path]
    work = os.path.dirname(mutant_path)
    extract_dir = os.path.join(work, "extract")
    if mode == "--vmdesc":
        args += ["--vmdesc", original]
    elif mode == "--extract":
        shutil.rmtree(extract_dir, ignore_errors=True)
        args += ["-x", "--directory", extract_dir]
    elif mode in ("--desc", "--memory", "--tree"):
        args.append(mode)
    try:
        run = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=TIME_LIMIT, preexec_fn=limit_resources)
    except subprocess.TimeoutExpired:
        return "timeout", f"no answer in {TIME_LIMIT} s", ""
    err = run.stderr.decode("utf-8", "replace")
    if mode == "--extract":
        outside = sorted(set(os.listdir(work)) - {"mutant.bin", "extract"})
        shutil.rmtree(extract_dir, ignore_errors=True)
        if outside:
            return run.returncode, f"--extract wrote outside its directory: {outside}", err
    if run.returncode < 0:
        return run.returncode, f"killed by signal {-run.returncode}", err
    for name, text in (("stdout", run.stdout), ("stderr", run.stderr)):
        if any(b < 0x20 and b != 0x0A for b in text) or 0x7F in text:
            return run.returncode, f"a control character on {name}", err
    if run.returncode == 2:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith(f"vmstate {command}: error: "):
            return 2, f"the error is not one line starting 'vmstate {command}: error: '", err
        # (--extract's refusals of a RAM block name or a page past its block name the block.)
        extract_refusal = mode == "--extract" and lines[0].startswith("vmstate analyze: error: RAM block ")
        if command == "analyze" and "at byte offset " not in lines[0] and not extract_refusal:
            return 2, "the error gives no byte offset", err
        return 2, None, err
    if run.returncode != 0 and not (command == "diff" and run.returncode == 1):
        return run.returncode, f"exit status {run.returncode}", err
    if mode in JSON_MODES:
        try:
            value = json.loads(run.stdout)
        except ValueError as e:
            return run.returncode, f"the output is not JSON: {e}", err
        if not isinstance(value, dict):
            return run.returncode, "the output is not a JSON object", err
    return run.returncode, None, err


def main():
    vmstate, count = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    out_dir = sys.argv[4] if len(sys.argv) > 4 else tempfile.mkdtemp(prefix="vmstate-analyze-mutants-")
    os.makedirs(out_dir, exist_ok=True)
    paths = fixtures()
    if not paths:
        sys.exit(f"no fixture streams under {FIXTURES} (run from the repository root)")
    streams = {p: open(p, "rb").read() for p in paths}
    modes = ["plain", "--desc", "--memory", "--tree", "--vmdesc", "--extract", "diff", "diff --json"]
    rng = random.Random(seed)
    by_status, by_mutation, failures = {}, {}, 0
    with tempfile.TemporaryDirectory() as work:
        mutant_path = os.path.join(work, "mutant.bin")
        for n in range(count):
            path = rng.choice(paths)
            mutation = rng.choice(MUTATIONS)
            mode = rng.choice(modes)
            mutant = mutation(rng, streams[path])
            if mutant is None:
                mutant = truncate(rng, streams[path])
            with open(mutant_path, "wb") as f:
                f.write(mutant)
            status, problem, err = check(vmstate, mutant_path, path, mode)
            by_status[status] = by_status.get(status, 0) + 1
            by_mutation[mutation.__name__] = by_mutation.get(mutation.__name__, 0) + 1
            if problem:
                failures += 1
                name = os.path.join(out_dir, f"seed{seed}-{n}")
                with open(name + ".bin", "wb") as f:
                    f.write(mutant)
                with open(name + ".txt", "w") as f:
                    f.write(f"fixture {path}\nmutation {mutation.__name__}\nmode {mode}\n"
                            f"status {status}: {problem}\nstderr:\n{err[-4000:]}")
                print(f"FAIL - mutant {n} ({mutation.__name__} of {path}, {mode}): {problem}: kept as {name}.bin")
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items(), key=str))
    mutations = ", ".join(f"{k} {v}" for k, v in sorted(by_mutation.items()))
    print(f"{count} mutants (seed {seed}) of {len(paths)} streams; exit status {statuses}; {mutations}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
