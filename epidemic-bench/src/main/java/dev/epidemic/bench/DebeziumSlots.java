package dev.epidemic.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The logical-replication side of the Debezium runs: checks wal_level, creates a uniquely named slot per
 * run and drops it afterwards (a forgotten slot makes the server keep WAL forever), and drops the
 * inactive slots of earlier benchmark processes that died before they could.
 */
final class DebeziumSlots {
    private static final String PREFIX = "epidemic_bench_";

    private final PgUrl db;
    private final Set<String> created = new LinkedHashSet<>();
    private int counter;

    DebeziumSlots(PgUrl db) {
        this.db = db;
        Runtime.getRuntime().addShutdownHook(new Thread(this::dropAll, "drop-bench-slots"));
    }

    /**
     * Makes sure the server decodes logically. Only the full run may change the server: it sets
     * wal_level=logical and restarts the local cluster, and says so; the smoke run never touches a
     * server's configuration and fails instead (its caller picks a server that is ready).
     */
    static void ensureLogical(PgUrl db, boolean mayRestart) throws Exception {
        String level = db.queryString("SHOW wal_level");
        if ("logical".equals(level)) {
            return;
        }
        if (!mayRestart || !db.isLocal()) {
            throw new IllegalStateException("wal_level is " + level + " on " + db.host() + ":" + db.port()
                    + "; Debezium needs logical" + (mayRestart ? " (only the local server is reconfigured)" : " (the smoke run never reconfigures a server)"));
        }
        System.out.println("NOTE: wal_level is " + level + "; running ALTER SYSTEM SET wal_level = logical and restarting the local server"
                + " (pg_ctlcluster --skip-systemctl-redirect 15 main restart)");
        db.exec("ALTER SYSTEM SET wal_level = logical");
        Process p = new ProcessBuilder("pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart").inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("pg_ctlcluster restart failed with exit " + p.exitValue());
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                if ("logical".equals(db.queryString("SHOW wal_level"))) {
                    return;
                }
                throw new IllegalStateException("wal_level is still not logical after the restart");
            } catch (SQLException notYet) {
                if (System.nanoTime() > until) {
                    throw notYet;
                }
                Thread.sleep(500);
            }
        }
    }

    /** A new slot, named after this process so that a later run can tell it was orphaned. */
    String create() throws SQLException {
        String name = PREFIX + ProcessHandle.current().pid() + "_" + (++counter);
        db.exec("SELECT pg_create_logical_replication_slot('" + name + "', 'pgoutput')");
        created.add(name);
        return name;
    }

    /** Drops the slot, waiting for the walsender of a consumer that just stopped to let go of it. */
    void drop(String name) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                st.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + name + "'");
                created.remove(name);
                return;
            } catch (SQLException active) {
                if (System.nanoTime() > until) {
                    throw active;
                }
                Thread.sleep(200);
            }
        }
    }

    void dropAll() {
        for (String name : List.copyOf(created)) {
            try {
                drop(name);
            } catch (Exception e) {
                System.err.println("could not drop replication slot " + name + ": " + e.getMessage());
            }
        }
    }

    /** Inactive slots of benchmark processes that are gone: nobody will ever drop them otherwise. */
    void dropOrphans() throws SQLException {
        List<String> orphans = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE '" + PREFIX + "%' AND NOT active")) {
            while (rs.next()) {
                String[] parts = rs.getString(1).substring(PREFIX.length()).split("_");
                long pid = Long.parseLong(parts[0]);
                if (ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                    orphans.add(rs.getString(1));
                }
            }
        }
        for (String name : orphans) {
            System.out.println("NOTE: dropping replication slot " + name + " left behind by an earlier benchmark run");
            db.exec("SELECT pg_drop_replication_slot('" + name + "')");
        }
    }
}
