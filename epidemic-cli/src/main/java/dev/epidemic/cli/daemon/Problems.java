package dev.epidemic.cli.daemon;

import java.util.ArrayList;
import java.util.List;

/** Collects what is wrong with a configuration, one line per problem, so that all are reported at once. */
final class Problems {
    static final int MASKED_LENGTH = 4;
    private final List<String> lines = new ArrayList<>();

    /** A problem at {@code path} (e.g. {@code consumers[0].name}), or of the whole file when it is empty. */
    void add(String path, String message) {
        lines.add(path == null || path.isEmpty() ? message : path + ": " + message);
    }

    boolean isEmpty() {
        return lines.isEmpty();
    }

    /** Throws every problem found so far, if any. */
    void throwIfAny() {
        throwIfAny(java.util.Set.of());
    }

    /** Throws every problem found so far, if any, with each of {@code secrets} masked wherever a message quotes it. */
    void throwIfAny(java.util.Set<String> secrets) {
        if (!lines.isEmpty()) {
            throw new InvalidConfigException(lines.stream().map(line -> mask(line, secrets)).toList());
        }
    }

    private static String mask(String line, java.util.Set<String> secrets) {
        String result = line;
        for (String secret : secrets) {
            if (secret.length() < MASKED_LENGTH) {
                continue; // masking one or two letters everywhere would garble every message, and hide nothing
            }
            result = result.replace(secret, "***");
        }
        return result;
    }

    List<String> lines() {
        return List.copyOf(lines);
    }

    static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }
}
