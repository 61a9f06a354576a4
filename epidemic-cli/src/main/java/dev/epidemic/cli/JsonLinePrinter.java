package dev.epidemic.cli;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.format.ChangeFormat;

import java.io.PrintWriter;

/**
 * Prints each change as one JSON line, in the chosen format, and flushes it. Returning normally is what lets the engine store
 * the position past a change, so a change whose line could not be written makes it throw instead.
 */
final class JsonLinePrinter implements ChangeHandler.EveryChange {
    private final PrintWriter out;
    private final ChangeFormat format;
    private final long max;
    private final Stopper stopper;
    private long printed;
    private volatile Long failedChange;

    /**
     * @param max stop after this many lines; 0 for no limit
     */
    JsonLinePrinter(PrintWriter out, ChangeFormat format, long max, Stopper stopper) {
        this.out = out;
        this.format = format;
        this.max = max;
        this.stopper = stopper;
    }

    @Override
    public void accept(Change change) {
        out.println(format.value(change));
        if (out.checkError()) { // flushes, then reports any failure of this or an earlier write
            failedChange = change.id();
            stopper.requestStop();
            throw new EpidemicException("cannot write change " + change.id() + " to standard output");
        }
        if (++printed == max) {
            stopper.requestStop();
        }
    }

    /** The id of the change that could not be written, or null. */
    Long failedChange() {
        return failedChange;
    }
}
