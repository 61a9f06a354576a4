package dev.epidemic.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The outcome of a run, with its figures. Clean means: every committed change delivered, nothing
 * rolled back delivered, nothing out of order or split, the consumer recovered from every fault, and,
 * when the run had a backfill phase ({@code backfill} not null), the backfill finished and the replica
 * materialized from the deliveries equals the table.
 */
public record Verdict(Duration ran, int writers, long committedTransactions, long rolledBackTransactions, long failedTransactions,
                      DeliveryFigures delivery, Recoveries recoveries, int prunes, int consumerInstances,
                      int unexpectedConsumerExits, String lastUnexpectedError, boolean caughtUp, BackfillFigures backfill) {

    /** A run without a backfill phase. */
    public Verdict(Duration ran, int writers, long committedTransactions, long rolledBackTransactions, long failedTransactions,
                   DeliveryFigures delivery, Recoveries recoveries, int prunes, int consumerInstances,
                   int unexpectedConsumerExits, String lastUnexpectedError, boolean caughtUp) {
        this(ran, writers, committedTransactions, rolledBackTransactions, failedTransactions, delivery, recoveries, prunes,
                consumerInstances, unexpectedConsumerExits, lastUnexpectedError, caughtUp, null);
    }

    public boolean clean() {
        return delivery.clean() && recoveries.unrecovered() == 0 && unexpectedConsumerExits == 0 && caughtUp
                && (backfill == null || backfill.clean());
    }

    /** Why the verdict is not clean, one reason per entry; empty when it is clean. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (delivery.missing() > 0) {
            problems.add(delivery.missing() + " committed changes were never delivered");
        }
        if (delivery.rolledBackDelivered() > 0) {
            problems.add(delivery.rolledBackDelivered() + " changes of rolled-back transactions were delivered");
        }
        if (delivery.unexpected() > 0) {
            problems.add(delivery.unexpected() + " delivered changes match nothing that committed");
        }
        if (delivery.orderViolations() > 0) {
            problems.add(delivery.orderViolations() + " changes of a row were delivered out of order");
        }
        if (delivery.splitTransactions() > 0) {
            problems.add(delivery.splitTransactions() + " transactions were not delivered together");
        }
        if (recoveries.unrecovered() > 0) {
            problems.add("the consumer did not recover from " + recoveries.unrecovered() + " faults in time");
        }
        if (unexpectedConsumerExits > 0) {
            problems.add("the consumer exited by itself " + unexpectedConsumerExits + " times; last error: " + lastUnexpectedError);
        }
        if (!caughtUp) {
            problems.add("the consumer did not catch up after the writers stopped");
        }
        if (backfill != null) {
            if (!backfill.replicaEqualsTable()) {
                problems.add(String.format("the replica is not the table: %,d rows missing, %,d at another version (a stale READ),"
                        + " %,d rows too many", backfill.missing(), backfill.stale(), backfill.extra()));
            }
            if (!backfill.finished()) {
                problems.add("the backfill did not finish");
            }
            if (backfill.unexpectedExits() > 0) {
                problems.add("the backfill exited by itself " + backfill.unexpectedExits() + " times; last error: "
                        + backfill.lastUnexpectedError());
            }
        }
        return problems;
    }

    /** The report, as printed by the command and quoted in docs/reliability.md. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        sb.append("chaos verdict: ").append(clean() ? "CLEAN" : "FAILED").append('\n');
        sb.append(String.format("  ran %d s with %d writers: %,d transactions committed, %,d rolled back, %,d failed by faults%n",
                ran.toSeconds(), writers, committedTransactions, rolledBackTransactions, failedTransactions));
        sb.append(String.format("  committed changes delivered: %,d of %,d (missing: %,d)%n",
                delivery.committedChanges() - delivery.missing(), delivery.committedChanges(), delivery.missing()));
        sb.append(String.format("  duplicates (redelivered after a fault): %,d of %,d lines written%n", delivery.duplicates(), delivery.deliveredLines()));
        sb.append(String.format("  rolled-back changes delivered: %,d%n", delivery.rolledBackDelivered()));
        sb.append(String.format("  unknown changes delivered: %,d%n", delivery.unexpected()));
        sb.append(String.format("  per-row order violations: %,d%n", delivery.orderViolations()));
        sb.append(String.format("  transactions not delivered together: %,d%n", delivery.splitTransactions()));
        if (backfill != null) {
            sb.append(String.format("  replica equals table: %s (%,d rows, %,d READs, %d backfill kills; backfill took %,d ms in %d JVMs)%n",
                    backfill.replicaEqualsTable() ? "yes" : "NO", backfill.tableRows(), backfill.reads(), backfill.kills(),
                    backfill.tookMillis(), backfill.instances()));
        }
        sb.append(String.format("  delivery lag (commit to handler), per transaction: median %,d ms, p99 %,d ms, peak %,d ms%n",
                delivery.medianLagMillis(), delivery.p99LagMillis(), delivery.peakLagMillis()));
        sb.append("  faults and recovery (kill -9: to the new JVM's first delivery; others: to the delivery of a change committed after the fault): median / max\n");
        for (Fault fault : Fault.values()) {
            sb.append(String.format("    %-42s %5d  %,7d ms / %,7d ms%n", fault.description(), recoveries.count(fault),
                    recoveries.median(fault), recoveries.max(fault)));
        }
        sb.append(String.format("  consumer JVMs started: %d; exited by themselves: %d; prunes: %d%n", consumerInstances,
                unexpectedConsumerExits, prunes));
        for (String problem : problems()) {
            sb.append("  PROBLEM: ").append(problem).append('\n');
        }
        return sb.toString();
    }
}
