package dev.epidemic.dialect.mariadb;

import dev.epidemic.dialect.mariadb.LogState.Gap;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The MariaDB consumer's position: a high-water mark and runs of missing ids. */
class LogStateTest {
    @Test
    void textRoundTripsAndReadsSingleIdGapsOfEarlierVersions() {
        LogState state = LogState.parse("120;97/5012!,110-118/0");
        assertThat(state.highWater()).isEqualTo(120);
        assertThat(state.gaps()).containsExactly(new Gap(97, 97, 5012, true), new Gap(110, 118, 0, false));
        assertThat(state.text()).isEqualTo("120;97/5012!,110-118/0");
        assertThat(LogState.parse("7;").gaps()).isEmpty();
        assertThat(LogState.parse("7").text()).isEqualTo("7;");
    }

    @Test
    void aGapLosesTheIdsThatFilledAndKeepsItsBound() {
        Gap gap = new Gap(10, 20, 77, false);
        assertThat(gap.without(new TreeSet<>(List.of(5L, 10L, 14L, 15L, 20L, 30L))))
                .containsExactly(new Gap(11, 13, 77, false), new Gap(16, 19, 77, false));
        assertThat(gap.without(new TreeSet<>())).containsExactly(gap);
        assertThat(new Gap(3, 3, 0, false).without(new TreeSet<>(List.of(3L)))).isEmpty();
    }

    @Test
    void gapConditionIsOneRangePerGap() {
        assertThat(LogState.parse("50;").gapCondition("l.id")).isEqualTo("FALSE");
        assertThat(LogState.parse("50;7/0,10-40/3").gapCondition("l.id")).isEqualTo("(l.id = 7 OR l.id BETWEEN 10 AND 40)");
        assertThat(LogState.parse("50;7/0,10-40/3").lowestGapId()).isEqualTo(7);
        assertThat(LogState.parse("50;").lowestGapId()).isEqualTo(51);
    }
}
