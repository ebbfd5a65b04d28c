#!/usr/bin/env python3
"""Migrate a RUNNING qemu-system-x86_64 live to a URI, then read the stopped source's state.

usage: qemu-live-source.py URI RUN_SECONDS MAX_BANDWIDTH_BYTES_PER_S HMP_COMMAND... -- QEMU_ARGS...
QEMU_BINARY=qemu-system-TARGET in the environment runs another target's QEMU (default x86_64).

The machine runs its firmware for RUN_SECONDS, then migrates to URI (e.g. tcp:127.0.0.1:PORT)
with max-bandwidth capped so that RAM goes in several passes (downtime-limit 1 ms for the first
2 s, then 2 s so that it converges). QEMU still completes at the first dirty-bitmap sync that
finds nothing dirty: with a quiet guest, or with xbzrle's short passes while the guest's vCPU
got no CPU (often within 1 s), the passes may be fewer. After it completed, each HMP command runs on the stopped
source (e.g. `pmemsave 0 0x1000000 FILE`, `i /b 0x71`), so a test can compare the destination
with QEMU's final state. With QEMU_LIVE_DOWNTIME_MS set, downtime-limit is that from the start
and never changes (scripts/bench-live). With QEMU_LIVE_CAPABILITIES set (comma-separated
names, e.g. `multifd` or `events,auto-converge`), those migration capabilities are turned on
first (a refused one is reported as the error). (QEMU 7.2 refuses a second migration of a source a migration stopped:
"Can't migrate the vm that was paused due to previous migration".) Prints one JSON object:
{"status": ..., "error": ..., "outputs": [...], "ram": {query-migrate "ram"}, "xbzrle-cache":
{query-migrate "xbzrle-cache", with capability xbzrle}, "total-time": ms, "downtime": ms}.
"""
import json, os, sys, time
from qmp import QEMU, command_line


def main():
    (uri, secs, bw, *commands), qargs = command_line(__doc__, [str, float, int])
    fixed = int(os.environ['QEMU_LIVE_DOWNTIME_MS']) if os.environ.get('QEMU_LIVE_DOWNTIME_MS') else None
    result = {"status": None, "error": None, "outputs": [], "ram": None}
    qemu = None
    try:
        qemu = QEMU(['-S'] + qargs)
        qemu.set_capabilities([c for c in os.environ.get('QEMU_LIVE_CAPABILITIES', '').split(',') if c])
        qemu.cmd('migrate-set-parameters', **{'max-bandwidth': bw, 'downtime-limit': fixed or 1})
        qemu.cmd('cont')
        time.sleep(secs)
        r = qemu.cmd('migrate', uri=uri)
        if 'error' in r:
            result["error"] = r['error'].get('desc')
        else:
            def converge(i):  # a downtime it can meet, after the first 2 s
                if i == 100 and fixed is None:
                    qemu.cmd('migrate-set-parameters', **{'downtime-limit': 2000})

            st = qemu.wait_migration(seconds=120, interval=0.02, on_poll=converge)
            result["status"], result["ram"] = st.get('status'), st.get('ram')
            result["xbzrle-cache"] = st.get('xbzrle-cache')
            result["total-time"], result["downtime"] = st.get('total-time'), st.get('downtime')
            result["error"] = st.get('error-desc')
            if st.get('status') == 'completed':
                for command in commands:
                    out = qemu.cmd('human-monitor-command', **{'command-line': command})
                    result["outputs"].append(out.get('return', out.get('error')))
        qemu.cmd('quit')
    except Exception as exc:  # report, never a stack trace
        result["error"] = result["error"] or f"{type(exc).__name__}: {exc}"
    finally:
        if qemu is not None:
            qemu.close()
    print(json.dumps(result), flush=True)
    return 0 if result["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
