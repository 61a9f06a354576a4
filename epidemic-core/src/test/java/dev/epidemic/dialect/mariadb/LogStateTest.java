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

    @Test
    void gapsClosedByALaterStateAreWhatFilledOrDiedSince() {
        LogState earlier = LogState.parse("100;5/1,10-20/2,30-40/3!,50/0");
        LogState later = LogState.parse("200;12-14/2,18/2,35-45/3,50/0,150-160/9");
        assertThat(earlier.gapsClosedBy(later)).containsExactly(
                new Gap(5, 5, 1, false), new Gap(10, 11, 2, false), new Gap(15, 17, 2, false), new Gap(19, 20, 2, false),
                new Gap(30, 34, 3, true));
        assertThat(later.gapsClosedBy(later)).isEmpty();
        assertThat(earlier.gapsClosedBy(LogState.parse("200;"))).isEqualTo(earlier.gaps());
    }

    @Test
    void findsAnIdInTheGapsWhateverOrderTheyCameIn() {
        LogState state = new LogState(100, List.of(new Gap(50, 60, 0, false), new Gap(7, 7, 0, false), new Gap(20, 29, 0, false)));
        assertThat(state.gaps()).extracting(Gap::from).containsExactly(7L, 20L, 50L);
        assertThat(List.of(7L, 20L, 25L, 29L, 50L, 60L)).allMatch(state::inGap);
        assertThat(List.of(1L, 6L, 8L, 19L, 30L, 49L, 61L, 100L)).noneMatch(state::inGap);
        assertThat(state.gapsWithin(25, 55)).containsExactly(new Gap(20, 29, 0, false), new Gap(50, 60, 0, false));
        assertThat(LogState.parse("9;").inGap(3)).isFalse();
    }
}
