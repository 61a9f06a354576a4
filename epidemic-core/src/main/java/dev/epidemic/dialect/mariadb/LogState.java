package dev.epidemic.dialect.mariadb;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * How far a consumer has read the log, in the text form kept in {@code Position}: every id up to
 * {@code highWater} has been handed over, except the {@code gaps}.
 *
 * <p>A gap is a run of ids that were missing when a later id was already committed: the transactions
 * that took them may still be running (the A/B race of DESIGN.md) or may have rolled back. Gaps are kept
 * as runs, not single ids: a bulk statement still running or rolled back leaves thousands of consecutive
 * missing ids, and as single ids they made the window query's id list so long that MariaDB gave up range
 * access and scanned the whole log on every read.
 *
 * <p>Each gap carries {@code bound}, a transaction id taken after the gap was first seen, so every
 * transaction that can hold one of its ids has a smaller one (0: not measured yet), and {@code ended}: a
 * later check saw no transaction below the bound still running. The ids of a gap that has ended and are
 * still missing in a read made after that check can never fill, and are dropped. Nothing is ever dropped
 * on a timeout.
 *
 * <p>Text form: {@code highWater;from[-to]/bound[!],...}, for example {@code 120;97/5012!,110-118/0}.
 */
record LogState(long highWater, List<Gap> gaps) {

    /** The missing ids {@code from..to}, both included. */
    record Gap(long from, long to, long bound, boolean ended) {
        Gap {
            if (to < from) {
                throw new IllegalArgumentException("empty gap " + from + "-" + to);
            }
        }

        /** What is left of this gap without the {@code present} ids, as runs with the same bound. */
        List<Gap> without(NavigableSet<Long> present) {
            List<Gap> left = new ArrayList<>();
            long next = from;
            for (long id : present.subSet(from, true, to, true)) {
                if (id > next) {
                    left.add(new Gap(next, id - 1, bound, ended));
                }
                next = id + 1;
            }
            if (next <= to) {
                left.add(new Gap(next, to, bound, ended));
            }
            return left;
        }
    }

    LogState {
        gaps = gaps.stream().sorted(Comparator.comparingLong(Gap::from)).toList();
    }

    static LogState parse(String text) {
        Objects.requireNonNull(text, "log state");
        int semi = text.indexOf(';');
        long highWater = Long.parseLong(text.substring(0, semi < 0 ? text.length() : semi));
        List<Gap> gaps = new ArrayList<>();
        if (semi >= 0 && semi + 1 < text.length()) {
            for (String entry : text.substring(semi + 1).split(",")) {
                boolean ended = entry.endsWith("!");
                String body = ended ? entry.substring(0, entry.length() - 1) : entry;
                int slash = body.indexOf('/');
                String ids = body.substring(0, slash);
                int dash = ids.indexOf('-');
                long from = Long.parseLong(dash < 0 ? ids : ids.substring(0, dash));
                long to = dash < 0 ? from : Long.parseLong(ids.substring(dash + 1));
                gaps.add(new Gap(from, to, Long.parseLong(body.substring(slash + 1)), ended));
            }
        }
        return new LogState(highWater, gaps);
    }

    String text() {
        StringBuilder sb = new StringBuilder().append(highWater).append(';');
        for (int i = 0; i < gaps.size(); i++) {
            Gap g = gaps.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append(g.from);
            if (g.to != g.from) {
                sb.append('-').append(g.to);
            }
            sb.append('/').append(g.bound).append(g.ended ? "!" : "");
        }
        return sb.toString();
    }

    /**
     * An SQL condition true for the ids of the gaps ({@code FALSE} when there are none): one range per
     * gap, which MariaDB's range optimizer turns into index ranges. MariaDB evaluates such a condition
     * term by term on every row it reads, so it belongs only on queries that read few rows outside it.
     */
    String gapCondition(String column) {
        return condition(column, gaps);
    }

    static String condition(String column, List<Gap> ranges) {
        if (ranges.isEmpty()) {
            return "FALSE";
        }
        return ranges.stream()
                .map(g -> g.from == g.to ? column + " = " + g.from : column + " BETWEEN " + g.from + " AND " + g.to)
                .collect(Collectors.joining(" OR ", "(", ")"));
    }

    /** Whether {@code id} is in one of the gaps (a binary search: gaps are kept in id order). */
    boolean inGap(long id) {
        int low = 0;
        int high = gaps.size() - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            Gap g = gaps.get(middle);
            if (id < g.from) {
                high = middle - 1;
            } else if (id > g.to) {
                low = middle + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** The ids in this state's gaps that are not in {@code later}'s: the gaps that filled (or died) since. */
    List<Gap> gapsClosedBy(LogState later) {
        List<Gap> closed = new ArrayList<>();
        int j = 0;
        List<Gap> open = later.gaps;
        for (Gap gap : gaps) {
            long next = gap.from;
            while (j < open.size() && open.get(j).to < gap.from) {
                j++;
            }
            for (int k = j; k < open.size() && open.get(k).from <= gap.to; k++) {
                Gap still = open.get(k);
                if (still.from > next) {
                    closed.add(new Gap(next, still.from - 1, gap.bound, gap.ended));
                }
                next = Math.max(next, still.to + 1);
            }
            if (next <= gap.to) {
                closed.add(new Gap(next, gap.to, gap.bound, gap.ended));
            }
        }
        return closed;
    }

    /** The gaps with an id in {@code from..to}. */
    List<Gap> gapsWithin(long from, long to) {
        return gaps.stream().filter(g -> g.to >= from && g.from <= to).toList();
    }

    /** The lowest id in a gap, or {@code highWater + 1} when there is none. */
    long lowestGapId() {
        return gaps.isEmpty() ? highWater + 1 : gaps.get(0).from; // gaps are kept in id order
    }
}
