package dev.epidemic.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads a process's peak resident set size (VmHWM) from Linux's /proc; -1 where there is no /proc. */
final class ProcessMemory {
    private ProcessMemory() {
    }

    static long vmHwmKb(Path status) throws IOException {
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** The last VmHWM seen of a process that may exit at any moment. */
    static long vmHwmKbOrLast(long pid, long last) {
        try {
            long now = vmHwmKb(Path.of("/proc/" + pid + "/status"));
            return Math.max(now, last);
        } catch (IOException | RuntimeException gone) {
            return last;
        }
    }
}
