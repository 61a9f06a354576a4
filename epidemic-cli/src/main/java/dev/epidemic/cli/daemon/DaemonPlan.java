package dev.epidemic.cli.daemon;

import dev.epidemic.api.FailurePolicy;
import dev.epidemic.api.StartFrom;

import java.util.List;
import java.util.Set;

/**
 * A configuration that passed every check, ready to run: handlers instantiated, sinks built, durations
 * and policies parsed. {@code secrets} are the values no output may show.
 */
public record DaemonPlan(Connection database, List<Consumer> consumers, Set<String> secrets) {

    /** How to reach the database; {@code toString} masks the password. */
    public record Connection(String url, String user, String password, String schema) {
        @Override
        public String toString() {
            return new DaemonConfig.Database(url, user, password, schema).toString();
        }
    }

    /** One consumer to start. {@code batchSize} is null for the engine's default. */
    public record Consumer(String name, Integer batchSize, Integer parallelism, StartFrom startFrom, List<Table> tables) {
    }

    /**
     * A table and the object that receives its changes: a {@link dev.epidemic.api.ChangeHandler},
     * {@link dev.epidemic.api.BatchHandler} or {@link dev.epidemic.api.TransactionalHandler}, as {@code kind} says; with
     * its row filter ({@code where}, null: every row).
     */
    public record Table(String table, List<String> columns, String where, Kind kind, Object receiver, FailurePolicy policy) {
    }

    /** Which of the engine's handler interfaces a receiver is registered through. */
    public enum Kind { CHANGE, BATCH, TRANSACTIONAL }
}
