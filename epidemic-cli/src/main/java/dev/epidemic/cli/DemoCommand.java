package dev.epidemic.cli;

import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.examples.mail.MailUsersHandler;
import dev.epidemic.examples.mail.MailUsersTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code epidemic demo}: the mail-server example end to end. It starts an embedded PostgreSQL (or uses
 * --url), creates {@code mail_users}, runs the mail-server handler, makes a scripted series of changes
 * and prints each change received and the mail directories it produced; then it removes everything it
 * made and exits 0.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the mail-server example: rows of a mail_users table create, resize, rename and remove mail directories.",
                "Without --url it starts an embedded PostgreSQL (a few seconds); with --url it works in schemas of its own"
                        + " (" + DemoDatabase.TABLE_SCHEMA + ", " + DemoDatabase.LOG_SCHEMA + ") and drops them at the end.",
                "$EPIDEMIC_URL is not used: the demo touches only a database named on its command line."})
final class DemoCommand implements Callable<Integer> {
    private static final String CONSUMER = "mail-server-demo";
    private static final String QUIET_LOGGER = "org.slf4j.simpleLogger.log.dev.epidemic.engine.Dispatcher";
    private static final Duration CATCH_UP = Duration.ofSeconds(30);
    // Short waits: a demo should not sit still. (The refused row is not retried at all: it is rejected.)
    private static final FailurePolicy POLICY = FailurePolicy.deadLetterAfter(3).withBackoff(Duration.ofMillis(20), Duration.ofMillis(100));

    @ParentCommand
    EpidemicCommand epidemic;

    @Spec
    CommandSpec spec;

    @Option(names = "--root", paramLabel = "DIR",
            description = "The mail root to write the mail directories under, kept afterwards (default: a temporary directory, removed).")
    Path root;

    private volatile boolean interrupted;

    @Override
    public Integer call() throws Exception {
        if (epidemic.schema != null) {
            throw new InvalidInputException("demo keeps its log in a schema of its own (" + DemoDatabase.LOG_SCHEMA + "); leave out --schema");
        }
        if (!epidemic.verbose) {
            // The refused row and its dead letter are the demo's point, told on stdout; the engine's
            // error about it on stderr would only repeat it, interleaved. --verbose shows it.
            System.setProperty(QUIET_LOGGER, "off");
        }
        PrintWriter out = spec.commandLine().getOut();
        long started = System.nanoTime();
        out.println("Epidemic demo: a mail server whose mail directories follow the rows of its mail_users table.");
        Path temporary = root == null ? Files.createTempDirectory("epidemic-demo-") : null;
        Path mailRoot = root != null ? root.toAbsolutePath() : temporary.resolve("vhosts");
        try (StopOnSignal signals = StopOnSignal.install(() -> interrupted = true)) {
            if (epidemic.url == null) {
                out.println("Starting an embedded PostgreSQL (the first run unpacks it; a few seconds)...");
                out.flush();
            }
            try (DemoDatabase database = epidemic.url == null ? DemoDatabase.embedded() : DemoDatabase.given(epidemic.database())) {
                out.println("Database: " + database.describe());
                run(database, mailRoot, out);
                out.println();
                out.println(epidemic.url == null ? "Stopping the embedded PostgreSQL." : "Dropping the schemas "
                        + DemoDatabase.TABLE_SCHEMA + " and " + DemoDatabase.LOG_SCHEMA + ": the database is as it was.");
            }
        } finally {
            if (temporary != null) {
                deleteTree(temporary);
            }
        }
        out.println(temporary != null ? "Removed the temporary directory " + temporary + "."
                : "The mail directories are left in " + mailRoot + ".");
        out.printf(Locale.ROOT, "Done in %.1f s.%n", (System.nanoTime() - started) / 1e9);
        return EpidemicCommand.OK;
    }

    private void run(DemoDatabase database, Path mailRoot, PrintWriter out) throws InterruptedException {
        database.createSchemas(List.of(MailUsersTable.createStatement()));
        String table = DemoDatabase.TABLE_SCHEMA + "." + MailUsersHandler.TABLE;
        out.println("Created " + table + "; the mail-server handler watches " + String.join(", ", MailUsersHandler.COLUMNS)
                + " and writes under " + mailRoot);
        DemoHandler handler = new DemoHandler(new MailUsersHandler(mailRoot), out);
        Database db = database.database();
        EpidemicAdmin admin = EpidemicAdmin.create(db.url(), db.user(), db.password(), db.schema());
        try (Epidemic engine = Epidemic.builder(db.url(), db.user(), db.password()).schema(db.schema())
                .consumer(CONSUMER)
                .handle(table, MailUsersHandler.COLUMNS, handler, POLICY)
                .build()
                .start()) {
            List<String> previousTree = null;
            int step = 0;
            for (DemoScript.Step s : DemoScript.STEPS) {
                if (interrupted) {
                    out.println("Interrupted: cleaning up.");
                    return;
                }
                out.println();
                out.println(++step + ". " + s.title());
                s.sql().forEach(sql -> out.println("   > " + sql));
                int before = handler.deliveries();
                database.execute(s.sql());
                awaitCaughtUp(engine, admin);
                if (handler.deliveries() == before) {
                    out.println("   (nothing received)");
                }
                List<String> tree = DirectoryTree.render(mailRoot);
                if (tree.equals(previousTree)) {
                    out.println("   (the mail directories are unchanged)");
                } else {
                    tree.forEach(line -> out.println("   " + line));
                }
                previousTree = tree;
            }
            List<DeadLetter> deadLetters = admin.deadLetters(CONSUMER);
            out.println();
            int retries = handler.deliveries() - handler.changes();
            out.println("Received " + handler.changes() + " changes" + (retries == 0 ? "" : " and " + retries + " retries") + "; "
                    + deadLetters.size() + " kept as a dead letter while the consumer went on:");
            deadLetters.forEach(dead -> out.println("   " + ChangeLine.describe(dead.change())
                    + ", after " + dead.attempts() + (dead.attempts() == 1 ? " attempt" : " attempts")));
        }
    }

    /** Waits until the consumer has stored its position past everything committed so far. */
    private void awaitCaughtUp(Epidemic engine, EpidemicAdmin admin) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (!interrupted) {
            if (engine.failure() != null) {
                throw new EpidemicException("the demo's consumer stopped: " + engine.failure().getMessage(), engine.failure());
            }
            boolean caughtUp = admin.status().stream().filter(status -> status.name().equals(CONSUMER)).allMatch(status -> status.pending() == 0);
            if (caughtUp) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new EpidemicException("the demo's consumer did not catch up within " + CATCH_UP.toSeconds() + " s");
            }
            Thread.sleep(20); // polling the consumer's stored position: there is nothing to wake on
        }
    }

    private static void deleteTree(Path top) {
        if (!Files.exists(top)) {
            return;
        }
        try {
            Files.walkFileTree(top, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path directory, IOException failure) throws IOException {
                    Files.delete(directory);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the temporary mail root " + top, e);
        }
    }
}
