#!/usr/bin/env python3
"""Run qemu-system-x86_64 as the destination of a live migration over TCP, then read state back.

usage: qemu-live-incoming.py PORT HMP_COMMAND... -- QEMU_ARGS...

Starts QEMU with `-incoming defer`, runs `migrate-incoming tcp:127.0.0.1:PORT`, prints the line
`listening` once QEMU accepts connections, waits for the incoming migration to finish, runs each
HMP command through QMP's human-monitor-command, and prints one JSON object:
{"status": ..., "error": ..., "outputs": [...]}. Exit status 0 when the migration completed.
Used by the tests that migrate live from our registry into QEMU.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


def main():
    port = int(sys.argv[1])
    split = sys.argv.index("--")
    commands = sys.argv[2:split]
    qemu_args = sys.argv[split + 1:]
    sock_path = os.path.join(tempfile.mkdtemp(), "qmp.sock")
    proc = subprocess.Popen(
        ["qemu-system-x86_64", "-display", "none", "-nodefaults", "-incoming", "defer",
         "-qmp", f"unix:{sock_path},server=on,wait=off"] + qemu_args,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result = {"status": None, "error": None, "outputs": []}
    try:
        for _ in range(1200):
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
        reply = qmp("migrate-incoming", uri=f"tcp:127.0.0.1:{port}")
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
        print("not listening", flush=True)
        result["error"] = result["error"] or f"{type(exc).__name__}: {exc}"
        try:
            proc.wait(timeout=10)
            result["status"] = "failed"
        except subprocess.TimeoutExpired:
            pass
    finally:
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
