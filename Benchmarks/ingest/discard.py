# Fsync stalls while a large file is deleted: one unlink vs truncation in 8 MB steps.
# Usage: python3 Benchmarks/ingest/discard.py unlink|chunked   (writes 256 MB under .discardtest/)
import os, time, threading, sys
mode = sys.argv[1]
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.discardtest"); os.makedirs(d, exist_ok=True)
big = d + "/big"
with open(big, "wb") as f:
    chunk = os.urandom(1 << 20)
    for _ in range(256): f.write(chunk)
    f.flush(); os.fsync(f.fileno())
fd = os.open(d + "/log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
lat = []
stop = False
def loop():
    while not stop:
        t = time.perf_counter(); os.write(fd, b"x" * 2000); os.fsync(fd); lat.append((time.perf_counter() - t) * 1000)
th = threading.Thread(target=loop); th.start()
time.sleep(1.0)
n0 = len(lat)
t = time.perf_counter()
if mode == "unlink":
    os.unlink(big)
elif mode == "chunked":
    size = 256 << 20
    bfd = os.open(big, os.O_WRONLY)
    while size > 0:
        size = max(0, size - (8 << 20)); os.ftruncate(bfd, size); time.sleep(0.005)
    os.close(bfd); os.unlink(big)
tu = (time.perf_counter() - t) * 1000
time.sleep(1.5)
stop = True; th.join()
before = sorted(lat[:n0]); after = lat[n0:]
print(mode, "delete_ms=%.1f" % tu, "before p99=%.2f max=%.2f" % (before[int(len(before)*.99)], before[-1]), "during/after max=%.2f top5=%s" % (max(after), sorted(after)[-5:]))
os.close(fd); os.unlink(d + "/log")
if os.path.exists(big): os.unlink(big)
os.rmdir(d)
