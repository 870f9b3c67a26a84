"""A tiny, fake POSIX-ish shell for the simulated gateway's exec RPCs.

Nothing here ever runs a real process.  The gateway runs an exec request as
`KEY=val ... cmd args...` (each argv element shell-quoted) through the
sandbox's login shell, so:

* a plain argv (["echo", "$HOME"]) is executed literally: no expansion;
* ["sh", "-c", SCRIPT] (also bash, /bin/sh, /bin/bash) interprets SCRIPT with
  a small parser: `;`, newlines, `&&`, `||`, `#` comments, single/double
  quotes, backslash escapes, $VAR / ${VAR} / $? / $$, VAR=value prefixes,
  redirections `>&2`, `1>&2`, `2>&1`, `>/dev/null`, `2>/dev/null`, `&>...`
  (output redirected to any other file is discarded) and pipelines `a | b`
  (run one stage after the other, stdout buffered into the next stdin);
* built-in commands: echo, printf, true, false, :, exit, sleep, cat, pwd, cd,
  whoami, id, hostname, uname, env, printenv, date, seq, sh/bash -c.
  Anything else prints "sh: 1: NAME: not found" and exits 127.

`run()` is a generator of ("stdout"|"stderr", bytes) items; the generator's
return value (StopIteration.value) is the exit status.  It raises
ExecTimeout when the deadline passes (the gateway then reports exit 124) and
ExecCancelled when the caller's `cancelled()` becomes true.
"""

import re
import time

SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "dash", "/bin/dash"}
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)\Z", re.S)


class ExecTimeout(Exception):
    pass


class ExecCancelled(Exception):
    pass


class _Exit(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


class ShellSyntaxError(Exception):
    pass


class BytesStdin:
    """One-shot stdin payload."""

    def __init__(self, data=b""):
        self.data = data or b""
        self.done = False

    def chunks(self, ctx):
        if not self.done:
            self.done = True
            if self.data:
                yield self.data


class StreamStdin:
    """Stdin fed by another thread (interactive exec). `get(timeout)` returns
    bytes, or None at EOF; raises queue.Empty style TimeoutError when idle."""

    def __init__(self, q):
        self.q = q
        self.eof = False

    def chunks(self, ctx):
        import queue
        while not self.eof:
            ctx.check()
            try:
                item = self.q.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is None:
                self.eof = True
                return
            yield item


class ExecContext:
    def __init__(self, env, cwd, hostname, stdin=None, deadline=None, cancelled=None):
        self.env = dict(env)
        self.cwd = cwd
        self.hostname = hostname
        self.stdin = stdin or BytesStdin(b"")
        self.deadline = deadline          # time.monotonic() value or None
        self.cancelled = cancelled or (lambda: False)
        self.last_status = 0
        self.started = time.time()

    def check(self):
        if self.cancelled():
            raise ExecCancelled()
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ExecTimeout()

    def sleep(self, seconds):
        end = time.monotonic() + max(0.0, seconds)
        while True:
            self.check()
            now = time.monotonic()
            if now >= end:
                return
            step = min(0.05, end - now)
            if self.deadline is not None:
                step = min(step, max(0.0, self.deadline - now) + 0.001)
            time.sleep(step)


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

def run(argv, ctx, extra_env=None):
    """Run one exec request. extra_env: the request's environment map."""
    env = dict(ctx.env)
    if extra_env:
        env.update(extra_env)
    try:
        status = yield from _simple(list(argv), env, ctx, {1: 1, 2: 2}, top=True)
    except _Exit as e:
        status = e.code
    return status & 0xFF


# ---------------------------------------------------------------------------
# Script parsing
# ---------------------------------------------------------------------------

def _split_commands(script):
    """Split at top-level ; \\n && || & |.  Returns [(op_before, text)]."""
    out = []
    cur = []
    op = ";"
    i = 0
    n = len(script)
    quote = None
    at_word_start = True
    while i < n:
        c = script[i]
        if quote == "'":
            cur.append(c)
            if c == "'":
                quote = None
            i += 1
            continue
        if quote == '"':
            cur.append(c)
            if c == "\\" and i + 1 < n:
                cur.append(script[i + 1])
                i += 2
                continue
            if c == '"':
                quote = None
            i += 1
            continue
        if c == "\\" and i + 1 < n:
            cur.append(c)
            cur.append(script[i + 1])
            i += 2
            at_word_start = False
            continue
        if c in "'\"":
            quote = c
            cur.append(c)
            i += 1
            at_word_start = False
            continue
        if c == "#" and at_word_start:
            while i < n and script[i] != "\n":
                i += 1
            continue
        two = script[i:i + 2]
        if two in ("&&", "||"):
            out.append((op, "".join(cur)))
            cur = []
            op = two
            i += 2
            at_word_start = True
            continue
        if c == "&" and i + 1 < n and script[i + 1] == ">":
            cur.append(c)          # &> redirection
            i += 1
            at_word_start = False
            continue
        if c == "&" and cur and cur[-1] in "<>":
            cur.append(c)          # >& redirection
            i += 1
            continue
        if c in ";\n&":
            out.append((op, "".join(cur)))
            cur = []
            op = ";"
            i += 1
            at_word_start = True
            continue
        if c == "|":
            cur.append("\x00")      # pipeline separator, split later
            i += 1
            at_word_start = True
            continue
        if c in "(){}" and at_word_start and not "".join(cur).strip():
            raise ShellSyntaxError("subshells and groups are not supported by gateway-sim")
        cur.append(c)
        at_word_start = c in " \t"
        i += 1
    if quote:
        raise ShellSyntaxError("Syntax error: Unterminated quoted string")
    out.append((op, "".join(cur)))
    return [(o, t) for (o, t) in out if t.strip() or o in ("&&", "||")]


def _expand_var(text, i, env, ctx):
    """text[i] == '$'. Returns (value, new_index)."""
    n = len(text)
    if i + 1 >= n:
        return "$", i + 1
    c = text[i + 1]
    if c == "?":
        return str(ctx.last_status), i + 2
    if c == "$":
        return "4242", i + 2
    if c == "{":
        j = text.find("}", i + 2)
        if j < 0:
            raise ShellSyntaxError("Syntax error: Missing '}'")
        name = text[i + 2:j]
        default = None
        if ":-" in name:
            name, default = name.split(":-", 1)
        val = env.get(name, "")
        if not val and default is not None:
            val = default
        return val, j + 1
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text[i + 1:])
    if m:
        return env.get(m.group(0), ""), i + 1 + m.end()
    return "$", i + 1


def _tokenize(text, env, ctx):
    """Returns (words, redirs) with quotes removed and variables expanded.
    redirs: list of (fd, target) with target '&N' or a path."""
    words = []
    redirs = []
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        m = re.match(r"(\d?)(>>|>&|>|<|&>)", text[i:])
        if m:
            fd_txt, op = m.group(1), m.group(2)
            i += m.end()
            if op == "&>":
                fds = [1, 2]
            elif op == "<":
                fds = [0]
            else:
                fds = [int(fd_txt) if fd_txt else 1]
            while i < n and text[i] in " \t":
                i += 1
            if op == ">&":
                m2 = re.match(r"(\d+|-)", text[i:])
                if not m2:
                    raise ShellSyntaxError("Syntax error: Bad fd number")
                target = "&" + m2.group(1)
                i += m2.end()
            else:
                target, i, _ = _read_word(text, i, env, ctx)
                if target is None:
                    raise ShellSyntaxError('Syntax error: newline unexpected')
            for fd in fds:
                redirs.append((fd, target))
            continue
        word, i, split = _read_word(text, i, env, ctx)
        if word is None:
            break
        if split:
            words.extend(word.split())
        else:
            words.append(word)
    return words, redirs


def _read_word(text, i, env, ctx):
    n = len(text)
    buf = []
    quoted = False
    unquoted_expansion = False
    while i < n and text[i] not in " \t<>":
        c = text[i]
        if c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("Syntax error: Unterminated quoted string")
            buf.append(text[i + 1:j])
            quoted = True
            i = j + 1
        elif c == '"':
            i += 1
            quoted = True
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '$`"\\':
                    buf.append(text[i + 1])
                    i += 2
                elif text[i] == "$":
                    val, i = _expand_var(text, i, env, ctx)
                    buf.append(val)
                else:
                    buf.append(text[i])
                    i += 1
            if i >= n:
                raise ShellSyntaxError("Syntax error: Unterminated quoted string")
            i += 1
        elif c == "\\" and i + 1 < n:
            buf.append(text[i + 1])
            i += 2
        elif c == "$":
            val, i = _expand_var(text, i, env, ctx)
            buf.append(val)
            unquoted_expansion = True
        else:
            buf.append(c)
            i += 1
    if not buf and not quoted:
        return None, i, False
    return "".join(buf), i, (unquoted_expansion and not quoted)


def _script(script, env, ctx, fds):
    try:
        commands = _split_commands(script)
    except ShellSyntaxError as e:
        yield ("stderr", ("sh: 1: %s\n" % e).encode())
        return 2
    status = 0
    for op, text in commands:
        if op == "&&" and status != 0:
            continue
        if op == "||" and status == 0:
            continue
        ctx.check()
        segments = text.split("\x00")
        if len(segments) > 1:
            if any(not seg.strip() for seg in segments):
                yield ("stderr", b"sh: 1: Syntax error: \"|\" unexpected\n")
                return 2
            status = yield from _pipeline(segments, env, ctx, fds)
            ctx.last_status = status
            continue
        try:
            words, redirs = _tokenize(text, env, ctx)
        except ShellSyntaxError as e:
            yield ("stderr", ("sh: 1: %s\n" % e).encode())
            return 2
        local_fds = dict(fds)
        for fd, target in redirs:
            if fd == 0:
                continue
            if target.startswith("&"):
                src = target[1:]
                local_fds[fd] = None if src == "-" else local_fds.get(int(src), int(src))
            else:
                local_fds[fd] = None   # /dev/null or a file: discarded
        assigns = {}
        while words and ASSIGN_RE.match(words[0]):
            k, v = ASSIGN_RE.match(words[0]).groups()
            assigns[k] = v
            words.pop(0)
        if not words:
            env.update(assigns)
            status = 0
        else:
            cmd_env = dict(env)
            cmd_env.update(assigns)
            status = yield from _simple(words, cmd_env, ctx, local_fds, shell_env=env)
        ctx.last_status = status
    return status


def _pipeline(segments, env, ctx, fds):
    """Run `a | b | c` sequentially, buffering each stage's stdout."""
    saved_stdin = ctx.stdin
    data = None
    status = 0
    try:
        for idx, seg in enumerate(segments):
            last = idx == len(segments) - 1
            if data is not None:
                ctx.stdin = BytesStdin(data)
            buf = []
            stage = _script(seg, dict(env), ctx, fds)
            try:
                while True:
                    kind, chunk = next(stage)
                    if kind == "stdout" and not last:
                        buf.append(chunk)
                    else:
                        yield (kind, chunk)
            except StopIteration as stop:
                status = stop.value
            except _Exit as e:
                status = e.code
            data = b"".join(buf)
    finally:
        ctx.stdin = saved_stdin
    return status


# ---------------------------------------------------------------------------
# Simple commands
# ---------------------------------------------------------------------------

def _emit(fds, fd, data):
    target = fds.get(fd, fd)
    if target is None or not data:
        return None
    return ("stdout" if target == 1 else "stderr", data)


def _simple(words, env, ctx, fds, top=False, shell_env=None):
    ctx.check()
    name = words[0]
    args = words[1:]

    def out(data, fd=1):
        if isinstance(data, str):
            data = data.encode()
        return _emit(fds, fd, data)

    def gen_out(data, fd=1):
        item = out(data, fd)
        if item:
            yield item

    base = name.rsplit("/", 1)[-1] if name.startswith("/") else name

    if name in SHELLS:
        if len(args) >= 2 and args[0] == "-c":
            saved = ctx.last_status
            try:
                status = yield from _script(args[1], dict(env), ctx, fds)
            except _Exit as e:
                status = e.code
            ctx.last_status = saved
            return status
        if args and args[0] == "-c":
            yield from gen_out("%s: -c: option requires an argument\n" % base, 2)
            return 2
        # Interactive shell without a script: read stdin as a script.
        data = b"".join(ctx.stdin.chunks(ctx)).decode(errors="replace")
        try:
            status = yield from _script(data, dict(env), ctx, fds)
        except _Exit as e:
            status = e.code
        return status

    if base in ("true", ":"):
        return 0
    if base == "false":
        return 1
    if base == "exit":
        code = ctx.last_status
        if args:
            try:
                code = int(args[0])
            except ValueError:
                yield from gen_out("sh: 1: exit: Illegal number: %s\n" % args[0], 2)
                code = 2
        raise _Exit(code & 0xFF)
    if base == "echo":
        newline = True
        escapes = False
        while args and re.fullmatch(r"-[neE]+", args[0]):
            flags = args.pop(0)
            if "n" in flags:
                newline = False
            if "e" in flags:
                escapes = True
        text = " ".join(args)
        if escapes:
            text = _unescape(text)
        yield from gen_out(text + ("\n" if newline else ""))
        return 0
    if base == "printf":
        if not args:
            yield from gen_out("printf: usage: printf format [arguments]\n", 2)
            return 2
        yield from gen_out(_printf(args[0], args[1:]))
        return 0
    if base == "sleep":
        if not args:
            yield from gen_out("sleep: missing operand\n", 2)
            return 1
        try:
            total = sum(_duration(a) for a in args)
        except ValueError:
            yield from gen_out("sleep: invalid time interval '%s'\n" % args[0], 2)
            return 1
        ctx.sleep(total)
        return 0
    if base == "cat":
        status = 0
        files = args or ["-"]
        for f in files:
            if f == "-":
                for chunk in ctx.stdin.chunks(ctx):
                    yield from gen_out(chunk)
            elif f == "/etc/hostname":
                yield from gen_out(ctx.hostname + "\n")
            elif f == "/etc/os-release":
                yield from gen_out('PRETTY_NAME="gateway-sim sandbox"\nID=sim\n')
            elif f == "/dev/null":
                pass
            else:
                yield from gen_out("cat: %s: No such file or directory\n" % f, 2)
                status = 1
        return status
    if base == "pwd":
        yield from gen_out(ctx.cwd + "\n")
        return 0
    if base == "cd":
        target = args[0] if args else env.get("HOME", "/sandbox")
        if not target.startswith("/"):
            target = ctx.cwd.rstrip("/") + "/" + target
        ctx.cwd = target
        return 0
    if base == "whoami":
        yield from gen_out(env.get("USER", "sandbox") + "\n")
        return 0
    if base == "id":
        yield from gen_out("uid=1000(sandbox) gid=1000(sandbox) groups=1000(sandbox)\n")
        return 0
    if base == "hostname":
        yield from gen_out(ctx.hostname + "\n")
        return 0
    if base == "uname":
        if "-a" in args:
            yield from gen_out("Linux %s 6.1.0-sim #1 SMP x86_64 GNU/Linux\n" % ctx.hostname)
        elif "-m" in args:
            yield from gen_out("x86_64\n")
        else:
            yield from gen_out("Linux\n")
        return 0
    if base in ("env", "printenv"):
        if base == "printenv" and args:
            vals = [env[a] for a in args if a in env]
            for v in vals:
                yield from gen_out(v + "\n")
            return 0 if len(vals) == len(args) else 1
        if base == "env" and args:
            # env CMD...: run CMD with the same environment
            status = yield from _simple(args, env, ctx, fds)
            return status
        for k in sorted(env):
            yield from gen_out("%s=%s\n" % (k, env[k]))
        return 0
    if base == "date":
        if "+%s" in args:
            yield from gen_out("%d\n" % int(time.time()))
        else:
            yield from gen_out(time.strftime("%a %b %d %H:%M:%S UTC %Y\n", time.gmtime()))
        return 0
    if base == "seq":
        try:
            nums = [int(a) for a in args]
        except ValueError:
            yield from gen_out("seq: invalid argument\n", 2)
            return 1
        if len(nums) == 1:
            first, step, last = 1, 1, nums[0]
        elif len(nums) == 2:
            first, step, last = nums[0], 1, nums[1]
        elif len(nums) == 3:
            first, step, last = nums
        else:
            yield from gen_out("seq: missing operand\n", 2)
            return 1
        if step == 0:
            return 1
        lines = []
        v = first
        while (step > 0 and v <= last) or (step < 0 and v >= last):
            lines.append("%d\n" % v)
            v += step
            if len(lines) >= 1000:
                ctx.check()
                yield from gen_out("".join(lines))
                lines = []
        if lines:
            yield from gen_out("".join(lines))
        return 0

    yield from gen_out("sh: 1: %s: not found\n" % name, 2)
    return 127


def _duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", text)
    if not m:
        raise ValueError(text)
    mult = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return float(m.group(1)) * mult


def _unescape(text):
    return (text.replace("\\\\", "\0").replace("\\n", "\n").replace("\\t", "\t")
            .replace("\\r", "\r").replace("\\e", "\x1b").replace("\0", "\\"))


def _printf(fmt, args):
    fmt = _unescape(fmt)
    out = []
    args = list(args)
    first = True
    while first or args:
        first = False
        consumed = False

        def repl(m):
            nonlocal consumed
            spec = m.group(1)
            if spec == "%":
                return "%"
            consumed = True
            val = args.pop(0) if args else ""
            if spec == "d":
                try:
                    return str(int(val or 0))
                except ValueError:
                    return "0"
            return val

        out.append(re.sub(r"%([sd%])", repl, fmt))
        if not consumed:
            break
    return "".join(out)
