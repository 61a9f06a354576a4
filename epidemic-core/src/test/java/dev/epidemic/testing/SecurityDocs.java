package dev.epidemic.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The grants docs/security.md lists, read from the file, so that the permission tests follow the documentation. */
public final class SecurityDocs {
    private SecurityDocs() {
    }

    /**
     * The GRANT statements of the first {@code sql} block after the heading {@code section} (a line starting
     * with it), comments and final semicolons removed, each placeholder of {@code replacements} replaced.
     */
    public static List<String> grants(String section, Map<String, String> replacements) {
        String docs;
        try {
            docs = Files.readString(Path.of("..", "docs", "security.md"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read docs/security.md", e);
        }
        Matcher block = Pattern.compile("(?m)^" + Pattern.quote(section) + ".*?```sql\\n(.*?)```", Pattern.DOTALL).matcher(docs);
        if (!block.find()) {
            throw new IllegalStateException("no sql block after " + section + " in docs/security.md");
        }
        List<String> grants = new ArrayList<>();
        for (String line : block.group(1).split("\\n")) {
            String statement = line.replaceAll("--.*$", "").strip();
            if (statement.startsWith("GRANT")) {
                for (Map.Entry<String, String> r : replacements.entrySet()) {
                    statement = statement.replace(r.getKey(), r.getValue());
                }
                grants.add(statement.replaceAll(";$", ""));
            }
        }
        if (grants.isEmpty()) {
            throw new IllegalStateException("no GRANT after " + section + " in docs/security.md");
        }
        return grants;
    }
}
