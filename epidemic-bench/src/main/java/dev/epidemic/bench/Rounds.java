package dev.epidemic.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Per-round values collected under a key (system, rate, metric), turned into {@link Figure}s at the end. */
final class Rounds {
    private final Map<String, List<Double>> values = new LinkedHashMap<>();
    private final Map<String, List<long[]>> samples = new LinkedHashMap<>();

    void add(String key, double value) {
        values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }

    Figure figure(String key) {
        return Figure.of(values.getOrDefault(key, List.of()));
    }

    boolean has(String key) {
        return values.containsKey(key);
    }

    /** Keeps a round's raw latencies (µs) for the CDF charts. */
    void addSamples(String key, long[] micros) {
        samples.computeIfAbsent(key, k -> new ArrayList<>()).add(micros);
    }

    /** Every round's latencies of {@code key}, merged and sorted. */
    long[] samples(String key) {
        List<long[]> rounds = samples.getOrDefault(key, List.of());
        long[] all = new long[rounds.stream().mapToInt(r -> r.length).sum()];
        int at = 0;
        for (long[] r : rounds) {
            System.arraycopy(r, 0, all, at, r.length);
            at += r.length;
        }
        return Figure.sortedCopy(all);
    }
}
