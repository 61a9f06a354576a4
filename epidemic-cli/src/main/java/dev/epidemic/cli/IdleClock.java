package dev.epidemic.cli;

/**
 * How long tail has had nothing new, for --idle-exit. A line printed resets it, and so does the engine
 * connecting: the time it takes to start (or to reconnect) is not time in which nothing came.
 */
final class IdleClock {
    private volatile long lastActivityNanos = System.nanoTime();

    void touch() {
        lastActivityNanos = System.nanoTime();
    }

    long idleNanos() {
        return System.nanoTime() - lastActivityNanos;
    }
}
