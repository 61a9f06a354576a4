package dev.epidemic.chaos;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The replica is what a consumer applying its deliveries in order would hold: it finds a stale READ, a
 * lost row and a row that should be gone, and forgives a redelivered suffix and a line cut by a kill.
 */
class MaterializedReplicaTest {
    @TempDir
    Path dir;

    private static String line(long changeId, char op, long row, int version) {
        return changeId + "\t1\t" + op + "\t" + row + "\t" + version + "\t0\n";
    }

    @Test
    void readsInsertsUpdatesAndDeletesGiveTheTable() throws Exception {
        BackfillFigures figures = compare(Map.of(1L, 2, 3L, 1),
                line(1, 'R', 1, 1) + line(2, 'R', 2, 1) + line(3, 'U', 1, 2) + line(4, 'D', 2, 1) + line(5, 'I', 3, 1));
        assertThat(figures.replicaEqualsTable()).isTrue();
        assertThat(figures.reads()).isEqualTo(2);
    }

    @Test
    void aStaleReadAfterTheUpdateLeavesTheOldVersion() throws Exception {
        BackfillFigures figures = compare(Map.of(1L, 2), line(3, 'U', 1, 2) + line(1, 'R', 1, 1));
        assertThat(figures.stale()).isEqualTo(1);
        assertThat(figures.replicaEqualsTable()).isFalse();
    }

    @Test
    void aRowNeverReadIsMissingAndADeletedRowReadLateIsExtra() throws Exception {
        BackfillFigures figures = compare(Map.of(1L, 1), line(4, 'D', 2, 1) + line(2, 'R', 2, 1));
        assertThat(figures.missing()).isEqualTo(1);
        assertThat(figures.extra()).isEqualTo(1);
    }

    @Test
    void aTruncateEmptiesTheReplica() throws Exception {
        BackfillFigures figures = compare(Map.of(3L, 1), line(1, 'R', 1, 1) + "2\t1\tT\t\\N\t\\N\t0\n" + line(3, 'I', 3, 1));
        assertThat(figures.replicaEqualsTable()).isTrue();
    }

    @Test
    void aRedeliveredSuffixAndACutLineAreForgiven() throws Exception {
        String cut = line(4, 'U', 1, 3);
        BackfillFigures figures = compare(Map.of(1L, 2),
                line(1, 'R', 1, 1) + line(3, 'U', 1, 2) + cut.substring(0, cut.length() - 4),
                line(3, 'U', 1, 2));
        assertThat(figures.replicaEqualsTable()).isTrue();
    }

    private BackfillFigures compare(Map<Long, Integer> table, String... files) throws IOException {
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < files.length; i++) {
            paths.add(Files.writeString(dir.resolve("delivered-" + i + ".tsv"), files[i]));
        }
        return MaterializedReplica.of(paths).compareWith(table, 0, 1, 0, "", true, 0);
    }
}
