package org.lmcache4j.bench.workload;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.lmcache4j.storage.admin.Json;

/** Writes benchmark results: a text table, JSON, and a PNG bar chart of TTFT with and without cache. */
public final class BenchReport {

    private BenchReport() {
    }

    /** One workload run with and without the cache. */
    public record Pair(WorkloadRunner.Result cache, WorkloadRunner.Result noCache) {

        public double ttftSpeedup() {
            return noCache.meanTtftMs() / cache.meanTtftMs();
        }
    }

    public static String table(List<Pair> pairs) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-18s %8s %10s %10s %10s %10s %10s %9s %8s  %s%n", "workload", "requests", "hit tok %",
                "p50 ms", "p90 ms", "p99 ms", "p50 no$", "speedup", "req/s", "hits by tier"));
        for (Pair p : pairs) {
            WorkloadRunner.Result c = p.cache();
            sb.append(String.format(Locale.ROOT, "%-18s %8d %9.1f%% %10.1f %10.1f %10.1f %10.1f %8.2fx %8.2f  %s%n", c.name(),
                    c.requests(), 100.0 * c.hitTokens() / Math.max(1, c.promptTokens()), c.ttftPercentileMs(50),
                    c.ttftPercentileMs(90), c.ttftPercentileMs(99), p.noCache().ttftPercentileMs(50), p.ttftSpeedup(),
                    c.requestsPerSecond(), c.hitTokensByTier()));
        }
        return sb.toString();
    }

    /** A JSON value: maps, lists, strings, numbers, booleans, double arrays. */
    public static String json(Object v) {
        StringBuilder sb = new StringBuilder();
        write(sb, v, "");
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object v, String indent) {
        switch (v) {
            case null -> sb.append("null");
            case String s -> Json.quote(sb, s);
            case Double d -> sb.append(d.isNaN() || d.isInfinite() ? "null" : d.toString());
            case Number n -> sb.append(n);
            case Boolean b -> sb.append(b);
            case double[] a -> {
                sb.append('[');
                for (int i = 0; i < a.length; i++) {
                    sb.append(i > 0 ? "," : "").append(WorkloadRunner.round(a[i]));
                }
                sb.append(']');
            }
            case Map<?, ?> m -> {
                sb.append("{");
                String inner = indent + "  ";
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    sb.append(first ? "\n" : ",\n").append(inner).append('"').append(e.getKey()).append("\": ");
                    write(sb, e.getValue(), inner);
                    first = false;
                }
                sb.append(first ? "}" : "\n" + indent + "}");
            }
            case List<?> l -> {
                sb.append("[");
                String inner = indent + "  ";
                for (int i = 0; i < l.size(); i++) {
                    sb.append(i > 0 ? ",\n" : "\n").append(inner);
                    write(sb, l.get(i), inner);
                }
                sb.append(l.isEmpty() ? "]" : "\n" + indent + "]");
            }
            default -> write(sb, v.toString(), indent);
        }
    }

    /** Grouped bars of p50 TTFT per workload, with and without cache. */
    public static void chart(List<Pair> pairs, String title, Path png) throws IOException {
        int w = 900;
        int h = 480;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, 20, 28);
            int left = 70;
            int bottom = h - 70;
            int top = 60;
            double max = pairs.stream().mapToDouble(p -> Math.max(p.noCache().ttftPercentileMs(50), p.cache().ttftPercentileMs(50)))
                    .max().orElse(1);
            g.setStroke(new BasicStroke(1));
            g.drawLine(left, top, left, bottom);
            g.drawLine(left, bottom, w - 20, bottom);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int i = 0; i <= 4; i++) {
                int y = bottom - (bottom - top) * i / 4;
                g.setColor(new Color(220, 220, 220));
                g.drawLine(left + 1, y, w - 20, y);
                g.setColor(Color.DARK_GRAY);
                g.drawString(String.format(Locale.ROOT, "%.0f", max * i / 4), 10, y + 4);
            }
            g.drawString("p50 TTFT (ms)", 10, top - 10);
            int groups = Math.max(1, pairs.size());
            int groupWidth = (w - 20 - left) / groups;
            for (int i = 0; i < pairs.size(); i++) {
                Pair p = pairs.get(i);
                int x = left + i * groupWidth + groupWidth / 6;
                int bar = groupWidth / 3;
                bar(g, x, bar, bottom, top, p.noCache().ttftPercentileMs(50) / max, new Color(200, 80, 60));
                bar(g, x + bar, bar, bottom, top, p.cache().ttftPercentileMs(50) / max, new Color(60, 120, 200));
                g.setColor(Color.BLACK);
                g.drawString(p.cache().name(), x, bottom + 18);
                g.drawString(String.format(Locale.ROOT, "mean %.1fx faster", p.ttftSpeedup()), x, bottom + 34);
            }
            g.setColor(new Color(200, 80, 60));
            g.fillRect(w - 220, 40, 12, 12);
            g.setColor(new Color(60, 120, 200));
            g.fillRect(w - 120, 40, 12, 12);
            g.setColor(Color.BLACK);
            g.drawString("no cache", w - 202, 51);
            g.drawString("lmcache4j", w - 102, 51);
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ImageIO.write(img, "png", png.toFile());
    }

    private static void bar(Graphics2D g, int x, int width, int bottom, int top, double fraction, Color c) {
        int height = (int) Math.round((bottom - top) * Math.min(1, fraction));
        g.setColor(c);
        g.fillRect(x, bottom - height, width - 4, height);
    }
}
