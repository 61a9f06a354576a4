package dev.epidemic.chaos;

/** The faults a run injects; HANDLER failures are injected by the consumer itself, at random. */
public enum Fault {
    /** SIGKILL of the consumer JVM, restarted at once under the same consumer name. */
    KILL_CONSUMER("kill -9 of the consumer"),
    /** Every connection of the consumer ended by the server: pg_terminate_backend, or MariaDB's KILL CONNECTION. */
    TERMINATE_BACKENDS("its connections killed (pg_terminate/KILL)"),
    /** The database server stopped and started again (only a server the harness owns). */
    RESTART_SERVER("restart of the database server"),
    /** SIGKILL of the backfill's JVM, restarted at once with the same arguments (it resumes). */
    KILL_BACKFILL("kill -9 of the backfill"),
    /** The handler throws (before or after writing); the change is retried. */
    HANDLER("handler throws");

    private final String description;

    Fault(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
