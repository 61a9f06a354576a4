package dev.epidemic.chaos;

import dev.epidemic.api.BackfillStatus;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.EpidemicException;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The backfill under test, run as a JVM of its own so that it can be killed with SIGKILL: {@code
 * EpidemicAdmin.backfill} of the watched table to the chaos consumer, with the same arguments every time,
 * so that each new instance resumes where the killed one stopped. It appends {@code begin ROWS MILLIS} when
 * it has its backfill and {@code chunk ROWS MILLIS} after each chunk to its progress file, and exits 0 when
 * the backfill is finished.
 *
 * <p>Arguments: JDBC URL, Epidemic's schema, table, consumer, chunk size, progress file.
 */
public final class ChaosBackfill {
    /** Exit code of an instance whose backfill is done. */
    static final int FINISHED = 0;
    /** How long an instance waits for the consumer to exist, and for a killed instance's session to end. */
    private static final long WAIT_MILLIS = 120_000;

    private ChaosBackfill() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String schema = args[1];
        String table = args[2];
        String consumer = args[3];
        int chunk = Integer.parseInt(args[4]);
        try (OutputStream progress = new FileOutputStream(Path.of(args[5]).toFile(), true)) {
            EpidemicAdmin admin = EpidemicAdmin.create(url, null, null, schema);
            long deadline = System.currentTimeMillis() + WAIT_MILLIS;
            boolean[] begun = {false};
            while (true) {
                try {
                    BackfillStatus status = admin.backfill(table, List.of(consumer), null, chunk, s -> {
                        write(progress, (begun[0] ? "chunk " : "begin ") + s.rowsDone() + " " + System.currentTimeMillis() + "\n");
                        begun[0] = true;
                    });
                    System.exit(status.finished() ? FINISHED : 1);
                } catch (EpidemicException e) {
                    // The consumer JVM has not registered its consumer yet, or the session of a killed instance
                    // still holds the backfill (until the server sees its connection gone): both pass.
                    String message = String.valueOf(e.getMessage());
                    boolean passes = message.contains("consumer " + consumer + " does not exist")
                            || message.contains("is being run by another session");
                    if (!passes || System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
        }
    }

    private static void write(OutputStream out, String text) {
        try {
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
