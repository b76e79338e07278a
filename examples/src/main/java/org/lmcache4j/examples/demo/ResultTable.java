package org.lmcache4j.examples.demo;

import java.util.Locale;

/**
 * Renders the demo's results as a plain-text table with a verdict line. "retrieve" is the part of the
 * cached TTFT spent in the connector's lookup and retrieve; "raw" is the same bytes moved by plain means
 * in the same run (a copy for cpu hits, a read of the same chunk files for the disk hit, see
 * {@link RawBaseline}), and "vs raw" the ratio of the two.
 */
final class ResultTable {

    private ResultTable() {
    }

    static String render(DemoSummary s) {
        StringBuilder b = new StringBuilder();
        String header = String.format(Locale.ROOT, "%-24s %7s %7s %13s %11s %8s  %-5s %-3s %-6s %8s %9s %8s %7s",
                "scenario", "prompt", "cached", "TTFT no cache", "TTFT cache", "speedup", "hit", "kv", "tokens", "KV MiB",
                "retrieve", "raw", "vs raw");
        b.append(header).append('\n').append("-".repeat(header.length())).append('\n');
        for (ScenarioResult r : s.scenarios()) {
            b.append(String.format(Locale.ROOT, "%-24s %7d %7d %10.0f ms %8.0f ms %7.1fx  %-5s %-3s %-6s %8s %9s %8s %7s%n",
                    r.name(), r.promptTokens(), r.cachedTokens(), r.ttftMsNoCache(), r.ttftMsCache(), r.speedup(), r.hitTier(),
                    r.kvIdentical() ? "ok" : "NO", r.tokensIdentical() ? "ok" : "NO",
                    r.cachedTokens() > 0 ? String.format(Locale.ROOT, "%.1f", r.kvBytes() / (double) (1 << 20)) : "-",
                    r.cachedTokens() > 0 ? ms(r.retrieveMs()) : "-", r.cachedTokens() > 0 ? ms(r.raw().ms()) : "-",
                    Double.isFinite(r.retrieveVsRaw()) ? String.format(Locale.ROOT, "%.2fx", r.retrieveVsRaw()) : "-"));
        }
        for (ScenarioResult r : s.scenarios()) {
            if (r.raw().fromFiles()) {
                b.append(String.format(Locale.ROOT, "raw for %s: %s; page cache %s before each read%n", r.name(),
                        "a plain read of the same chunk files in the same process", r.raw().cacheState()));
            }
        }
        b.append(String.format(Locale.ROOT, "%nkv_identical=%b tokens_identical=%b logits_identical=%b   "
                        + "prefill %.0f tokens/s on %d threads   wall %.1f s%n",
                s.kvIdentical(), s.tokensIdentical(), s.logitsIdentical(), s.prefillTokensPerSecond(), s.threads(),
                s.wallSeconds()));
        return b.toString();
    }

    /** The RAG scenario's lines: four ways to run the same documents in a new order. */
    static String rag(RagResult r) {
        return String.format(Locale.ROOT, "%nrag (CacheBlend): %d documents cached on their own, reused in a new order, %,d-token prompt%n"
                        + "  no cache             TTFT %,8.0f ms%n"
                        + "  prefix caching       TTFT %,8.0f ms   reused %,d tokens (the documents moved)%n"
                        + "  blended, ratio %.2f  TTFT %,8.0f ms   reused %,d tokens; %.1fx vs no cache, %.1fx vs prefix caching;"
                        + " KL %.3g nats, first token %s%n"
                        + "  blended, ratio 1.0   TTFT %,8.0f ms   everything recomputed: KV, logits and tokens %s%n",
                r.documents(), r.promptTokens(), r.ttftMsNoCache(), r.ttftMsPrefix(), r.prefixCachedTokens(), r.ratio(),
                r.ttftMsBlend(), r.blendCachedTokens(), r.blendSpeedupVsNoCache(), r.blendSpeedupVsPrefix(), r.kl(),
                r.firstTokenAgrees() ? "the same" : "differs", r.ttftMsExact(),
                r.exactIdentical() ? "identical to no cache" : "NOT identical to no cache");
    }

    private static String ms(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, v < 10 ? "%.1f ms" : "%.0f ms", v) : "n/a";
    }
}
