package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.Dialect;

import java.sql.Connection;

/**
 * MariaDB has no NOTIFY: nothing wakes an idle dispatcher, which sleeps instead, its waits growing from
 * milliseconds to its idle-poll bound.
 */
final class Polling implements Dialect.WakeUpSource {

    @Override
    public void request(Connection listener, String consumer) {
    }

    @Override
    public void cancel(Connection listener, String consumer) {
    }

    @Override
    public void listen(Connection connection) {
    }

    /** Sleeps for {@code millis}: no wake-up ever comes. */
    @Override
    public boolean await(Connection connection, int millis) {
        try {
            Thread.sleep(Math.max(1, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }
}
