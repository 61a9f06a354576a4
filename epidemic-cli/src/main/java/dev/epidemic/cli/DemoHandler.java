package dev.epidemic.cli;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The demo's view of delivery: prints each change as it reaches the mail-server handler, then hands it
 * over, and prints the handler's refusal when it throws (the engine then retries, or dead-letters).
 */
final class DemoHandler implements ChangeHandler {
    private final ChangeHandler handler;
    private final PrintWriter out;
    private final Map<Long, Integer> attempts = new LinkedHashMap<>(); // the dispatcher's thread only

    DemoHandler(ChangeHandler handler, PrintWriter out) {
        this.handler = handler;
        this.out = out;
    }

    /** Deliveries so far, retries included. */
    synchronized int deliveries() {
        return attempts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** Distinct changes received so far. */
    synchronized int changes() {
        return attempts.size();
    }

    @Override
    public void onInsert(Change change) throws Exception {
        deliver(change, () -> handler.onInsert(change));
    }

    @Override
    public void onUpdate(Change change) throws Exception {
        deliver(change, () -> handler.onUpdate(change));
    }

    @Override
    public void onDelete(Change change) throws Exception {
        deliver(change, () -> handler.onDelete(change));
    }

    /** A backfill's READ goes to the handler's own onRead (which, by default, does what its onInsert does). */
    @Override
    public void onRead(Change change) throws Exception {
        deliver(change, () -> handler.onRead(change));
    }

    @Override
    public void onTruncate(Change change) throws Exception {
        deliver(change, () -> handler.onTruncate(change));
    }

    private interface Delivery {
        void run() throws Exception;
    }

    private void deliver(Change change, Delivery delivery) throws Exception {
        int attempt;
        synchronized (this) {
            attempt = attempts.merge(change.id(), 1, Integer::sum);
        }
        out.println(attempt == 1 ? "   received " + ChangeLine.describe(change) : "   received #" + change.id() + " again (attempt " + attempt + ")");
        try {
            delivery.run();
        } catch (Exception e) {
            out.println(attempt == 1 ? "   refused: " + EpidemicCommand.firstLine(e.getMessage()) : "   refused again");
            throw e;
        }
    }
}
