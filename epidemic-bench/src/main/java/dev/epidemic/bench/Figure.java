package dev.epidemic.bench;

import java.util.Arrays;
import java.util.List;

/** One measured quantity over several rounds: the median, and the spread as min and max, plus every round. */
public record Figure(double median, double min, double max, List<Double> rounds) {
    public static Figure of(List<Double> rounds) {
        double[] sorted = rounds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (sorted.length == 0) {
            return new Figure(Double.NaN, Double.NaN, Double.NaN, List.of());
        }
        // For an even count the lower middle: a figure that was actually measured, not an average of two.
        return new Figure(sorted[(sorted.length - 1) / 2], sorted[0], sorted[sorted.length - 1], List.copyOf(rounds));
    }

    /** This median over the other's: the comparisons are ratios of figures measured in the same run. */
    public double ratioTo(Figure other) {
        return median / other.median;
    }

    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    static long[] sortedCopy(long[] values) {
        long[] copy = values.clone();
        Arrays.sort(copy);
        return copy;
    }
}
