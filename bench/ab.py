#!/usr/bin/env python3
"""Side-by-side start-up of two or more commands, interleaved.

    bench/ab.py [-n ROUNDS] 'CMD A' 'CMD B' ...

Each round runs every command once, in turn, so the machine's drift and the
sentinels an earlier run leaves (they linger about a second) weigh on all of
them alike. hyperfine runs one command's batch after the other's, and on
this 2-core VM that alone moved a median by half a millisecond between two
copies of one binary. Prints the median wall time per command (posix_spawn
to waitpid, stdout to /dev/null) and its ratio to the first.
"""
import os
import shlex
import statistics
import sys
import time


def main() -> None:
    args = sys.argv[1:]
    rounds = 400
    if len(args) >= 2 and args[0] == "-n":
        rounds, args = int(args[1]), args[2:]
    if len(args) < 2:
        sys.exit(__doc__)
    cmds = [shlex.split(a) for a in args]
    times = [[] for _ in cmds]
    devnull = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)]
    for _ in range(rounds):
        for i, argv in enumerate(cmds):
            t0 = time.monotonic_ns()
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=devnull)
            os.waitpid(pid, 0)
            times[i].append((time.monotonic_ns() - t0) / 1e6)
    base = statistics.median(times[0])
    print(f"{rounds} rounds, interleaved")
    for argv, t in zip(cmds, times):
        m = statistics.median(t)
        print(f"{m:8.3f} ms  {m / base:5.2f}x  {shlex.join(argv)}")


if __name__ == "__main__":
    main()
