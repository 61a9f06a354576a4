package dev.epidemic.engine;

import dev.epidemic.api.Change;
import dev.epidemic.api.Operation;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Parallel per-key delivery ({@code parallelism(n)}): a handler's changes of one chunk are split into n
 * lanes by table and primary key and handed over in the lanes at once, each lane in order, so one row's
 * changes keep their order while changes to different rows (even of one transaction) run concurrently.
 * A TRUNCATE touches every row of its table: it is handed over alone, after everything before it and
 * before everything after it. The dispatcher stores the position only after the chunk's every change was
 * handled (or dead-lettered), as with one lane: the stored position is always a prefix all lanes finished.
 */
final class Lanes implements AutoCloseable {
    private final int count;
    private final ExecutorService executor;

    Lanes(int count, String consumer) {
        this.count = count;
        AtomicInteger number = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(count, task -> {
            Thread thread = new Thread(task, "epidemic-" + consumer + "-lane-" + number.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * What a hand-over in lanes achieved, by position in the list handed over: {@code handled} every change
     * that was handled, {@code firstUnhandled} the first that was not (-1: none), {@code failed} the
     * changes of lanes that failed, in order, and {@code cause} the failure of the lane holding
     * {@code firstUnhandled} (null when it stopped because the consumer is stopping).
     */
    record Outcome(List<Integer> handled, int firstUnhandled, List<Integer> failed, Throwable cause) {
    }

    /** A lane's part of one segment: positions in the list handed over, and how it ended. */
    private record LaneRun(List<Integer> positions, int done, Throwable cause) {
    }

    Outcome handOver(Registration registration, List<Change> changes, BooleanSupplier stop) {
        List<Integer> handled = new ArrayList<>();
        int start = 0;
        while (start < changes.size()) {
            // A segment ends before a TRUNCATE, which then is a segment of its own.
            int end = start;
            if (changes.get(start).operation() == Operation.TRUNCATE) {
                end = start + 1;
            } else {
                while (end < changes.size() && changes.get(end).operation() != Operation.TRUNCATE) {
                    end++;
                }
            }
            List<LaneRun> runs = runSegment(registration, changes, start, end, stop);
            int firstUnhandled = -1;
            Throwable cause = null;
            List<Integer> failed = new ArrayList<>();
            for (LaneRun run : runs) {
                handled.addAll(run.positions().subList(0, run.done()));
                if (run.done() < run.positions().size()) {
                    int first = run.positions().get(run.done());
                    if (firstUnhandled < 0 || first < firstUnhandled) {
                        firstUnhandled = first;
                        cause = run.cause();
                    }
                    if (run.cause() != null) {
                        failed.addAll(run.positions().subList(run.done(), run.positions().size()));
                    }
                }
            }
            if (firstUnhandled >= 0) {
                handled.sort(null);
                failed.sort(null);
                return new Outcome(handled, firstUnhandled, failed, cause);
            }
            start = end;
        }
        return new Outcome(handled, -1, List.of(), null);
    }

    /** Hands positions [start, end) over in up to {@code count} lanes at once and waits for all of them. */
    private List<LaneRun> runSegment(Registration registration, List<Change> changes, int start, int end, BooleanSupplier stop) {
        List<List<Integer>> byLane = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byLane.add(new ArrayList<>());
        }
        for (int position = start; position < end; position++) {
            byLane.get(Math.floorMod(laneKey(changes.get(position)), count)).add(position);
        }
        List<Future<LaneRun>> running = new ArrayList<>();
        for (List<Integer> positions : byLane) {
            if (!positions.isEmpty()) {
                List<Change> mine = positions.stream().map(changes::get).toList();
                running.add(executor.submit(() -> {
                    try {
                        return new LaneRun(positions, registration.receive(mine, null, stop), null);
                    } catch (Registration.Failure failure) {
                        return new LaneRun(positions, failure.done, failure.getCause());
                    }
                }));
            }
        }
        List<LaneRun> runs = new ArrayList<>();
        for (Future<LaneRun> run : running) {
            try {
                runs.add(run.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the delivery lanes", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("a delivery lane failed", e.getCause());
            }
        }
        return runs;
    }

    /** Changes to one row (table and key) land in one lane. */
    private static int laneKey(Change change) {
        return Objects.hash(change.table(), change.key());
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
