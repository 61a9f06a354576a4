package dev.epidemic.cli;

import dev.epidemic.api.DeadLetter;
import dev.epidemic.api.Epidemic;
import dev.epidemic.api.EpidemicAdmin;
import dev.epidemic.api.EpidemicException;
import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.InvalidInputException;
import dev.epidemic.api.StartFrom;
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
 * --url), creates {@code mail_users} with users in it, then installs capture and starts the mail-server
 * handler's consumer from a snapshot, so that the users that were there before receive their mail
 * directories through the backfill; then it makes a scripted series of changes. It prints each change
 * received and the mail directories it produced; then it removes everything it made and exits 0.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs the mail-server example: rows of a mail_users table create, resize, rename and remove mail directories;"
                        + " the rows that were there before Epidemic was installed arrive through a backfill, as READs.",
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
        database.createSchemas(List.of(MailUsersTable.createStatement(), DemoScript.EXISTING_USERS));
        String table = DemoDatabase.TABLE_SCHEMA + "." + MailUsersHandler.TABLE;
        out.println("Created " + table + " with three users in it; Epidemic is not installed yet:");
        out.println("   > " + DemoScript.EXISTING_USERS);
        DemoHandler handler = new DemoHandler(new MailUsersHandler(mailRoot), out);
        Database db = database.database();
        EpidemicAdmin admin = EpidemicAdmin.create(db.url(), db.user(), db.password(), db.schema());
        out.println();
        out.println("0. " + DemoScript.EXISTING_TITLE);
        out.println("   installs capture on " + table + " and starts the consumer " + CONSUMER + " from a snapshot"
                + " (StartFrom.SNAPSHOT); the mail-server handler watches " + String.join(", ", MailUsersHandler.COLUMNS)
                + " and writes under " + mailRoot);
        // From a snapshot: the consumer starts at the present, and a backfill logs a READ of every row the
        // table holds for it alone; applied in order with the changes after, they give exactly the table.
        try (Epidemic engine = Epidemic.builder(db.url(), db.user(), db.password()).schema(db.schema())
                .consumer(CONSUMER)
                .startFrom(StartFrom.SNAPSHOT)
                .handle(table, MailUsersHandler.COLUMNS, handler, POLICY)
                .build()
                .start()) {
            List<String> previousTree = showStep(engine, admin, handler, mailRoot, null, () -> { }, out);
            int step = 0;
            for (DemoScript.Step s : DemoScript.STEPS) {
                if (interrupted) {
                    out.println("Interrupted: cleaning up.");
                    return;
                }
                out.println();
                out.println(++step + ". " + s.title());
                s.sql().forEach(sql -> out.println("   > " + sql));
                previousTree = showStep(engine, admin, handler, mailRoot, previousTree, () -> database.execute(s.sql()), out);
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

    /**
     * Runs a step's statements, waits until the consumer has handled everything, then prints the mail
     * directories, or that they are the same as {@code previousTree}; returns them.
     */
    private List<String> showStep(Epidemic engine, EpidemicAdmin admin, DemoHandler handler, Path mailRoot, List<String> previousTree,
                                  Runnable statements, PrintWriter out) throws InterruptedException {
        int before = handler.deliveries();
        statements.run();
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
        return tree;
    }

    /**
     * Waits until the consumer's backfill has logged every row and the consumer has stored its position
     * past everything committed so far.
     */
    private void awaitCaughtUp(Epidemic engine, EpidemicAdmin admin) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (!interrupted) {
            if (engine.failure() != null) {
                throw new EpidemicException("the demo's consumer stopped: " + engine.failure().getMessage(), engine.failure());
            }
            // caughtUpFor() stays zero until the backfill has logged its last row; only then does "nothing
            // pending" mean that the READs were handled, not that they were not logged yet.
            boolean caughtUp = !engine.caughtUpFor().isZero() && admin.status().stream().filter(status -> status.name().equals(CONSUMER)).allMatch(status -> status.pending() == 0);
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
