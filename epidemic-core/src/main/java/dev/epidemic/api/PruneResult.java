package dev.epidemic.api;

/**
 * What {@code prune} removed and what it had to keep.
 *
 * @param deleted   changes removed from the log (every consumer had passed them)
 * @param retained  changes kept because at least one consumer has not passed them yet, or because
 *                  no consumer exists yet
 * @param consumers how many consumers were taken into account
 */
public record PruneResult(long deleted, long retained, int consumers) {
}
