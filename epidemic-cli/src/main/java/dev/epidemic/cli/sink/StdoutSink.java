package dev.epidemic.cli.sink;

import dev.epidemic.api.Change;
import dev.epidemic.api.ChangeHandler;
import dev.epidemic.format.ChangeFormat;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * Prints each change as one JSON line (as {@code epidemic tail} does, in the configured format) and flushes it. Consumers
 * share one writer, whose lock keeps their lines whole; a line that could not be written fails the
 * change, so that its position is not stored past it.
 */
public final class StdoutSink implements ChangeHandler {
    private final PrintWriter out;
    private final ChangeFormat format;

    public StdoutSink(PrintWriter out, ChangeFormat format) {
        this.out = out;
        this.format = format;
    }

    @Override
    public void onInsert(Change change) throws IOException {
        print(change);
    }

    @Override
    public void onUpdate(Change change) throws IOException {
        print(change);
    }

    @Override
    public void onDelete(Change change) throws IOException {
        print(change);
    }

    @Override
    public void onTruncate(Change change) throws IOException {
        print(change);
    }

    private void print(Change change) throws IOException {
        String line = format.value(change);
        boolean failed;
        synchronized (out) {
            out.println(line);
            failed = out.checkError(); // flushes, then reports any failure of this or an earlier write
        }
        if (failed) {
            throw new IOException("cannot write change " + change.id() + " to standard output");
        }
    }
}
