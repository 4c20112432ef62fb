#!/usr/bin/python3
"""Key-to-screen latency of the workbench (a benchmark, not a test): types 30 characters
into the prompt of a workbench running in the tmux session `ui` on socket SOCKET and times,
for each, how long until the prompt line on the screen changes (tmux send-keys, then
capture-pane polling; the polling itself costs a few ms). Start the workbench first, e.g.

    tmux -L cap new-session -d -s ui -x 100 -y 30 "build/sktune tui --task gloss-sentiment"
    (start two long runs with F5, then focus the prompt with F2)
    /usr/bin/python3 tests/ui/key_latency.py cap

Run the workbench with SKTUNE_KEY_LOG=FILE to also get the in-program time from reading
each key to handing the redrawn screen to the terminal."""
import statistics
import subprocess
import sys
import time

sock = sys.argv[1] if len(sys.argv) > 1 else "cap"


def prompt_line():
    out = subprocess.run(["tmux", "-L", sock, "capture-pane", "-t", "ui", "-p"], capture_output=True, text=True).stdout
    return out.splitlines()[2] if len(out.splitlines()) > 2 else ""


lat = []
for ch in "abcdefghijklmnopqrstuvwxyz0123":
    before = prompt_line()
    t0 = time.perf_counter()
    subprocess.run(["tmux", "-L", sock, "send-keys", "-t", "ui", ch])
    while prompt_line() == before and time.perf_counter() - t0 < 2:
        pass
    lat.append((time.perf_counter() - t0) * 1000)
    time.sleep(0.15)
lat.sort()
print("key-to-screen latency over %d keys: median %.1f ms, p90 %.1f ms, max %.1f ms"
      % (len(lat), statistics.median(lat), lat[int(0.9 * len(lat)) - 1], lat[-1]))
