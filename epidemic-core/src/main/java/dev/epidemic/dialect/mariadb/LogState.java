package dev.epidemic.dialect.mariadb;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How far a consumer has read the log, in the text form kept in {@code Position}: every id up to
 * {@code highWater} has been handed over, except the {@code gaps}.
 *
 * <p>A gap is an id that was missing when a later id was already committed: the transaction that took
 * it may still be running (the A/B race of DESIGN.md) or may have rolled back. Each gap carries
 * {@code bound}, a transaction id taken after the gap was first seen, so every transaction that can hold
 * the id has a smaller one (0: not measured yet), and {@code ended}: a later check saw no transaction
 * below the bound still running. A gap that has ended and is still missing in a read made after that
 * check can never fill, and is dropped. Nothing is ever dropped on a timeout.
 *
 * <p>Text form: {@code highWater;id/bound[!],...}, for example {@code 120;97/5012!,118/0}.
 */
record LogState(long highWater, List<Gap> gaps) {

    /** One missing id. */
    record Gap(long id, long bound, boolean ended) {
    }

    LogState {
        gaps = List.copyOf(gaps);
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
                gaps.add(new Gap(Long.parseLong(body.substring(0, slash)), Long.parseLong(body.substring(slash + 1)), ended));
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
            sb.append(g.id).append('/').append(g.bound).append(g.ended ? "!" : "");
        }
        return sb.toString();
    }

    List<Long> gapIds() {
        return gaps.stream().map(Gap::id).toList();
    }

    /** Whether {@code id} was handed over (or can never commit) in this state. */
    boolean passed(long id) {
        return id <= highWater && gaps.stream().noneMatch(g -> g.id == id);
    }
}
