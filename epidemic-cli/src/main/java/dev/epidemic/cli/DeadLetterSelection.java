package dev.epidemic.cli;

import dev.epidemic.api.InvalidInputException;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * Which dead letters {@code replay} and {@code drop} act on: the ones named by {@code --id}, or all of a
 * consumer's ({@code --consumer C} without ids), or all of every consumer's ({@code --all}). Acting on
 * all needs saying so, so that a forgotten id does not replay or drop everything.
 */
final class DeadLetterSelection {
    @Option(names = "--consumer", paramLabel = "NAME", description = "The consumer whose dead letters these are; alone: all of them.")
    String consumer;

    @Option(names = "--id", paramLabel = "N", description = "A dead letter's id (from 'dead list'); repeatable.")
    List<Long> ids = new ArrayList<>();

    @Option(names = "--all", description = "Every dead letter (of --consumer, if given, else of every consumer).")
    boolean all;

    /** The ids, checked: empty means every dead letter of {@link #consumer()} (all consumers when null). */
    List<Long> ids() {
        if (!ids.isEmpty() && all) {
            throw new InvalidInputException("--all and --id exclude each other; give one of them");
        }
        if (ids.isEmpty() && !all && consumer == null) {
            throw new InvalidInputException("name the dead letters: --id N, --consumer NAME for all of a consumer's, or --all for every one");
        }
        return List.copyOf(ids);
    }

    String consumer() {
        return consumer;
    }

    /** "3 dead letters" or "1 dead letter". */
    static String count(int n) {
        return n + (n == 1 ? " dead letter" : " dead letters");
    }
}
