#!/usr/bin/env python3
"""Feed a migration to a real qemu-system-x86_64 and read registers back.

usage: qemu-incoming.py STREAM|tcp:HOST:PORT HMP_COMMAND... -- QEMU_ARGS...
QEMU_BINARY=qemu-system-TARGET in the environment runs another target's QEMU (default x86_64).

Starts QEMU with `-incoming defer` and runs `migrate-incoming`: with `exec:cat STREAM` for a
stream file, or listening on tcp:HOST:PORT for a live migration (it then prints the line
`listening`, or `not listening`, once QEMU accepts connections). Waits for the migration to
finish, runs each HMP command through QMP's human-monitor-command, and prints one JSON object:
{"status": ..., "error": ..., "outputs": [...]}. Exit status 0 when the migration completed, 1
otherwise. Used by the tests that check QEMU accepts our streams and live migrations.
CAPS=cap1,cap2 in the environment turns migration capabilities on before the migration (a
destination needs the source's validated ones, such as CAPS=x-ignore-shared).
"""
import json
import os
import sys

# scripts/qemu/qmp.py; beside this file where it was copied with it (as the tests do).
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [here, os.path.join(here, "qemu")]
from qmp import QEMU, command_line  # noqa: E402


def main():
    (source, *commands), qemu_args = command_line(__doc__, [str])
    live = source.startswith("tcp:")
    uri = source if live else f"exec:cat {os.path.abspath(source)}"
    result = {"status": None, "error": None, "outputs": []}
    qemu = None
    try:
        qemu = QEMU(["-incoming", "defer"] + qemu_args)
        caps = [c for c in os.environ.get("CAPS", "").split(",") if c]
        if caps:
            qemu.set_capabilities(caps)
        reply = qemu.cmd("migrate-incoming", uri=uri)
        if live:
            print("listening" if "error" not in reply else "not listening", flush=True)
        if "error" in reply:
            result["error"] = reply["error"].get("desc")
        info = qemu.wait_migration(seconds=600, final=("completed", "failed"))
        status = result["status"] = info.get("status")
        if status == "failed":
            result["error"] = result["error"] or info.get("error-desc")
        if status == "completed":
            for command in commands:
                out = qemu.cmd("human-monitor-command", **{"command-line": command})
                result["outputs"].append(out.get("return", out.get("error")))
        qemu.cmd("quit")
    except Exception as exc:  # report, never a stack trace
        if live:
            print("not listening", flush=True)
        result["error"] = result["error"] or f"{type(exc).__name__}: {exc}"
        if result["status"] != "completed":
            result["status"] = "failed"
    finally:
        if qemu is not None:
            qemu.close()
            if result["status"] != "completed" and qemu.stderr:
                result["error"] = (result["error"] or "") + " | qemu: " + qemu.stderr
    print(json.dumps(result), flush=True)
    return 0 if result["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
