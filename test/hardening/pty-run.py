"""Runs a command on a pseudo-terminal, sends Ctrl-C once the output matches a pattern, and
prints a JSON summary (exit status, signal, the whole output as latin-1 text) on stdout.

Usage: python3 pty-run.py TIMEOUT_SECONDS WAIT_FOR_REGEX -- COMMAND ARGS...
Used by test/hardening/terminal.test.ts (issue 9 item 4)."""
import json, os, pty, re, select, signal, sys, time

timeout = float(sys.argv[1])
pattern = re.compile(sys.argv[2].encode('latin-1'))
cmd = sys.argv[sys.argv.index('--') + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b''
sent = False
deadline = time.time() + timeout
status = None
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            chunk = b''
        if not chunk:
            break
        out += chunk
        if not sent and pattern.search(out):
            time.sleep(0.3)
            os.write(fd, b'\x03')  # Ctrl-C: the terminal sends SIGINT to the foreground group
            sent = True
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        # drain what is left
        while True:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                break
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        break
while status is None and time.time() < deadline:  # the output ended (EOF): wait for the exit
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
    else:
        time.sleep(0.1)
timed_out = status is None
if timed_out:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
print(json.dumps({
    'sentInterrupt': sent,
    'timedOut': timed_out,
    'exitCode': os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    'signal': os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
    'output': out.decode('latin-1'),
}))
