package dev.epidemic.cli.daemon;

import dev.epidemic.api.InvalidInputException;

import java.util.List;

/**
 * A configuration file the daemon refuses, with every problem found in it: each is one line naming
 * the key's path ({@code consumers[0].tables[1].table: table public.nope does not exist}).
 */
public final class InvalidConfigException extends InvalidInputException {
    private final List<String> problems;

    public InvalidConfigException(List<String> problems) {
        super(problems.isEmpty() ? "invalid configuration" : problems.get(0));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
