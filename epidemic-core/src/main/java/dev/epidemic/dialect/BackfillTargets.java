package dev.epidemic.dialect;

import dev.epidemic.api.InvalidInputException;

import java.util.List;

/** Which consumers a backfill goes to: the same rule on every database. */
public final class BackfillTargets {
    private BackfillTargets() {
    }

    /**
     * The consumers that receive a backfill of {@code table}: those {@code requested} (each must be among
     * {@code existing}), or, when none was requested (null), every consumer that exists now (at least one).
     */
    public static List<String> resolve(List<String> existing, List<String> requested, String table) {
        if (requested == null) {
            if (existing.isEmpty()) {
                throw new InvalidInputException("no consumer exists to receive the backfill of " + table
                        + "; name one with --consumer, or start a new one with: epidemic tail --consumer NAME --from snapshot");
            }
            return List.copyOf(existing);
        }
        for (String name : requested) {
            if (!existing.contains(name)) {
                throw new InvalidInputException("consumer " + name + " does not exist; a new consumer takes the rows with: epidemic tail --consumer "
                        + name + " --from snapshot");
            }
        }
        return requested;
    }
}
