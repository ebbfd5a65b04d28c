#!/usr/bin/env python3
"""Feed a migration to a real qemu-system-x86_64 and read registers back.

usage: qemu-incoming.py STREAM|tcp:HOST:PORT HMP_COMMAND... -- QEMU_ARGS...

Starts QEMU with `-incoming defer` and runs `migrate-incoming`: with `exec:cat STREAM` for a
stream file, or listening on tcp:HOST:PORT for a live migration (it then prints the line
`listening`, or `not listening`, once QEMU accepts connections). Waits for the migration to
finish, runs each HMP command through QMP's human-monitor-command, and prints one JSON object:
{"status": ..., "error": ..., "outputs": [...]}. Exit status 0 when the migration completed, 1
otherwise. Used by the tests that check QEMU accepts our streams and live migrations.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def main():
    source = sys.argv[1]
    live = source.startswith("tcp:")
    uri = source if live else f"exec:cat {os.path.abspath(source)}"
    split = sys.argv.index("--")
    commands = sys.argv[2:split]
    qemu_args = sys.argv[split + 1:]
    workdir = tempfile.mkdtemp()
    sock_path = os.path.join(workdir, "qmp.sock")
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-display", "none", "-nodefaults", "-incoming", "defer",
         "-qmp", f"unix:{sock_path},server=on,wait=off"] + qemu_args,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result = {"status": None, "error": None, "outputs": []}
    conn = io = None
    try:
        for _ in range(1200):  # up to 60 s on a loaded machine
            if os.path.exists(sock_path) or proc.poll() is not None:
                break
            time.sleep(0.05)
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(sock_path)
        io = conn.makefile("rw")
        io.readline()

        def qmp(command, **arguments):
            io.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
            io.flush()
            while True:
                reply = json.loads(io.readline())
                if "event" not in reply:
                    return reply

        qmp("qmp_capabilities")
        reply = qmp("migrate-incoming", uri=uri)
        if live:
            print("listening" if "error" not in reply else "not listening", flush=True)
        if "error" in reply:
            result["error"] = reply["error"].get("desc")
        status = None
        for _ in range(2400):  # up to 120 s
            info = qmp("query-migrate").get("return", {})
            status = info.get("status")
            if status in ("completed", "failed"):
                result["error"] = result["error"] or info.get("error-desc")
                break
            time.sleep(0.05)
        result["status"] = status
        if status == "completed":
            for command in commands:
                out = qmp("human-monitor-command", **{"command-line": command})
                result["outputs"].append(out.get("return", out.get("error")))
        qmp("quit")
    except Exception as exc:  # report, never a stack trace
        if live:
            print("not listening", flush=True)
        result["error"] = result["error"] or f"{type(exc).__name__}: {exc}"
        try:
            # QEMU exits when an incoming migration fails to load; give it time to finish.
            proc.wait(timeout=10)
            result["status"] = "failed"
        except subprocess.TimeoutExpired:
            pass
    finally:
        # Closed here, while QEMU's end may be gone: a buffered write flushed at exit would
        # print "Exception ignored ... BrokenPipeError".
        for f in (io, conn):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if result["status"] != "completed" and err:
            result["error"] = (result["error"] or "") + " | qemu: " + err.decode(errors="replace").strip()
    print(json.dumps(result), flush=True)
    return 0 if result["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
