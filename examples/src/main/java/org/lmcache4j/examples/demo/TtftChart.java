package org.lmcache4j.examples.demo;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.imageio.ImageIO;

/**
 * Draws TTFT against prompt length as a PNG (headless AWT): a line through the uncached runs, cpu-tier
 * and disk-tier (new process) hits as marks labelled with their TTFT (hits of different scenarios still
 * compute tails of different lengths, so they are not joined by a line), and the cached runs that missed
 * as hollow marks.
 */
final class TtftChart {

    private static final int W = 960;
    private static final int H = 600;
    private static final int LEFT = 90;
    private static final int RIGHT = 40;
    private static final int TOP = 70;
    private static final int BOTTOM = 70;
    private static final Color NO_CACHE = new Color(0xD6, 0x45, 0x3D);
    private static final Color CACHE = new Color(0x1F, 0x77, 0xB4);
    private static final Color DISK = new Color(0x2C, 0xA0, 0x2C);

    private TtftChart() {
    }

    private record Point(double x, double y, String label) {
    }

    static void write(DemoSummary s, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Point> plain = new ArrayList<>();
        List<Point> hits = new ArrayList<>();
        List<Point> diskHits = new ArrayList<>();
        List<Point> misses = new ArrayList<>();
        for (ScenarioResult r : s.scenarios()) {
            if (!Double.isFinite(r.ttftMsCache())) {
                continue;
            }
            plain.add(new Point(r.promptTokens(), r.ttftMsNoCache(), ""));
            Point p = new Point(r.promptTokens(), r.ttftMsCache(), r.hitTier());
            (r.cachedTokens() == 0 ? misses : r.hitTier().contains("disk") ? diskHits : hits).add(p);
        }
        double maxX = niceCeil(s.scenarios().stream().mapToDouble(ScenarioResult::promptTokens).max().orElse(1));
        double maxY = niceCeil(s.scenarios().stream().filter(r -> Double.isFinite(r.ttftMsCache()))
                .mapToDouble(r -> Math.max(r.ttftMsNoCache(), r.ttftMsCache())).max().orElse(1));

        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            axes(g, maxX, maxY);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            g.setColor(Color.BLACK);
            g.drawString("Time to first token vs prompt length", LEFT, 30);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString(String.format(Locale.ROOT, "%s (seeded random weights), %d threads, lmcache4j cpu + disk tiers, %d-token chunks",
                    s.model(), s.threads(), s.chunkTokens()), LEFT, 50);
            series(g, averaged(plain), NO_CACHE, maxX, maxY);
            marks(g, plain, NO_CACHE, true, false, List.of(), maxX, maxY);
            marks(g, hits, CACHE, true, true, diskHits, maxX, maxY);
            marks(g, diskHits, DISK, true, true, hits, maxX, maxY);
            marks(g, misses, CACHE, false, false, List.of(), maxX, maxY);
            legend(g);
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private static void axes(Graphics2D g, double maxX, double maxY) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int i = 0; i <= 5; i++) {
            int y = py(maxY * i / 5, maxY);
            int x = px(maxX * i / 5, maxX);
            g.setColor(new Color(0xE6, 0xE6, 0xE6));
            g.drawLine(LEFT, y, W - RIGHT, y);
            g.drawLine(x, TOP, x, H - BOTTOM);
            g.setColor(Color.DARK_GRAY);
            String yl = String.format(Locale.ROOT, "%,.0f", maxY * i / 5);
            g.drawString(yl, LEFT - 8 - g.getFontMetrics().stringWidth(yl), y + 4);
            String xl = String.format(Locale.ROOT, "%,.0f", maxX * i / 5);
            g.drawString(xl, x - g.getFontMetrics().stringWidth(xl) / 2, H - BOTTOM + 18);
        }
        g.setColor(Color.BLACK);
        g.drawLine(LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM);
        g.drawLine(LEFT, TOP, LEFT, H - BOTTOM);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        g.drawString("prompt tokens", (LEFT + W - RIGHT) / 2 - 45, H - 25);
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString("TTFT (ms)", -(TOP + H - BOTTOM) / 2 - 30, 28);
        rotated.dispose();
    }

    private static List<Point> averaged(List<Point> points) {
        Map<Double, double[]> byX = new TreeMap<>();
        for (Point p : points) {
            double[] acc = byX.computeIfAbsent(p.x(), k -> new double[2]);
            acc[0] += p.y();
            acc[1]++;
        }
        List<Point> out = new ArrayList<>();
        byX.forEach((x, acc) -> out.add(new Point(x, acc[0] / acc[1], "")));
        return out;
    }

    private static void series(Graphics2D g, List<Point> points, Color color, double maxX, double maxY) {
        g.setColor(color);
        g.setStroke(new BasicStroke(2.5f));
        for (int i = 1; i < points.size(); i++) {
            g.drawLine(px(points.get(i - 1).x(), maxX), py(points.get(i - 1).y(), maxY),
                    px(points.get(i).x(), maxX), py(points.get(i).y(), maxY));
        }
        g.setStroke(new BasicStroke(1f));
    }

    /** Draws marks; a label goes below its mark when a labelled mark of {@code others} at the same length is higher. */
    private static void marks(Graphics2D g, List<Point> points, Color color, boolean filled, boolean labels, List<Point> others,
                              double maxX, double maxY) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        Set<String> labelled = new HashSet<>();
        for (Point p : points) {
            int x = px(p.x(), maxX);
            int y = py(p.y(), maxY);
            g.setColor(color);
            if (filled) {
                g.fillOval(x - 5, y - 5, 10, 10);
            } else {
                g.setStroke(new BasicStroke(2f));
                g.drawOval(x - 6, y - 6, 12, 12);
                g.setStroke(new BasicStroke(1f));
            }
            if (labels && labelled.add(p.x() + " " + p.label().split(" ")[0])) { // once per length and tier
                String text = String.format(Locale.ROOT, "%,.0f ms", p.y());
                int width = g.getFontMetrics().stringWidth(text);
                boolean below = others.stream().anyMatch(o -> o.x() == p.x() && o.y() > p.y());
                g.drawString(text, x + 8 + width > W - 4 ? x - 8 - width : x + 8, below ? y + 18 : y - 8);
            }
        }
    }

    private static void legend(Graphics2D g) {
        int x = LEFT + 20;
        int y = TOP + 20;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        String[] text = {"without cache (full prefill)", "with cache, cpu-tier hit (computes only the uncached tail)",
            "with cache, disk-tier hit in a new process", "with cache, miss (first time a prefix is seen)"};
        Color[] colors = {NO_CACHE, CACHE, DISK, CACHE};
        for (int i = 0; i < text.length; i++) {
            int row = y + 20 * i;
            g.setColor(colors[i]);
            if (i < 3) {
                g.fillOval(x, row - 9, 10, 10);
            } else {
                g.setStroke(new BasicStroke(2f));
                g.drawOval(x - 1, row - 10, 12, 12);
                g.setStroke(new BasicStroke(1f));
            }
            g.setColor(Color.BLACK);
            g.drawString(text[i], x + 18, row);
        }
    }

    private static int px(double x, double maxX) {
        return LEFT + (int) Math.round(x / maxX * (W - LEFT - RIGHT));
    }

    private static int py(double y, double maxY) {
        return H - BOTTOM - (int) Math.round(y / maxY * (H - TOP - BOTTOM));
    }

    /** The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k at or above {@code v}. */
    static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1e-9))));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
