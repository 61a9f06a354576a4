package dev.epidemic.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Per fault kind: how many were injected and how long the consumer took to deliver again after each. */
public final class Recoveries {
    private final Map<Fault, List<Long>> millis = new EnumMap<>(Fault.class);
    private final Map<Fault, Integer> unrecovered = new EnumMap<>(Fault.class);

    synchronized void recovered(Fault fault, long recoveryMillis) {
        millis.computeIfAbsent(fault, f -> new ArrayList<>()).add(recoveryMillis);
    }

    synchronized void unrecovered(Fault fault) {
        unrecovered.merge(fault, 1, Integer::sum);
    }

    /** Injected faults of a kind, recovered or not. */
    public synchronized int count(Fault fault) {
        return millis.getOrDefault(fault, List.of()).size() + unrecovered.getOrDefault(fault, 0);
    }

    public synchronized int unrecovered() {
        return unrecovered.values().stream().mapToInt(Integer::intValue).sum();
    }

    public synchronized long median(Fault fault) {
        List<Long> sorted = sorted(fault);
        return sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2);
    }

    public synchronized long max(Fault fault) {
        List<Long> sorted = sorted(fault);
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1);
    }

    private List<Long> sorted(Fault fault) {
        List<Long> sorted = new ArrayList<>(millis.getOrDefault(fault, List.of()));
        Collections.sort(sorted);
        return sorted;
    }
}
