package dev.epidemic.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * Draws a directory as {@code tree} does, for the demo: a small file shows its first line, and a run of
 * empty directories ({@code cur/ new/ tmp/}) shares one line, so that a mailbox fits in a few lines.
 */
final class DirectoryTree {
    private static final int SHOWN_CONTENT = 40;

    private DirectoryTree() {
    }

    static List<String> render(Path root) {
        List<String> lines = new ArrayList<>();
        lines.add(root.getFileName() + "/");
        if (Files.isDirectory(root)) {
            children(root, "", lines);
        }
        return lines;
    }

    private static void children(Path directory, String indent, List<String> lines) {
        List<Path> entries = list(directory);
        List<Path> emptyDirectories = entries.stream().filter(DirectoryTree::isEmptyDirectory).toList();
        List<Object> items = new ArrayList<>();
        if (!emptyDirectories.isEmpty()) {
            items.add(emptyDirectories);
        }
        entries.stream().filter(entry -> !isEmptyDirectory(entry)).forEach(items::add);
        for (int i = 0; i < items.size(); i++) {
            boolean last = i == items.size() - 1;
            String branch = indent + (last ? "└── " : "├── ");
            String deeper = indent + (last ? "    " : "│   ");
            if (items.get(i) instanceof Path entry) {
                if (Files.isDirectory(entry)) {
                    lines.add(branch + entry.getFileName() + "/");
                    children(entry, deeper, lines);
                } else {
                    lines.add(branch + entry.getFileName() + content(entry));
                }
            } else {
                StringBuilder line = new StringBuilder(branch);
                for (Path empty : emptyDirectories) {
                    line.append(empty.getFileName()).append("/ ");
                }
                lines.add(line.toString().stripTrailing());
            }
        }
    }

    private static String content(Path file) {
        try (Stream<String> fileLines = Files.lines(file, UTF_8)) {
            String first = fileLines.findFirst().orElse("");
            if (first.length() > SHOWN_CONTENT) {
                first = first.substring(0, SHOWN_CONTENT) + "...";
            }
            return first.isEmpty() ? "" : "  \"" + first + "\"";
        } catch (IOException | UncheckedIOException unreadable) {
            return "";
        }
    }

    private static boolean isEmptyDirectory(Path path) {
        return Files.isDirectory(path) && list(path).isEmpty();
    }

    private static List<Path> list(Path directory) {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + directory, e);
        }
    }
}
