package dev.epidemic.examples.mail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** What is on disk under a directory, for assertions: every path relative to it, with a file's content. */
final class MailTree {
    private MailTree() {
    }

    /** Directories map to "/", files to their content; an absent directory is empty. */
    static Map<String, String> of(Path root) {
        Map<String, String> tree = new TreeMap<>();
        if (!Files.exists(root)) {
            return tree;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.filter(p -> !p.equals(root)).toList()) {
                String relative = root.relativize(path).toString();
                tree.put(relative, Files.isDirectory(path) ? "/" : Files.readString(path));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return tree;
    }
}
