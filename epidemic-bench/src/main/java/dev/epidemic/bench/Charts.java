package dev.epidemic.bench;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;

/** PNG charts of a run: a latency CDF per rate (every system on it), drain and writer throughput bars. */
final class Charts {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 520;

    private Charts() {
    }

    static void write(Results results, Rounds rounds, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Integer> rates = results.latency().stream().map(Results.LatencyRow::rate).filter(r -> r > 0).distinct().toList();
        for (int rate : rates) {
            latencyCdf(results, rounds, rate, dir.resolve("latency-cdf-" + rate + ".png"));
        }
        if (!results.drain().isEmpty()) {
            drainBars(results, dir.resolve("drain-throughput.png"));
        }
        if (!results.writer().isEmpty()) {
            writerBars(results, dir.resolve("writer-tps.png"));
        }
    }

    private static void latencyCdf(Results results, Rounds rounds, int rate, Path file) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Results.LatencyRow row : results.latency()) {
            if (row.rate() != rate && row.rate() != 0) {
                continue;
            }
            long[] sorted = rounds.samples("latency|" + row.system() + "|" + row.rate());
            XYSeries series = new XYSeries(row.rate() == 0 ? row.system() + " (floor)" : row.system(), false);
            int points = Math.min(sorted.length, 400);
            for (int p = 0; p < points; p++) {
                int index = (int) Math.min(sorted.length - 1, Math.round((p + 1) * (double) sorted.length / points) - 1);
                // A log axis cannot show 0: anything under 10 µs is drawn at 10 µs.
                series.add(Math.max(0.01, sorted[index] / 1000.0), (index + 1) / (double) sorted.length);
            }
            data.addSeries(series);
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Commit-to-handler latency at " + rate + " changes/s (CDF, all rounds)",
                "latency, ms (log scale)", "fraction of changes delivered", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("latency, ms (log scale)");
        x.setNumberFormatOverride(new DecimalFormat("#,##0.##"));
        plot.setDomainAxis(x);
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1.0);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
    }

    private static void drainBars(Results results, Path file) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Results.DrainRow row : results.drain()) {
            data.addValue(row.changesPerSecond().median(), "changes/s (median)", row.system());
        }
        JFreeChart chart = ChartFactory.createBarChart(String.format("Drain of a %,d-change backlog", results.drain().get(0).changes()),
                null, "changes/s", data, PlotOrientation.HORIZONTAL, false, false, false);
        style(chart.getCategoryPlot());
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, 360);
    }

    private static void writerBars(Results results, Path file) throws IOException {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (Results.WriterRow row : results.writer()) {
            String category = row.operation() + " " + row.clients() + (row.clients() == 1 ? " client" : " clients") + " " + row.load();
            data.addValue(row.withoutCapture().median(), "without capture", category);
            data.addValue(row.withCapture().median(), "with Epidemic's capture", category);
            if (row.withRowTrigger() != null) {
                data.addValue(row.withRowTrigger().median(), "with a plain row trigger", category);
            }
        }
        JFreeChart chart = ChartFactory.createBarChart("Writer TPS, single-row transactions (median)", null, "transactions/s", data,
                PlotOrientation.VERTICAL, true, false, false);
        style(chart.getCategoryPlot());
        chart.getCategoryPlot().getDomainAxis().setMaximumCategoryLabelLines(3);
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
    }

    private static void style(CategoryPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("#,##0")));
        renderer.setDefaultItemLabelsVisible(true);
    }
}
