package dev.epidemic.examples.mail;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The mail directories under one root, laid out as a Dovecot or Courier virtual-mailbox setup expects:
 *
 * <pre>
 * &lt;root&gt;/&lt;gid&gt;/&lt;username&gt;/
 *     Maildir/cur/ new/ tmp/      the messages
 *     Maildir/maildirsize         Maildir++ quota: first line "&lt;bytes&gt;S", then usage lines
 *     dba                         the name the account does business as
 * </pre>
 *
 * <p>Every operation is idempotent, because changes are delivered at least once: provisioning an
 * existing mailbox only rewrites its two files, moving a mailbox that was already moved provisions the
 * target, removing a missing one does nothing. Files are replaced atomically (written aside, then
 * renamed), so a crash never leaves half a quota file. No path is used before it was checked to lie
 * under the root.
 */
public final class Mailboxes {
    static final String MAILDIR = "Maildir";
    static final String QUOTA_FILE = "maildirsize";
    static final String DBA_FILE = "dba";

    private final Path root;

    public Mailboxes(Path root) {
        this.root = root.toAbsolutePath().normalize();
        if (Files.exists(this.root) && !Files.isDirectory(this.root)) {
            throw new IllegalArgumentException("the mail root " + this.root + " is not a directory");
        }
    }

    public Path root() {
        return root;
    }

    /** Where {@code user}'s mailbox lives. */
    public Path mailbox(MailUser user) throws RefusedRowException {
        Path gidDirectory = root.resolve(Long.toString(user.gid()));
        Path mailbox = gidDirectory.resolve(user.username()).normalize();
        // MailUser already allows only safe names; this guards the layout itself against a future mistake.
        if (!mailbox.getParent().equals(gidDirectory)) {
            throw new RefusedRowException("username '" + user.username() + "' would leave the mail root " + root);
        }
        return mailbox;
    }

    /** Creates {@code user}'s mailbox if missing and (re)writes its quota and dba files. */
    public void provision(MailUser user) throws IOException, RefusedRowException {
        Path maildir = mailbox(user).resolve(MAILDIR);
        for (String sub : List.of("cur", "new", "tmp")) {
            Files.createDirectories(maildir.resolve(sub));
        }
        writeQuota(maildir.resolve(QUOTA_FILE), user.quotaBytes());
        Path dbaFile = mailbox(user).resolve(DBA_FILE);
        if (user.dba() == null) {
            Files.deleteIfExists(dbaFile);
        } else {
            replace(dbaFile, user.dba() + "\n");
        }
    }

    /**
     * Moves the mailbox at {@code from} (null when there can be none) to {@code to}'s place and
     * provisions it. When both exist (a redelivered INSERT re-created the old one after the move, or an
     * old mailbox of the new name was left behind) the messages are merged into the target: Maildir
     * file names are unique, so a name present in both is the same message and nothing is lost.
     */
    public void move(Path from, MailUser to) throws IOException, RefusedRowException {
        Path target = mailbox(to);
        if (from != null && !from.equals(target) && Files.isDirectory(from)) {
            if (Files.exists(target)) {
                mergeInto(from, target);
            } else {
                Files.createDirectories(target.getParent());
                Files.move(from, target, StandardCopyOption.ATOMIC_MOVE);
            }
            removeIfEmpty(from.getParent());
        }
        provision(to);
    }

    /** Deletes the mailbox at {@code mailbox} with everything in it; nothing when it is missing. */
    public void remove(Path mailbox) throws IOException {
        deleteTree(mailbox);
        removeIfEmpty(mailbox.getParent());
    }

    /** Deletes every mailbox: the {@code <gid>} directories under the root, and nothing else there. */
    public void removeAll() throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        List<Path> gidDirectories = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                if (entry.getFileName().toString().matches("[0-9]+") && Files.isDirectory(entry)) {
                    gidDirectories.add(entry);
                }
            }
        }
        for (Path gidDirectory : gidDirectories) {
            deleteTree(gidDirectory);
        }
    }

    /** Maildir++ keeps usage lines after the quota line; they are kept, only the quota line changes. */
    private static void writeQuota(Path file, Long quotaBytes) throws IOException {
        if (quotaBytes == null) {
            Files.deleteIfExists(file);
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add(quotaBytes + "S");
        if (Files.exists(file)) {
            List<String> existing = Files.readAllLines(file, UTF_8);
            lines.addAll(existing.subList(Math.min(1, existing.size()), existing.size()));
        }
        replace(file, String.join("\n", lines) + "\n");
    }

    private static void replace(Path file, String content) throws IOException {
        if (Files.exists(file) && Files.readString(file, UTF_8).equals(content)) {
            return;
        }
        Path aside = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(aside, content, UTF_8);
            Files.move(aside, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(aside);
        }
    }

    private static void mergeInto(Path source, Path target) throws IOException {
        List<Path> files = new ArrayList<>();
        try (var walk = Files.walk(source)) {
            walk.filter(Files::isRegularFile).forEach(files::add);
        }
        for (Path file : files) {
            Path destination = target.resolve(source.relativize(file));
            if (!Files.exists(destination)) {
                Files.createDirectories(destination.getParent());
                Files.move(file, destination, StandardCopyOption.ATOMIC_MOVE);
            }
        }
        deleteTree(source);
    }

    /** Deletes a tree without following symbolic links: a link inside it is removed, not what it points to. */
    private static void deleteTree(Path top) throws IOException {
        if (!Files.exists(top, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException failure) throws IOException {
                if (failure != null) {
                    throw failure;
                }
                Files.deleteIfExists(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** An empty {@code <gid>} directory is tidied away; the root itself always stays. */
    private void removeIfEmpty(Path directory) throws IOException {
        if (directory == null || directory.equals(root) || !directory.startsWith(root)) {
            return;
        }
        try {
            Files.deleteIfExists(directory);
        } catch (DirectoryNotEmptyException | NoSuchFileException stillInUse) {
            // other mailboxes of this gid remain
        }
    }
}
