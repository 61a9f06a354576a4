package dev.epidemic.chaos;

/**
 * What was delivered, measured against what committed.
 *
 * @param committedChanges      changes the truth says committed
 * @param committedTransactions transactions that committed with at least one change
 * @param deliveredLines        change lines the consumer wrote, redeliveries included
 * @param deliveredDistinct     distinct changes (by change id) delivered
 * @param missing               committed changes never delivered (must be 0)
 * @param duplicates            deliveries of a change already delivered (allowed: at least once)
 * @param rolledBackDelivered   delivered changes of transactions that did not commit (must be 0)
 * @param unexpected            delivered changes of committed transactions that the truth does not know (must be 0)
 * @param orderViolations       changes of a row delivered (first) after a later change of that row (must be 0)
 * @param splitTransactions     transactions whose changes were not delivered together (must be 0)
 * @param medianLagMillis       commit to first delivery, median over transactions
 * @param p99LagMillis          the same, 99th percentile
 * @param peakLagMillis         the same, maximum
 */
public record DeliveryFigures(long committedChanges, long committedTransactions, long deliveredLines, long deliveredDistinct,
                              long missing, long duplicates, long rolledBackDelivered, long unexpected, long orderViolations,
                              long splitTransactions, long medianLagMillis, long p99LagMillis, long peakLagMillis) {

    /** True when nothing was lost, invented, reordered or split. */
    public boolean clean() {
        return missing == 0 && rolledBackDelivered == 0 && unexpected == 0 && orderViolations == 0 && splitTransactions == 0;
    }
}
