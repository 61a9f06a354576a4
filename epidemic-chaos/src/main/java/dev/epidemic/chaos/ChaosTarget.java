package dev.epidemic.chaos;

/**
 * The database server a chaos run writes to, and what the harness may do to it. Only a server the
 * harness owns may be restarted; a shared server is written to but never stopped.
 */
public interface ChaosTarget extends AutoCloseable {

    /** The JDBC URL of the run's own database, with the user in it. */
    String url();

    /** The schema Epidemic keeps its log in (on MariaDB the prefix of its tables in the run's database). */
    String logSchema();

    /** The SQL of this kind of database. */
    ChaosDialect dialect();

    /** True when {@link #restart()} may be called. */
    boolean canRestart();

    /** Stops the server and starts it again on the same data and port. */
    void restart() throws Exception;

    /** Removes what the run created (its database, or the whole server when the harness started it). */
    @Override
    void close();
}
