package dev.epidemic.chaos;

/** The faults a run injects; HANDLER failures are injected by the consumer itself, at random. */
public enum Fault {
    /** SIGKILL of the consumer JVM, restarted at once under the same consumer name. */
    KILL_CONSUMER("kill -9 of the consumer"),
    /** pg_terminate_backend of every connection of the consumer. */
    TERMINATE_BACKENDS("pg_terminate_backend of its connections"),
    /** The database server stopped and started again. */
    RESTART_SERVER("restart of the PostgreSQL server"),
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
