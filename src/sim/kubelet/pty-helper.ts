/**
 * @module sim/kubelet/pty-helper
 * A real pseudo-terminal for TTY execs and `tty: true` containers. Node has no pty API and the
 * project takes no native dependencies, so a small python3 program (pty/termios/fcntl/select, all
 * standard library) does what a container runtime's console does: allocate a pty pair, run the
 * command as a session leader with the slave as its controlling terminal (pty.fork = forkpty),
 * relay stdin -> master and master -> stdout with bounded non-blocking buffers (so a slow reader
 * stops the relay and the program blocks in write: backpressure), and apply window-size changes
 * that arrive as "rows cols\n" lines on fd 3 (TIOCSWINSZ; the kernel then sends SIGWINCH).
 * Stdin EOF is delivered as ^D (what a terminal user types). The helper exits with the command's
 * status (128+signal when killed), after draining the output. It dies with its parent.
 *
 *   python3 -c HELPER_SOURCE FLAGS <command> [args...]      (fd 3: resize lines)
 *
 * FLAGS: 'i' relay stdin (else the terminal gets no input, as `docker run -t` without -i), '-' none.
 * The parent closes its copies of fds 4..63 after the fork so that pipes meant for the command
 * (bwrap's --info-fd) see EOF when the command closes them.
 */

export const PTY_HELPER_SOURCE = String.raw`
import os, sys, pty, fcntl, termios, struct, select, errno, signal
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
except Exception:
    pass
RFD = 3
try:
    os.set_inheritable(RFD, False)
except OSError:
    RFD = -1
flags = sys.argv[1]
argv = sys.argv[2:]
pid, master = pty.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ("pty-helper: %s: %s\n" % (argv[0], e.strerror)).encode())
        os._exit(127 if e.errno == errno.ENOENT else 126)
for fd in range(4, 64):
    if fd != master:
        try:
            os.close(fd)
        except OSError:
            pass
for fd in (0, 1, master):
    fl = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)
CAP = 1 << 16
out = bytearray()   # master -> stdout
inp = bytearray()   # stdin -> master
rbuf = b""
stdin_open = 'i' in flags
master_open = True
status = None
deadline = None
def winsz(line):
    try:
        rows, cols = (int(x) for x in line.split())
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    except Exception:
        pass
while True:
    if status is None:
        try:
            wpid, st = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = st
                deadline = 0.25
        except ChildProcessError:
            status = 0
            deadline = 0.25
    if (not master_open or deadline is not None and deadline <= 0) and not out:
        break
    rl, wl = [], []
    if master_open and len(out) < CAP:
        rl.append(master)
    if stdin_open and len(inp) < CAP and master_open:
        rl.append(0)
    if RFD >= 0:
        rl.append(RFD)
    if out:
        wl.append(1)
    if inp and master_open:
        wl.append(master)
    timeout = 0.05 if status is not None else 0.2
    try:
        r, w, _ = select.select(rl, wl, [], timeout)
    except InterruptedError:
        continue
    if status is not None and not r and not w:
        deadline -= timeout
    if master in r:
        try:
            d = os.read(master, CAP)
            if d:
                out += d
                if status is not None:
                    deadline = 0.25
            else:
                master_open = False
        except BlockingIOError:
            pass
        except OSError:
            master_open = False
    if 0 in r:
        try:
            d = os.read(0, CAP)
            if d:
                inp += d
            else:
                stdin_open = False
                inp += b"\x04"
        except BlockingIOError:
            pass
        except OSError:
            stdin_open = False
    if RFD >= 0 and RFD in r:
        try:
            d = os.read(RFD, 4096)
        except OSError:
            d = b""
        if not d:
            RFD = -1
        else:
            rbuf += d
            while b"\n" in rbuf:
                line, rbuf = rbuf.split(b"\n", 1)
                winsz(line)
    if 1 in w:
        try:
            n = os.write(1, out)
            del out[:n]
        except BlockingIOError:
            pass
        except OSError:
            out.clear()
            master_open = False
    if master in w and inp:
        try:
            n = os.write(master, inp)
            del inp[:n]
        except BlockingIOError:
            pass
        except OSError:
            inp.clear()
if status is None:
    try:
        os.kill(pid, signal.SIGHUP)
    except OSError:
        pass
    _, status = os.waitpid(pid, 0)
if os.WIFSIGNALED(status):
    os._exit(128 + os.WTERMSIG(status))
os._exit(os.WEXITSTATUS(status))
`;
