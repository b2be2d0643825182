"""A process's CPU time and memory, read from /proc (Linux): no dependency, no sampling
overhead in the measured process itself."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (fields 14 and 15 of /proc/<pid>/stat)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        # The command name (field 2) may contain spaces: split after its closing ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


def pin_to_cpu(pid: int, cpu: int) -> bool:
    """Pin ``pid`` to one CPU when the machine has it; False if pinning is not possible."""
    if not hasattr(os, "sched_setaffinity") or cpu >= (os.cpu_count() or 1):
        return False
    os.sched_setaffinity(pid, {cpu})
    return True
