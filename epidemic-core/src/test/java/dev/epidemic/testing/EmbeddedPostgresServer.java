package dev.epidemic.testing;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of one version for this JVM, from io.zonky binaries that epidemic-core's build
 * unpacks into {@code target/postgres/VERSION/postgres-linux-x86_64.txz}.
 *
 * <p>It runs initdb and pg_ctl itself rather than through zonky's EmbeddedPostgres, which runs initdb as
 * the current user: initdb refuses root, and tests here run as root. As root, the server is run as the
 * unprivileged {@code postgres} account (or {@code nobody}), through {@code runuser}.
 *
 * <p>The data directory lives in the temporary directory, named after this JVM's pid; a shutdown hook
 * stops the server (immediate mode: nothing in it is worth a checkpoint) and deletes it. A server left by
 * a JVM that was killed is stopped and deleted by the next one that starts a server.
 */
final class EmbeddedPostgresServer {
    private static final String ARCHIVE = "postgres-linux-x86_64.txz";
    private static final Pattern DATA_DIRECTORY = Pattern.compile("epidemic-test-pg[0-9]+-([0-9]+)-[0-9]+");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(90);

    private final String version;
    private final Path data;
    private final String runAs;
    private final int port;

    private EmbeddedPostgresServer(String version, Path data, String runAs, int port) {
        this.version = version;
        this.data = data;
        this.runAs = runAs;
        this.port = port;
    }

    /**
     * Starts the server of {@code version} (a binaries version, e.g. 17.6.0) found under {@code binaries};
     * fails, never skips, when it cannot: a version that does not start is a broken test setup.
     */
    static EmbeddedPostgresServer start(Path binaries, String version) {
        Path installation = binaries.resolve(version);
        try {
            Path bin = installed(installation).resolve("bin");
            String runAs = unprivilegedUserIfRoot();
            stopServersOfFinishedRuns();
            String major = version.substring(0, version.indexOf('.'));
            Path data = Files.createTempDirectory("epidemic-test-pg" + major + "-" + ProcessHandle.current().pid() + "-");
            if (runAs != null) {
                UserPrincipalLookupService users = data.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(data, users.lookupPrincipalByName(runAs));
            }
            int port = freePort();
            EmbeddedPostgresServer server = new EmbeddedPostgresServer(version, data, runAs, port);
            Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "stop-postgres-" + version));
            server.run(bin.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
            Files.writeString(data.resolve("postgresql.conf"), String.join("\n", "",
                    "# epidemic tests",
                    "listen_addresses = '127.0.0.1'",
                    "port = " + port,
                    "unix_socket_directories = ''",
                    "fsync = off",
                    "max_connections = 100",
                    ""), StandardOpenOption.APPEND);
            try {
                server.run(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", data.resolve("server.log").toString(),
                        "-w", "-t", "60", "start");
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + "\nserver log:\n" + server.log(), e);
            }
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL " + version + " from " + installation, e);
        }
    }

    String hostPort() {
        return "127.0.0.1:" + port;
    }

    /** The installation extracted from the unpacked archive, once: later runs of the build reuse it. */
    private static synchronized Path installed(Path installation) throws IOException {
        Path extracted = installation.resolve("pg");
        if (Files.isRegularFile(extracted.resolve("bin/postgres"))) {
            return extracted;
        }
        Path archive = installation.resolve(ARCHIVE);
        if (!Files.isRegularFile(archive)) {
            throw new IllegalStateException("no " + archive + ": epidemic-core's build unpacks it (maven-dependency-plugin, in"
                    + " generate-test-resources); run the tests through Maven, e.g. mvn verify -pl epidemic-core -am");
        }
        Path partial = Files.createTempDirectory(installation, "pg-extracting-");
        try (InputStream in = new XZCompressorInputStream(new BufferedInputStream(Files.newInputStream(archive)));
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                Path target = partial.resolve(entry.getName()).normalize();
                if (!target.startsWith(partial)) {
                    throw new IOException("archive entry outside its directory: " + entry.getName());
                }
                Files.createDirectories(entry.isDirectory() ? target : target.getParent());
                if (entry.isDirectory()) {
                    continue;
                }
                if (entry.isSymbolicLink()) {
                    Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.createLink(target, partial.resolve(entry.getLinkName()));
                } else {
                    Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, permissions(entry.getMode()));
                }
            }
        }
        // Whoever the server runs as must be able to read and run every file.
        try (Stream<Path> directories = Files.walk(partial)) {
            for (Path directory : directories.filter(Files::isDirectory).toList()) {
                Files.setPosixFilePermissions(directory, permissions(0755));
            }
        }
        try {
            Files.move(partial, extracted, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException raced) {
            if (!Files.isRegularFile(extracted.resolve("bin/postgres"))) {
                throw raced;
            }
            delete(partial); // another JVM extracted it first
        }
        return extracted;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ ... OTHERS_EXECUTE, most significant first
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << (bits.length - 1 - i))) != 0) {
                permissions.add(bits[i]);
            }
        }
        return permissions;
    }

    /** Null when not root; else the account the server runs as, since initdb and postgres refuse root. */
    private static String unprivilegedUserIfRoot() throws IOException {
        if (!Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
            return null;
        }
        UserPrincipalLookupService users = Path.of("/").getFileSystem().getUserPrincipalLookupService();
        for (String user : List.of("postgres", "nobody")) {
            try {
                users.lookupPrincipalByName(user);
                return user;
            } catch (UserPrincipalNotFoundException absent) {
                // try the next one
            }
        }
        throw new IllegalStateException("running as root, and there is neither a postgres nor a nobody account to run PostgreSQL as");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Servers of JVMs that are gone (killed before their shutdown hook ran): stopped, and their data deleted. */
    private static void stopServersOfFinishedRuns() throws IOException {
        Path temp = Path.of(System.getProperty("java.io.tmpdir"));
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> entries = Files.list(temp)) {
            entries.forEach(entry -> {
                Matcher m = DATA_DIRECTORY.matcher(entry.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(p -> !p.isAlive()).orElse(true)) {
                    stale.add(entry);
                }
            });
        }
        for (Path data : stale) {
            try {
                String owner = Files.getOwner(data).getName();
                String runAs = owner.equals(System.getProperty("user.name")) ? null : owner;
                Path pgCtl = pgCtlOf(data);
                if (pgCtl != null && Files.exists(data.resolve("postmaster.pid"))) {
                    new EmbeddedPostgresServer("stale", data, runAs, 0).run(pgCtl.toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
                }
                delete(data);
            } catch (IOException | RuntimeException e) {
                System.err.println("could not remove the test server of a finished run, " + data + ": " + e.getMessage());
            }
        }
    }

    /** The pg_ctl of the installation that made {@code data}, from the path the server recorded at start. */
    private static Path pgCtlOf(Path data) throws IOException {
        Path opts = data.resolve("postmaster.opts"); // "/path/to/bin/postgres" "-D" ...
        if (!Files.isRegularFile(opts)) {
            return null;
        }
        String line = Files.readString(opts, StandardCharsets.UTF_8);
        int end = line.indexOf(' ');
        String postgres = (end < 0 ? line : line.substring(0, end)).replace("\"", "").strip();
        Path pgCtl = Path.of(postgres).resolveSibling("pg_ctl");
        return Files.isExecutable(pgCtl) ? pgCtl : null;
    }

    private void stop() {
        try {
            Path pgCtl = pgCtlOf(data);
            if (pgCtl != null) {
                run(pgCtl.toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("could not stop PostgreSQL " + version + " in " + data + ": " + e.getMessage());
        }
        try {
            delete(data);
        } catch (IOException e) {
            System.err.println("could not delete " + data + ": " + e.getMessage());
        }
    }

    /** Runs a PostgreSQL program as the server's account; fails with its output unless it exits 0. */
    private void run(String... command) {
        List<String> full = new ArrayList<>();
        if (runAs != null) {
            full.addAll(List.of("runuser", "-u", runAs, "--"));
        }
        full.addAll(List.of(command));
        Path output = null;
        try {
            // To a file, not a pipe: pg_ctl start leaves a server behind that must not hold our end open.
            output = Files.createTempFile("epidemic-test-pg-command", ".log");
            Process process = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            boolean finished = process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!finished) {
                process.destroyForcibly();
            }
            String printed = Files.readString(output, StandardCharsets.UTF_8);
            if (!finished) {
                throw new IllegalStateException(String.join(" ", full) + " did not finish within " + COMMAND_TIMEOUT + ":\n" + printed);
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", full) + " exited " + process.exitValue() + ":\n" + printed);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", full), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", full), e);
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }

    private String log() {
        try {
            return Files.readString(data.resolve("server.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(none: " + e.getMessage() + ")";
        }
    }

    private static void delete(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }
}
