"""A qemu-system-* run under control of its QMP monitor, for the scripts beside this one.

    with QEMU(['-S', '-M', 'pc', '-m', '16']) as qemu:
        qemu.cmd('cont')
        info = qemu.wait_migration()

`QEMU(args)` starts `qemu-system-x86_64 -display none -nodefaults -qmp unix:SOCKET` with `args`
after those (another target's QEMU when the environment variable QEMU_BINARY names it, e.g.
`QEMU_BINARY=qemu-system-ppc64`), connects to the monitor and leaves capabilities negotiation done. When QEMU exits
before its monitor answers (it refused its options, say) it raises `QEMUExited`, whose message is
QEMU's own stderr. Leaving the `with` block closes the monitor and waits up to 10 s for QEMU to
exit (killing it after that); `stderr` then holds what QEMU printed there.

`command_line(__doc__, [float, int])` splits a script's arguments at `--`, converting the first
ones; on a wrong command line it prints the script's usage (its docstring) and exits with 2.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BINARY = os.environ.get('QEMU_BINARY') or 'qemu-system-x86_64'


def command_line(usage, kinds):
    """`(before, after)`: the arguments before `--` (at least `len(kinds)` of them, the first
    ones converted by `kinds`, e.g. `[str, float]`; the rest strings) and the QEMU arguments after
    it. A command line without `--`, with fewer arguments or one that does not convert prints
    `usage` to stderr and exits with status 2."""
    argv = sys.argv[1:]
    if '--' in argv:
        split = argv.index('--')
        before, after = argv[:split], argv[split + 1:]
        if len(before) >= len(kinds):
            try:
                return [k(a) for k, a in zip(kinds, before)] + before[len(kinds):], after
            except ValueError:
                pass
    sys.stderr.write(usage.strip() + '\n')
    sys.exit(2)


def _descendants(pid):
    """The processes below `pid`, children first (Linux's /proc/PID/task/TID/children)."""
    found = []
    try:
        tasks = os.listdir(f'/proc/{pid}/task')
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f'/proc/{pid}/task/{task}/children') as f:
                children = [int(c) for c in f.read().split()]
        except OSError:
            continue
        for child in children:
            found += [child] + _descendants(child)
    return found


class QEMUExited(Exception):
    """QEMU exited before its monitor answered; the message is its exit status and stderr."""


class QEMU:
    def __init__(self, args, startup_seconds=60):
        self.dir = tempfile.TemporaryDirectory()
        path = os.path.join(self.dir.name, 'qmp.sock')
        self.args = [BINARY, '-display', 'none', '-nodefaults',
                     '-qmp', f'unix:{path},server=on,wait=off'] + list(args)
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stderr = ''
        self._socket = self._monitor = None
        self._closed = False
        try:
            self._connect(path, startup_seconds)
        except BaseException:
            self.close()
            raise

    def _exited(self):
        """Raises QEMUExited when the process has exited."""
        if self.process.poll() is not None:
            self.close()
            raise QEMUExited(f'{BINARY} exited with status {self.process.returncode}: {self.stderr}')

    def _connect(self, path, startup_seconds):
        deadline = time.monotonic() + startup_seconds
        # The socket file appears when QEMU binds it, a moment before it listens.
        while True:
            self._exited()
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                break
            except (ConnectionRefusedError, FileNotFoundError):
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._socket, self._monitor = s, s.makefile('rw')
        try:
            self._monitor.readline()  # the greeting
            self.cmd('qmp_capabilities')
        except (OSError, ValueError):
            # QEMU closed the monitor: it is exiting; say why when it has.
            try:
                self.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            self._exited()
            raise

    def cmd(self, command, **arguments):
        """Runs one QMP command; returns its reply (a dict with "return" or "error"), skipping
        the events QEMU sends meanwhile."""
        self._monitor.write(json.dumps({'execute': command, 'arguments': arguments}) + '\n')
        self._monitor.flush()
        while True:
            line = self._monitor.readline()
            if not line:
                raise ConnectionError(f'QMP closed by {BINARY} during {command}')
            reply = json.loads(line)
            if 'event' not in reply:
                return reply

    def set_capabilities(self, names):
        """Turns these migration capabilities on; raises RuntimeError with QEMU's reason when it
        refuses one."""
        if names:
            r = self.cmd('migrate-set-capabilities', capabilities=[{'capability': c, 'state': True} for c in names])
            if 'error' in r:
                raise RuntimeError(f"migrate-set-capabilities: {r['error'].get('desc')}")

    def wait_migration(self, seconds=120, interval=0.05, on_poll=None, final=('completed', 'failed', 'cancelled'),
                       total=3600):
        """Polls query-migrate until its status is one of `final`, or until `seconds` passed
        without progress (the bytes QEMU sent unchanged: a stream of many GB takes as long as it
        needs), or `total` seconds in all (a live migration that never converges); returns the
        last query-migrate result. `on_poll(i)`, when given, runs before poll i sleeps."""
        info = {}
        end = time.monotonic() + total
        sent, deadline, i = None, time.monotonic() + seconds, 0
        while True:
            info = self.cmd('query-migrate').get('return', {})
            if info.get('status') in final:
                break
            now = info.get('ram', {}).get('transferred')
            if now != sent:
                sent, deadline = now, time.monotonic() + seconds
            elif time.monotonic() >= deadline:
                break
            if time.monotonic() >= end:
                break
            if on_poll:
                on_poll(i)
            i += 1
            time.sleep(interval)
        return info

    def close(self, timeout=10):
        """Closes the monitor and waits for QEMU to exit (killing it after `timeout` s); sets
        `stderr`. Returns the exit status."""
        # Closed before waiting, while QEMU's end may be gone: a buffered write flushed at exit
        # would print "Exception ignored ... BrokenPipeError".
        for f in (self._monitor, self._socket):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        self._monitor = self._socket = None
        if not self._closed:
            self._closed = True
            try:
                _, err = self.process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                # QEMU's own children too (the `sh -c 'cat > FILE'` of an exec: migration, which
                # holds QEMU's stderr open while its write blocks).
                children = _descendants(self.process.pid)
                self.process.kill()
                for pid in children:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                try:
                    _, err = self.process.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:  # (a grandchild that escaped still holds it)
                    self.process.wait()
                    err = b''
            self.stderr = (err or b'').decode(errors='replace').strip()
            self.dir.cleanup()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
