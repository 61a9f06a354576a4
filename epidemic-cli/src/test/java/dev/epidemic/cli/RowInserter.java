package dev.epidemic.cli;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/** Inserts one row into {@code items (id, v)} about every 5 ms, each in its own transaction, until closed. */
final class RowInserter implements AutoCloseable {
    final List<Integer> inserted = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;

    RowInserter(String url) {
        thread = new Thread(() -> {
            try (Connection c = DriverManager.getConnection(url);
                 PreparedStatement insert = c.prepareStatement("INSERT INTO items VALUES (?, 'x')")) {
                for (int id = 1; !stop.get(); id++) {
                    insert.setInt(1, id);
                    insert.executeUpdate();
                    inserted.add(id);
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "writer");
        thread.start();
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join();
    }
}
