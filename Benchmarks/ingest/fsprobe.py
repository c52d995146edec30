"""Latency and CPU cost of one durable sync on the file system of a folder, four ways
(BENCHMARKS.md, Ingest, sessions 9 and 10): append + fsync (what the raw writer does), append +
fdatasync, overwrite of already written blocks + fdatasync, and the same with O_DIRECT | O_DSYNC.

Usage: python3 Benchmarks/ingest/fsprobe.py [FOLDER] [SYNCS] [BYTES]  (default /tmp 2000 40960)
"""
import mmap
import os
import shutil
import statistics
import sys
import tempfile
import time

folder = tempfile.mkdtemp(dir=sys.argv[1] if len(sys.argv) > 1 else "/tmp", prefix="fsprobe.")
syncs = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
size = int(sys.argv[3]) if len(sys.argv) > 3 else 40960
size -= size % 4096  # O_DIRECT wants whole blocks
line = b"x" * (size - 1) + b"\n"


def busy_ticks():
    """Machine-wide non-idle, non-iowait CPU ticks: a sync's cost includes the block layer and
    the virtio notifications and interrupts, which run partly outside the calling thread."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def measure(name, open_file, step):
    fd = open_file()
    seconds = []
    times_before, busy_before = os.times(), busy_ticks()
    for index in range(syncs):
        started = time.perf_counter()
        step(fd, index)
        seconds.append(time.perf_counter() - started)
    times_after, busy_after = os.times(), busy_ticks()
    os.close(fd)
    seconds.sort()
    hz = os.sysconf("SC_CLK_TCK")
    print("%-32s mean %.3f ms  p50 %.3f ms  p99 %.3f ms  CPU per sync: %.0f us system (this process), %.0f us machine-wide" % (
        name, statistics.mean(seconds) * 1e3, seconds[syncs // 2] * 1e3, seconds[int(syncs * 0.99)] * 1e3,
        (times_after.system - times_before.system) / syncs * 1e6, (busy_after - busy_before) / hz / syncs * 1e6))


def fresh():
    path = os.path.join(folder, "append")
    if os.path.exists(path):
        os.remove(path)
    return os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o644)


def written(flags=0):
    """A file whose blocks are all allocated and written: overwriting changes no metadata."""
    path = os.path.join(folder, "overwrite")
    if os.path.exists(path):
        os.remove(path)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    zeros = b"\0" * (1 << 20)
    for _ in range(syncs * size // len(zeros) + 1):
        os.write(fd, zeros)
    os.fsync(fd)
    os.close(fd)
    return os.open(path, os.O_WRONLY | flags)


try:
    measure("append + fsync", fresh, lambda fd, i: (os.write(fd, line), os.fsync(fd)))
    measure("append + fdatasync", fresh, lambda fd, i: (os.write(fd, line), os.fdatasync(fd)))
    measure("overwrite + fdatasync", written, lambda fd, i: (os.pwrite(fd, line, i * size), os.fdatasync(fd)))
    aligned = mmap.mmap(-1, size)
    aligned.write(line)
    measure("overwrite, O_DIRECT | O_DSYNC", lambda: written(os.O_DIRECT | os.O_DSYNC),
            lambda fd, i: os.pwritev(fd, [aligned], i * size))
finally:
    shutil.rmtree(folder)
